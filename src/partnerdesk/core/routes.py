"""A route class for the hottest API routes: their arguments are taken straight from the request.

FastAPI solves an endpoint's parameters and dependencies on every request by walking the route's
dependency tree (`solve_dependencies`), which is generic and costs about a tenth of a checkout's
CPU. A `DirectRoute` works out once, when the app is built, how each argument is obtained, and
then only reads path parameters, passes the `Request` and awaits `RequestDependency` objects.

It stays an ordinary `APIRoute` for everything else: the OpenAPI document, the role matrix (which
reads the route's dependencies), error handling and the middleware are unchanged. A route that
declares anything a `DirectRoute` cannot provide (a query, header or body parameter, another kind
of dependency, a sync endpoint, a dependency added by the router that includes it) is refused when
its handler is built, never served half-solved: when the route is declared, or, for what an
inclusion adds, at the first request (FastAPI builds an included route's handler then), which then
fails as every later one does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


class RequestDependency:
    """A dependency whose value comes from the request alone: `async def __call__(self, request)`.

    Subclasses keep their ordinary FastAPI use (`Depends(instance)`) and can also be solved by a
    `DirectRoute`.
    """

    async def __call__(self, request: Request) -> Any:  # pragma: no cover - the subclasses' own
        raise NotImplementedError


@dataclass(frozen=True)
class _Arguments:
    """How a `DirectRoute` builds its endpoint's arguments, worked out once per route."""

    path: tuple[tuple[str, str], ...]  # (argument name, path parameter name)
    request: str | None
    dependencies: tuple[tuple[str, RequestDependency], ...]

    async def of(self, request: Request) -> dict[str, Any]:
        path_params = request.path_params
        arguments: dict[str, Any] = {name: path_params[alias] for name, alias in self.path}
        if self.request is not None:
            arguments[self.request] = request
        for name, dependency in self.dependencies:
            arguments[name] = await dependency(request)
        return arguments


# What a DirectRoute's endpoint may not declare; its dependencies may not declare path parameters either.
_UNFILLED_PARAMETERS = ("query_params", "header_params", "cookie_params", "body_params")


def _refuse(dependant: Dependant, reason: str) -> TypeError:
    return TypeError(f"{dependant.path or dependant.call}: a DirectRoute cannot serve this route: {reason}")


def _arguments_of(dependant: Dependant) -> _Arguments:
    for kind in _UNFILLED_PARAMETERS:
        if getattr(dependant, kind):
            raise _refuse(dependant, f"it declares {kind.replace('_', ' ')}")
    if dependant.websocket_param_name or dependant.response_param_name or dependant.background_tasks_param_name:
        raise _refuse(dependant, "it asks for a websocket, response or background tasks")
    dependencies = []
    for dependency in dependant.dependencies:
        if not isinstance(dependency.call, RequestDependency) or dependency.name is None:
            raise _refuse(dependant, f"its dependency {dependency.call!r} is not a named RequestDependency")
        if any(getattr(dependency, kind) for kind in ("dependencies", "path_params", *_UNFILLED_PARAMETERS)):
            raise _refuse(dependant, f"its dependency {dependency.call!r} takes more than the request")
        dependencies.append((dependency.name, dependency.call))
    return _Arguments(path=tuple((field.name, field.alias) for field in dependant.path_params),
                      request=dependant.request_param_name, dependencies=tuple(dependencies))


class DirectRoute(APIRoute):
    """An `APIRoute` for an `async def` endpoint that returns a `Response` itself (see the module)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant = _included_dependant(self)
        endpoint = dependant.call
        if endpoint is None or not inspect.iscoroutinefunction(endpoint):
            raise _refuse(dependant, "its endpoint is not an async function")
        arguments = _arguments_of(dependant)

        async def handle(request: Request) -> Response:
            response = await endpoint(**await arguments.of(request))
            if not isinstance(response, Response):
                raise TypeError(f"{endpoint.__qualname__} must return a Response on a DirectRoute")
            return response

        return handle


def _included_dependant(route: APIRoute) -> Dependant:
    """The dependant of `route` as the app includes it: FastAPI builds an included route's handler
    under a context naming that inclusion (its prefix, its router's dependencies)."""
    context = fastapi_routing._effective_route_context_var.get()  # FastAPI is pinned: see pyproject.toml
    if context is not None and context.original_route is route:
        return context.dependant
    return route.dependant


def direct_post(router: fastapi_routing.APIRouter, path: str, **options: Any) -> Callable:
    """`@router.post(path, ...)` for a `DirectRoute` (FastAPI's decorators take no route class)."""

    def register(endpoint: Callable) -> Callable:
        router.add_api_route(path, endpoint, methods=["POST"], route_class_override=DirectRoute, **options)
        return endpoint

    return register
