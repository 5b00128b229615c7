"""The portal shell's own pages: home, sign-in, sign-out and the language switch."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from partnerdesk.accounts import service as accounts_service
from partnerdesk.accounts import sessions as portal_sessions
from partnerdesk.accounts import signin
from partnerdesk.accounts.auth import client_address
from partnerdesk.accounts.web import throttled_message
from partnerdesk.core.throttling import throttle_of
from partnerdesk.web import session
from partnerdesk.web.errors import PageError
from partnerdesk.web.forms import text_value
from partnerdesk.web.i18n import LANGUAGES, N_, supported_language, translations_for
from partnerdesk.web.pages import PublicContext, local_path, portal_router, public_page
from partnerdesk.web.registry import navigation
from partnerdesk.web.rendering import gettext_for, redirect, render, request_language

router = portal_router()

SIGN_IN_REFUSED = N_("The email address or the password is not right.")
SIGN_IN_INCOMPLETE = N_("Enter your email address and your password.")


class UnknownLanguage(PageError):
    title = N_("This language is not offered")


def _landing_path(ctx: PublicContext) -> str | None:
    """The first page the signed-in agent's role may open, in navigation order."""
    if ctx.viewer is None:
        return None
    links = navigation.visible(ctx.viewer.principal.role, "/")
    return links[0].url if links else None


@router.get("/")
def home(ctx: PublicContext = public_page) -> Response:
    if ctx.viewer is None:
        return redirect("/signin")
    landing = _landing_path(ctx)
    if landing is not None:
        return redirect(landing)
    return render(ctx.request, "home.html")


def _after_sign_in(next_path: str | None) -> str:
    target = local_path(next_path)
    if target is None or target.split("?")[0] in ("/signin", "/signout"):
        return "/"
    return target


@router.get("/signin")
def sign_in_form(request: Request, ctx: PublicContext = public_page) -> Response:
    next_path = request.query_params.get("next")
    if ctx.viewer is not None:
        return redirect(_after_sign_in(next_path))
    return render(request, "signin.html", {"email": "", "next": local_path(next_path) or "", "error": None})


@router.post("/signin")
def sign_in(ctx: PublicContext = public_page, form: FormData = Depends(session.read_form)) -> Response:
    request = ctx.request
    email = text_value(form, "email")
    password = form.get("password")
    next_path = local_path(text_value(form, "next", max_length=2000)) or ""
    result = None
    # No stored email holds a NUL or is that long, and PostgreSQL refuses a NUL in a query:
    # such input simply fails to sign in.
    if email and len(email) <= 320 and "\x00" not in email and isinstance(password, str) and password:
        result = signin.sign_in_with_password(
            ctx.desk, throttle_of(request), email=email, password=password, address=client_address(request),
            user_agent=request.headers.get("user-agent", ""))
    if result is None or result.principal is None or result.session_token is None:
        gettext = gettext_for(request)
        if result is not None and result.retry_after_seconds is not None:
            error, status = throttled_message(translations_for(request_language(request)),
                                              result.retry_after_seconds), 429
        else:
            error, status = gettext(SIGN_IN_REFUSED if email and password else SIGN_IN_INCOMPLETE), 400
        response = render(request, "signin.html", {"email": email, "next": next_path, "error": error},
                          status_code=status)
        if status == 429:
            response.headers["Retry-After"] = str(result.retry_after_seconds)
        return response
    response = redirect(_after_sign_in(next_path))
    session.begin(request, response, result.session_token, max_age_seconds=result.cookie_max_age_seconds)
    preferred = supported_language(result.principal.preferred_language)
    if preferred:
        session.set_language_cookie(response, preferred, secure=session.uses_https(ctx.desk))
    return response


@router.post("/signout")
def sign_out(ctx: PublicContext = public_page) -> Response:
    was_signed_in = ctx.viewer is not None
    gettext = gettext_for(ctx.request)
    token = session.session_token(ctx.request)
    if token is not None:
        with ctx.desk.database.session() as db:
            portal_sessions.end_session(db, token, now=ctx.desk.clock.now())
    response = redirect("/signin")
    session.end(ctx.request, response)
    if was_signed_in:
        session.flash(ctx.request, gettext("You have signed out."))
    return response


@router.post("/language")
def switch_language(ctx: PublicContext = public_page, form: FormData = Depends(session.read_form)) -> Response:
    language = text_value(form, "language", max_length=16)
    if language not in LANGUAGES:
        raise UnknownLanguage(f"Choose one of: {', '.join(LANGUAGES)}.")
    if ctx.viewer is not None:
        with ctx.desk.database.session() as db:
            accounts_service.set_preferred_language(db, ctx.viewer.principal.agent_id, language)
    session.flash(ctx.request, translations_for(language).gettext("The portal is now in English."))
    response = redirect(local_path(text_value(form, "next", max_length=2000)) or "/")
    session.set_language_cookie(response, language, secure=session.uses_https(ctx.desk))
    return response
