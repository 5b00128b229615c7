"""Who may open which page: the portal's router, the per-page role declaration and the page context.

Each page route names the roles it admits with `allow_page(...)`, the way API routes use
`allow(...)`; `page_role_matrix(app)` reads the declarations back so they can be printed and
tested. A page open to everyone (sign-in, language) says so with `public_page`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from partnerdesk.accounts import service as accounts_service
from partnerdesk.accounts.models import Role
from partnerdesk.accounts.service import Principal
from partnerdesk.core.clock import Clock
from partnerdesk.core.deps import DbSession, DeskDep, request_clock
from partnerdesk.core.desk import Desk
from partnerdesk.web import session
from partnerdesk.web.errors import PageForbidden, SignInRequired
from partnerdesk.web.i18n import translations_for
from partnerdesk.web.rendering import here, render, request_language


class PortalRoute(APIRoute):
    """A route of the portal: errors on it are shown as pages, not as API JSON."""


def portal_router(**kwargs: Any) -> APIRouter:
    """The router every domain's `web.py` uses: HTML answers, no OpenAPI entry, CSRF-checked posts."""
    return APIRouter(
        route_class=PortalRoute,
        include_in_schema=False,
        default_response_class=HTMLResponse,
        dependencies=[Depends(session.read_form)],
        **kwargs,
    )


@dataclass(frozen=True)
class Viewer:
    """The signed-in agent as the layout shows it."""

    principal: Principal
    partner_name: str | None
    # The partner's billing country: the reader's time zone when neither the agent nor the browser gave one.
    partner_country: str | None = None
    # The zone the agent chose (kept on the agent, so it follows it to every browser).
    time_zone: str | None = None


def load_viewer(request: Request, db: Session) -> Viewer | None:
    """The agent of the session, read again from the database; a disabled or deleted one is signed out."""
    agent_id = session.signed_in_agent_id(request)
    if agent_id is None:
        return None
    principal = accounts_service.get_principal(db, agent_id)
    if principal is None:
        session.end(request)
        return None
    partner_name = accounts_service.get_partner(db, principal.partner_id).name if principal.partner_id else None
    viewer = Viewer(principal, partner_name, _partner_country(db, principal.partner_id),
                    accounts_service.preferred_time_zone(db, principal.agent_id))
    request.state.viewer = viewer
    return viewer


def _partner_country(db: Session, partner_id: str | None) -> str | None:
    from partnerdesk.billing.models import BillingProfile  # a domain's table, read only for the time zone

    profile = db.get(BillingProfile, partner_id) if partner_id else None
    return profile.country or None if profile is not None else None


@dataclass
class PageContext:
    """What a page route hands to services and templates: the agent, the session, the clock."""

    request: Request
    db: Session
    viewer: Viewer
    clock: Clock
    desk: Desk

    @property
    def principal(self) -> Principal:
        return self.viewer.principal

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def locale(self) -> str:
        return request_language(self.request)

    def gettext(self, message: str, **variables: Any) -> str:
        text = translations_for(self.locale).gettext(message)
        return text % variables if variables else text

    def labels(self, labels: Mapping[Any, str]) -> dict[Any, str]:
        """A table of labels (marked with `N_`) in the reader's language, by the same keys."""
        return {key: self.gettext(label) for key, label in labels.items()}

    def ngettext(self, singular: str, plural: str, count: int, **variables: Any) -> str:
        text = translations_for(self.locale).ngettext(singular, plural, count)
        return text % {"num": count, **variables}

    def render(self, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
        return render(self.request, template, context, status_code=status_code)

    def flash(self, message: str, category: str = "success") -> None:
        session.flash(self.request, message, category)

    def has_role(self, *roles: Role) -> bool:
        return self.principal.role in roles


def sign_in_url(next_path: str | None) -> str:
    return "/signin?" + urlencode({"next": next_path}) if next_path and next_path != "/" else "/signin"


class PageGuard:
    """A dependency that admits only the listed roles to a page and returns the page context."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("a page admits at least one role; use public_page for pages open to all")
        self.roles = frozenset(roles)

    def __call__(self, request: Request, db: DbSession, desk: DeskDep) -> PageContext:
        viewer = load_viewer(request, db)
        if viewer is None:
            raise SignInRequired(here(request) if request.method == "GET" else request.url.path)
        if viewer.principal.role not in self.roles:
            raise PageForbidden(f"The {viewer.principal.role.value} role may not open {request.url.path}.")
        return PageContext(request=request, db=db, viewer=viewer, clock=request_clock(request, db), desk=desk)


def allow_page(*roles: Role) -> Any:
    return Depends(PageGuard(*roles))


@dataclass
class PublicContext:
    """A page open to anyone, signed in or not (sign-in, sign-out, language)."""

    request: Request
    desk: Desk
    viewer: Viewer | None


class PublicPage:
    """A dependency marking a page open to everyone; it still tells whether someone is signed in.

    It reads the session's agent in a short read-only transaction of its own, so a public page
    that writes nothing holds no write lock (on SQLite) while it, say, checks a password.
    """

    def __call__(self, request: Request, desk: DeskDep) -> PublicContext:
        with desk.database.session(write=False) as db:
            viewer = load_viewer(request, db)
        return PublicContext(request=request, desk=desk, viewer=viewer)


public_page: Any = Depends(PublicPage())


def local_path(candidate: str | None) -> str | None:
    """`candidate` if it is a path on this site (`/customers?q=x`), else None: no open redirects."""
    if not candidate or len(candidate) > 2000 or not candidate.startswith("/"):
        return None
    if candidate.startswith("//") or "\\" in candidate or any(ord(char) < 32 or ord(char) == 127
                                                            for char in candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    return candidate


def _declaration_of(dependant) -> PageGuard | PublicPage | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, PageGuard | PublicPage):
            return dependency.call
        found = _declaration_of(dependency)
        if found is not None:
            return found
    return None


def page_role_matrix(app: FastAPI) -> list[tuple[str, str, frozenset[Role] | None]]:
    """(method, path, admitted roles) for every portal page; None means open to everyone.

    Reads the routers `install_portal` recorded in `app.state.portal_routers`, and raises if a
    portal route declares neither `allow_page(...)` nor `public_page`.
    """
    rows = []
    for route in (route for router in app.state.portal_routers for route in router.routes):
        if not isinstance(route, APIRoute):
            continue
        declaration = _declaration_of(route.dependant)
        if declaration is None:
            raise LookupError(f"{route.path} declares neither allow_page(...) nor public_page")
        roles = declaration.roles if isinstance(declaration, PageGuard) else None
        for method in sorted(route.methods):
            rows.append((method, route.path, roles))
    return sorted(rows, key=lambda row: (row[1], row[0]))
