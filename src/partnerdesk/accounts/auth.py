"""Who may call what: bearer-token authentication and the per-route role declaration.

Each route names the roles it admits with `allow(...)`; `role_matrix(app)` reads those
declarations back, so the matrix can be printed (`partnerdesk roles`) and tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partnerdesk.accounts import service as accounts_service
from partnerdesk.accounts.models import Role
from partnerdesk.accounts.service import Principal
from partnerdesk.core import idempotency
from partnerdesk.core.clock import Clock
from partnerdesk.core.deps import ClockDep, DbSession, DeskDep
from partnerdesk.core.desk import Desk
from partnerdesk.core.errors import AuthenticationRequired, Forbidden
from partnerdesk.core.prepared import together
from partnerdesk.core.routes import RequestDependency
from partnerdesk.core.units import run_write
from partnerdesk.sandbox import service as sandbox_service

Result = TypeVar("Result")


@dataclass
class RequestContext:
    """Everything a route hands to a service: the caller, the session, the clock, the request ids."""

    db: Session
    principal: Principal
    clock: Clock
    desk: Desk
    request_id: str | None
    correlation_id: str | None

    @property
    def now(self) -> datetime:
        return self.clock.now()


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired("Send an API token as 'Authorization: Bearer <token>'.")
    return token.strip()


def authenticate(db: Session, token: str) -> Principal:
    principal = accounts_service.authenticate_token(db, token)
    if principal is None:
        raise AuthenticationRequired("The API token is unknown or has been revoked.")
    return principal


def bearer_principal(request: Request, db: DbSession) -> Principal:
    return authenticate(db, bearer_token(request))


class RoleGuard:
    """A dependency that admits only the listed roles and returns the request context."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def admit(self, principal: Principal) -> None:
        if principal.role not in self.roles:
            raise Forbidden(
                f"The {principal.role.value} role may not do this; it is for: "
                + ", ".join(sorted(role.value for role in self.roles))
                + ".",
                [principal.role.value],
            )

    def __call__(
        self,
        request: Request,
        db: DbSession,
        clock: ClockDep,
        desk: DeskDep,
        principal: Principal = Depends(bearer_principal),
    ) -> RequestContext:
        self.admit(principal)
        return RequestContext(
            db=db,
            principal=principal,
            clock=clock,
            desk=desk,
            request_id=request.headers.get("ms-requestid"),
            correlation_id=request.headers.get("ms-correlationid"),
        )


def allow(*roles: Role) -> Any:
    return Depends(RoleGuard(*roles))


@dataclass(frozen=True)
class Caller:
    """A caller of a hot write route, before the database is asked: its token, the guard, the request ids.

    `write` checks the token and the role inside the write's own transaction, then runs the work:
    a refused caller changes nothing and learns nothing, exactly as with `allow`. The work answers
    through `core.idempotency.run_once(..., in_unit=True)`, whose lookup `write` sends with the token check.
    """

    token: str
    guard: RoleGuard
    desk: Desk
    request_id: str | None
    correlation_id: str | None

    def authorize(self, db: Session) -> RequestContext:
        principal = authenticate(db, self.token)
        self.guard.admit(principal)
        clock = sandbox_service.clock_for(db, self.desk.clock, sandbox=self.desk.settings.sandbox)
        return RequestContext(db=db, principal=principal, clock=clock, desk=self.desk,
                              request_id=self.request_id, correlation_id=self.correlation_id)

    async def write(self, work: Callable[[RequestContext], Result],
                    ahead: Callable[[Session], None] | None = None) -> Result:
        """Runs `work` as one write unit; `ahead(db)` prefetches the reads it will make (see core.prepared).

        The token's lookup and those reads share one round trip; their rows are used only once the
        caller has been authenticated and admitted.
        """
        def unit(db: Session) -> Result:
            with together(db):
                accounts_service.prefetch_token(db, self.token)
                if ahead is not None:
                    ahead(db)
                idempotency.prefetch_answer(db, self.request_id)  # last: after any row lock the reads wait on
            return work(self.authorize(db))

        try:
            return await run_write(self.desk.database, unit)
        except IntegrityError as error:
            if not idempotency.lost_claim(error):
                raise
            # A request with the same MS-RequestId committed first and nothing of this one was kept:
            # run again, and the lookup finds the winner's answer to replay.
            return await run_write(self.desk.database, unit)


class WriteGuard(RoleGuard, RequestDependency):
    """`allow` for the hottest writes: nothing runs in a worker thread before the route (see core.units);
    their routes are `core.routes.DirectRoute`s, which take the caller from the request alone."""

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        return Caller(token=bearer_token(request), guard=self, desk=request.app.state.desk,
                      request_id=request.headers.get("ms-requestid"),
                      correlation_id=request.headers.get("ms-correlationid"))


def allow_write(*roles: Role) -> Any:
    """Like `allow`, for routes that run their whole write through `Caller.write`."""
    return Depends(WriteGuard(*roles))


ANY_ROLE = tuple(Role)
ANY_AGENT = (Role.admin_agent, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin)


def _guard_of(dependant) -> RoleGuard | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RoleGuard):
            return dependency.call
        found = _guard_of(dependency)
        if found:
            return found
    return None


def role_matrix(app: FastAPI) -> list[tuple[str, str, frozenset[Role] | None]]:
    """(method, path, admitted roles) for every API route; None means public.

    Reads the routers the app factory recorded in `app.state.api_routers`.
    """
    rows = []
    for route in (route for router in app.state.api_routers for route in router.routes):
        if isinstance(route, APIRoute) and route.path.startswith("/v1"):
            guard = _guard_of(route.dependant)
            for method in sorted(route.methods):
                rows.append((method, route.path, guard.roles if guard else None))
    return sorted(rows, key=lambda row: (row[1], row[0]))
