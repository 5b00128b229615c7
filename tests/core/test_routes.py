"""DirectRoute (core.routes): the hot routes' arguments come straight from the request, and a route
declaring anything it could not provide is refused when the app is built, never served half-solved."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from partnerdesk.core.routes import RequestDependency, direct_post


class CallerName(RequestDependency):
    """Stands for the hot routes' write guard: the caller, from a header; no header, 401."""

    async def __call__(self, request: Request) -> str:
        name = request.headers.get("x-caller")
        if not name:
            raise HTTPException(status_code=401, detail="who are you?")
        return name


def _app(router: APIRouter, **include: object) -> FastAPI:
    app = FastAPI()
    app.include_router(router, **include)
    return app


def test_arguments_come_from_the_path_the_request_and_the_dependency() -> None:
    router = APIRouter(prefix="/v1/customers/{customerId}")

    @direct_post(router, "/carts/{cartId}/checkout", status_code=201)
    async def checkout(request: Request, customer_id: str = Path(alias="customerId"),
                       cart_id: str = Path(alias="cartId"), caller: str = Depends(CallerName())) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"customer": customer_id, "cart": cart_id, "caller": caller, "body": body.decode()},
                            status_code=201)

    client = TestClient(_app(router))
    answer = client.post("/v1/customers/c%C3%A9-1/carts/k-2/checkout", content=b"hello", headers={"x-caller": "ada"})
    assert answer.status_code == 201
    assert answer.json() == {"customer": "cé-1", "cart": "k-2", "caller": "ada", "body": "hello"}

    refused = client.post("/v1/customers/c-1/carts/k-2/checkout")
    assert refused.status_code == 401 and refused.json() == {"detail": "who are you?"}

    # The route is still documented as FastAPI documents any route.
    parameters = client.get("/openapi.json").json()["paths"]["/v1/customers/{customerId}/carts/{cartId}/checkout"]
    assert [parameter["name"] for parameter in parameters["post"]["parameters"]] == ["customerId", "cartId"]


def test_an_endpoint_that_does_not_answer_a_response_is_an_error_not_a_silent_conversion() -> None:
    router = APIRouter()

    @direct_post(router, "/plain")
    async def plain() -> dict:
        return {"status": "ok"}

    client = TestClient(_app(router), raise_server_exceptions=False)
    assert client.post("/plain").status_code == 500


def test_a_query_parameter_is_refused_when_the_app_is_built() -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match="query params"):
        @direct_post(router, "/search")
        async def search(q: str = Query()) -> JSONResponse:
            return JSONResponse({})


def test_a_dependency_that_needs_more_than_the_request_is_refused() -> None:
    def ordinary() -> str:
        return "x"

    router = APIRouter()
    with pytest.raises(TypeError, match="not a named RequestDependency"):
        @direct_post(router, "/ordinary")
        async def uses_ordinary(value: str = Depends(ordinary)) -> JSONResponse:
            return JSONResponse({})


def test_a_sync_endpoint_is_refused() -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match="not an async function"):
        @direct_post(router, "/sync")
        def sync() -> JSONResponse:
            return JSONResponse({})


def test_a_router_level_dependency_is_refused_rather_than_skipped() -> None:
    """Skipping an inclusion's dependency (an authentication check, say) would open the route.

    FastAPI builds an included route's handler at the first request that reaches it: that request,
    and every later one, fails without the endpoint ever running.
    """
    ran = []

    def must_run() -> None:
        raise HTTPException(status_code=403)

    router = APIRouter()

    @direct_post(router, "/guarded")
    async def guarded() -> JSONResponse:
        ran.append(True)
        return JSONResponse({})

    client = TestClient(_app(router, dependencies=[Depends(must_run)]))
    for _ in range(2):
        with pytest.raises(TypeError, match="not a named RequestDependency"):
            client.post("/guarded")
    assert ran == []
