"""The portal's sessions: a server-side session per sign-in, the browser's state cookie (CSRF token, flash
messages) and the language cookie.

Signing in opens a row in `portal_sessions` (`accounts.sessions`); the browser's `partnerdesk_session`
cookie carries only that session's random token, whose hash the row keeps. Every page reads the row
again, so signing out, a password change, a revocation by an admin agent or the operator, or a timeout
(operator policies) ends the session at once, for every copy of the cookie.

A second cookie, `partnerdesk_state`, is Starlette's signed session: it holds the CSRF token of the
forms and the flash messages waiting to be shown, before and after sign-in, and never who is signed
in. It is signed with a key derived for this purpose only (`keyring.signing_key("portal-session")`).
All cookies are HttpOnly and SameSite=Lax (and Secure behind an https base URL).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from partnerdesk.accounts import sessions as portal_sessions
from partnerdesk.core.deps import SAFE_METHODS
from partnerdesk.core.desk import Desk
from partnerdesk.core.secrets import constant_time_equals
from partnerdesk.web.errors import FormExpired

SESSION_COOKIE = "partnerdesk_session"
STATE_COOKIE = "partnerdesk_state"
# The state cookie (CSRF token, flashes) outlives no working day; sign-in itself lasts as the policies say.
STATE_MAX_AGE_SECONDS = 12 * 60 * 60
LANGUAGE_COOKIE = "partnerdesk_language"
LANGUAGE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60
CSRF_FIELD = "csrf_token"

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
        session_cookie=STATE_COOKIE,
        max_age=STATE_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=uses_https(desk),
    )


def session_token(request: Request) -> str | None:
    """The token of the browser's portal session cookie, if it sent one (not yet checked)."""
    token = request.cookies.get(SESSION_COOKIE)
    return token if token and len(token) <= 100 else None


def signed_in_agent_id(request: Request) -> str | None:
    """The agent of the request's portal session if it is still in force, read from the database once per
    request (in short transactions of its own); None when signed out, revoked or timed out.

    Called before the request's own session has touched the database, so it holds no second connection.
    Called on the event loop (the error pages ask whether someone may be signed in), where no query may
    run, it only tells whether a session token was sent: the agent is then read in a worker thread.
    """
    if hasattr(request.state, "portal_session"):
        live = request.state.portal_session
        return live.agent_id if live else None
    token = session_token(request)
    if token is not None and _on_event_loop():
        return token
    live = None
    if token is not None:
        desk: Desk = request.app.state.desk
        now = desk.clock.now()
        with desk.database.session(write=False) as db:
            live = portal_sessions.live_session(db, token, now=now)
        if live is not None and live.touch_due:
            with desk.database.session() as db:
                portal_sessions.touch(db, live.id, now=now)
    request.state.portal_session = live
    return live.agent_id if live else None


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def current_session_id(request: Request) -> str | None:
    """The id of the request's live portal session (after `signed_in_agent_id`), to tell it apart in lists."""
    live = getattr(request.state, "portal_session", None)
    return live.id if live else None


def begin(request: Request, response: Response, token: str, *, max_age_seconds: int) -> None:
    """Hands the browser a new session's token, on a fresh state: nothing from before sign-in, a new CSRF token."""
    request.session.clear()
    request.session[_CSRF_KEY] = secrets.token_urlsafe(32)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age_seconds, path="/", httponly=True, samesite="lax",
                        secure=uses_https(request.app.state.desk))


def end(request: Request, response: Response | None = None) -> None:
    """Forgets the browser's state, and tells it to drop the session cookie (the row is ended by the caller)."""
    request.session.clear()
    request.state.portal_session = None
    if response is not None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                               secure=uses_https(request.app.state.desk))


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
