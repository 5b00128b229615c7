"""Who may call what: bearer-token authentication and the per-route role declaration.

Each route names the roles it admits with `allow(...)`; `role_matrix(app)` reads those
declarations back, so the matrix can be printed (`partnerdesk roles`) and tested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from partnerdesk.accounts import service as accounts_service
from partnerdesk.accounts.models import Role
from partnerdesk.accounts.service import Principal
from partnerdesk.accounts.signin import ADDRESS_SCOPE, SignInLimits, address_wait, count_failure
from partnerdesk.core.clock import Clock
from partnerdesk.core.deps import DbSession, DeskDep, request_clock
from partnerdesk.core.desk import Desk
from partnerdesk.core.errors import AuthenticationRequired, Forbidden
from partnerdesk.core.secrets import hash_token
from partnerdesk.core.throttling import Limit, RateLimitExceeded, TooManyFailedSignIns, throttle_of
from partnerdesk.policies import service as policies
from partnerdesk.policies.models import PolicySetting

T = TypeVar("T")


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


UNKNOWN_TOKEN = "The API token is unknown or has been revoked."
TOO_MANY_FAILURES = ("Too many requests with an unknown or revoked API token came from this address; "
                     "try again in {seconds} seconds.")
# Partner Center's purchase routes, limited per partner and customer besides per partner: carts (and their
# checkout) and orders.
_PURCHASE_PATH = re.compile(r"^/v1/customers/(?P<customer>[^/]+)/(?:carts|orders)(?:/|$)")


API_POLICIES = ("signin_failures_per_ip", "signin_throttle_minutes", "api_rate_limit_window_seconds",
                "api_requests_per_partner", "api_purchase_requests_per_customer")


@dataclass(frozen=True)
class ApiLimits:
    """The limits every API request is held to (operator policies)."""

    signin: SignInLimits
    per_partner: Limit
    per_customer: Limit

    @classmethod
    def of(cls, values: tuple) -> ApiLimits:
        """From the values of API_POLICIES, in that order (None: the policy's default)."""
        per_address, minutes, window, per_partner, per_customer = (
            policies.definition(key).default if value is None else value for key, value in zip(API_POLICIES, values,
                                                                                                   strict=True))
        signin_limits = SignInLimits(per_address=Limit(ADDRESS_SCOPE, int(per_address), int(minutes) * 60))
        return cls(signin_limits, Limit("api-partner", int(per_partner), int(window)),
                   Limit("api-partner-customer", int(per_customer), int(window)))


# Every API request runs it: the token's agent and the limits' policies in one statement, on the tables'
# columns (see CONTRIBUTING, "How a write is done"); a policy the operator never set reads as NULL.
_policy = PolicySetting.__table__.c
_AGENT_AND_LIMITS = accounts_service.AGENT_OF_TOKEN.add_columns(
    *(select(_policy.value).where(_policy.key == key).scalar_subquery().label(key) for key in API_POLICIES))


def client_address(request: Request) -> str:
    """The address failures are counted for: the connection's peer (the proxy's, unless the server is told
    to trust its X-Forwarded-For; see docs/security.md)."""
    return request.client.host if request.client else "unknown"


def throttled_principal(request: Request, db: Session, desk: Desk, token: str) -> tuple[Principal, ApiLimits]:
    """The token's agent, unless its address is throttled for failed tokens (429, the right token included);
    a failure is counted.

    With the database throttle store, the request's transaction is ended (it has only read) before each
    count: on SQLite a second transaction could not write while it held the lock, and elsewhere it would
    hold a second connection of the pool.
    """
    throttle = throttle_of(request)
    row = db.execute(_AGENT_AND_LIMITS, {"token_hash": hash_token(token)}).first()
    principal = accounts_service.principal_of_row(row[:6]) if row is not None else None
    limits = ApiLimits.of(tuple(row[6:]) if row is not None else policies.current_values(db, *API_POLICIES))
    address = client_address(request)
    if principal is None:
        db.rollback()
    elif throttle.shares_database:
        db.commit()
    wait = address_wait(throttle, limits.signin, address)
    if wait is not None:
        raise TooManyFailedSignIns(TOO_MANY_FAILURES.format(seconds=wait), wait)
    if principal is None:
        wait = count_failure(desk, throttle, limits.signin, channel="api", address=address, email=None)
        if wait is not None:
            raise TooManyFailedSignIns(TOO_MANY_FAILURES.format(seconds=wait), wait)
        raise AuthenticationRequired(UNKNOWN_TOKEN)
    return principal, limits


def hold_to_request_rates(request: Request, db: Session, principal: Principal, limits: ApiLimits) -> None:
    """Partner Center's request-rate limits: per partner, and per partner and customer on purchase routes."""
    if principal.partner_id is None:  # the operator runs the desk; its requests are not a partner's
        return
    throttle = throttle_of(request)
    if throttle.shares_database:
        db.commit()
    counted = throttle.count(limits.per_partner, principal.partner_id)
    if counted.allowed:
        purchase = _PURCHASE_PATH.match(request.url.path)
        if purchase is None:
            return
        counted = throttle.count(limits.per_customer, f"{principal.partner_id}/{purchase['customer'].lower()}")
        if counted.allowed:
            return
    raise RateLimitExceeded(counted.retry_after_seconds)


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

    def __call__(self, request: Request, db: DbSession, desk: DeskDep) -> RequestContext:
        # One dependency in one worker thread: the token, the role, the request rates, then the clock.
        principal, limits = throttled_principal(request, db, desk, bearer_token(request))
        self.admit(principal)
        hold_to_request_rates(request, db, principal, limits)
        return RequestContext(
            db=db,
            principal=principal,
            clock=request_clock(request, db),
            desk=desk,
            request_id=request.headers.get("ms-requestid"),
            correlation_id=request.headers.get("ms-correlationid"),
        )


def allow(*roles: Role) -> Any:
    return Depends(RoleGuard(*roles))


class OneTripRoleGuard(RoleGuard):
    """`RoleGuard` for a hot route that does all its work in one trip to a worker thread.

    Each trip to a worker thread (and back to the event loop) costs about what a hot read's own work does, and
    `RoleGuard`, a plain `def`, takes one of its own. This dependency only holds what the check needs; the
    route calls `await guarded.run(work)`, which checks the token, the role and the request rates exactly as
    `RoleGuard` does, then runs `work(ctx)` and commits, in a single trip. The route has no other way to
    reach the context, so nothing of its work can run unchecked. Unlike `RoleGuard`, whose 401 comes before
    the request's own parameters are validated, a malformed parameter is a 400 here whoever asks."""

    async def __call__(self, request: Request, db: DbSession, desk: DeskDep) -> GuardedRequest:  # type: ignore[override]
        return GuardedRequest(self, request, db, desk)


@dataclass
class GuardedRequest:
    """A request whose caller is checked when it runs its work (`OneTripRoleGuard`)."""

    guard: RoleGuard
    request: Request
    db: Session
    desk: Desk

    async def run(self, work: Callable[[RequestContext], T]) -> T:
        """`work(ctx)` after the checks, then the commit, in one trip: the session dependency then only closes the
        session, with no trip of its own. If anything raises, nothing is committed and the dependency rolls back."""
        return await run_in_threadpool(self._checked, work)

    def _checked(self, work: Callable[[RequestContext], T]) -> T:
        result = work(RoleGuard.__call__(self.guard, self.request, self.db, self.desk))
        self.db.commit()
        return result


def allow_in_one_trip(*roles: Role) -> Any:
    return Depends(OneTripRoleGuard(*roles))


@dataclass
class StreamingContext:
    """The caller of a route that streams a large body, checked before the body is read."""

    principal: Principal
    desk: Desk
    now: datetime
    request_id: str | None


class StreamingRoleGuard(RoleGuard):
    """`RoleGuard` for a route that streams a large body (an installation file): the token, the role and
    the clock are read in a short transaction of their own, so no connection (nor SQLite's write lock)
    is held while gigabytes arrive. The route then writes in `desk.database.session()`."""

    async def __call__(self, request: Request, desk: DeskDep) -> StreamingContext:  # type: ignore[override]
        def check() -> StreamingContext:
            with desk.database.session(write=False) as db:
                principal, limits = throttled_principal(request, db, desk, bearer_token(request))
                self.admit(principal)
                hold_to_request_rates(request, db, principal, limits)
                return StreamingContext(principal=principal, desk=desk, now=request_clock(request, db).now(),
                                        request_id=request.headers.get("ms-requestid"))

        return await run_in_threadpool(check)


def allow_streaming(*roles: Role) -> Any:
    return Depends(StreamingRoleGuard(*roles))


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
