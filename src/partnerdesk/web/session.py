"""The portal's signed session cookie, its CSRF token, flash messages and the language cookie.

The session holds who signed in (the agent id, nothing about the agent), the CSRF token of
the session and the flash messages waiting to be shown. It is signed, not encrypted, with a
key derived for this purpose only (`keyring.signing_key("portal-session")`), and it is HttpOnly
and SameSite=Lax. The agent is read again from the database on every request, so disabling an
agent ends its sessions at once.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from partnerdesk.core.deps import SAFE_METHODS
from partnerdesk.core.desk import Desk
from partnerdesk.core.secrets import constant_time_equals
from partnerdesk.web.errors import FormExpired

SESSION_COOKIE = "partnerdesk_session"
# A signed-in session lasts a working day from its last change, then the agent signs in again.
SESSION_MAX_AGE_SECONDS = 12 * 60 * 60
LANGUAGE_COOKIE = "partnerdesk_language"
LANGUAGE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60
CSRF_FIELD = "csrf_token"

_AGENT_KEY = "agent_id"
_CSRF_KEY = "csrf"
_FLASHES_KEY = "flashes"
_MAX_FLASHES = 5


def uses_https(desk: Desk) -> bool:
    return desk.settings.public_base_url.startswith("https://")


# Paths whose requests never read the portal's session: the API authenticates by bearer token only.
_SESSIONLESS_PREFIXES = ("/v1/", "/bench/")


class PortalSessionMiddleware(SessionMiddleware):
    """Starlette's signed-cookie session, for the portal's requests only.

    An API request does not pay for reading and checking a cookie it never uses, nor for the wrapper
    that would set one on its answer; a session cookie sent along with it is ignored, as before.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_SESSIONLESS_PREFIXES):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def install_sessions(app: FastAPI, desk: Desk) -> None:
    app.add_middleware(
        PortalSessionMiddleware,
        secret_key=desk.keyring.signing_key("portal-session"),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=uses_https(desk),
    )


def signed_in_agent_id(request: Request) -> str | None:
    agent_id = request.session.get(_AGENT_KEY)
    return agent_id if isinstance(agent_id, str) and agent_id else None


def begin(request: Request, agent_id: str) -> None:
    """Signs `agent_id` in on a fresh session: nothing from before sign-in, a new CSRF token."""
    request.session.clear()
    request.session[_AGENT_KEY] = agent_id
    request.session[_CSRF_KEY] = secrets.token_urlsafe(32)


def end(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (also before sign-in: the sign-in form has one)."""
    token = request.session.get(_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_KEY] = token
    return token


def csrf_token_matches(request: Request, sent: Any) -> bool:
    expected = request.session.get(_CSRF_KEY)
    return isinstance(sent, str) and isinstance(expected, str) and bool(expected) and \
        constant_time_equals(sent, expected)


async def read_form(request: Request) -> FormData:
    """The posted form, once its CSRF token has been checked; an empty form for GET requests.

    Every portal router depends on this (see `portal_router`), so a form post whose token is
    missing or wrong is refused before any route code or database work runs.
    """
    if request.method in SAFE_METHODS:
        return FormData()
    form = await request.form()
    if not csrf_token_matches(request, form.get(CSRF_FIELD)):
        raise FormExpired()
    return form


def flash(request: Request, message: str, category: str = "success") -> None:
    """Keeps a message (already translated) to show on the next page rendered for this session."""
    flashes = [entry for entry in request.session.get(_FLASHES_KEY, []) if isinstance(entry, dict)]
    flashes.append({"message": message, "category": category})
    request.session[_FLASHES_KEY] = flashes[-_MAX_FLASHES:]


def take_flashes(request: Request) -> list[dict[str, str]]:
    if _FLASHES_KEY not in request.session:
        return []
    flashes = request.session.pop(_FLASHES_KEY)
    return [entry for entry in flashes if isinstance(entry, dict)] if isinstance(flashes, list) else []


def language_cookie(request: Request) -> str | None:
    return request.cookies.get(LANGUAGE_COOKIE)


def set_language_cookie(response: Response, language: str, *, secure: bool) -> None:
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_MAX_AGE_SECONDS, path="/",
                        httponly=True, samesite="lax", secure=secure)
