"""The Agents pages: an admin agent sees its partner's agents, the operator every partner's; both create and
revoke API tokens (a new one is shown once) and end portal sessions. No API route manages agents, so the
pages admit the two roles that manage them (`accounts.permissions.MANAGERS`)."""

from __future__ import annotations

import math
from gettext import NullTranslations
from itertools import groupby
from pathlib import Path

from fastapi import Depends
from fastapi.responses import Response
from starlette.datastructures import FormData

from partnerdesk.accounts import agents, sessions, signin
from partnerdesk.accounts.auth import client_address
from partnerdesk.accounts.models import Role
from partnerdesk.accounts.permissions import MANAGERS, manageable_agent
from partnerdesk.core.errors import InvalidInput
from partnerdesk.core.throttling import TooManyFailedSignIns, throttle_of
from partnerdesk.web import (
    N_,
    FormErrors,
    PageContext,
    allow_page,
    portal_router,
    read_form,
    redirect,
    register_nav,
    register_templates,
    register_translations,
)
from partnerdesk.web import session as web_session
from partnerdesk.web.forms import SUMMARY_LINE
from partnerdesk.web.i18n import translations_for

HERE = Path(__file__).parent
router = portal_router()
register_templates("accounts", HERE / "templates")
register_translations(HERE / "locale")
register_nav(N_("Agents"), "/agents", MANAGERS, order=90)


def throttled_message(translations: NullTranslations, retry_after_seconds: int) -> str:
    """What a throttled sign-in is told, with the wait in whole minutes (at least one)."""
    minutes = max(1, math.ceil(retry_after_seconds / 60))
    return translations.ngettext(
        "Too many failed sign-ins for this account or from this address. Try again in %(num)s minute.",
        "Too many failed sign-ins for this account or from this address. Try again in %(num)s minutes.",
        minutes,
    ) % {"num": minutes}


@router.get("/agents")
def agent_list(ctx: PageContext = allow_page(*MANAGERS)) -> Response:
    summaries = agents.agents_visible_to(ctx.db, ctx.principal, now=ctx.desk.clock.now())
    groups = [(partner, list(rows)) for partner, rows in
              groupby(summaries, key=lambda summary: summary.partner)]
    return ctx.render("accounts/agents.html", {"groups": groups, "count": len(summaries)})


def _agent_page(ctx: PageContext, agent_id: str, *, new_token: str | None = None,
                status_code: int = 200) -> Response:
    agent = manageable_agent(ctx.db, ctx.principal, agent_id)
    return ctx.render("accounts/agent.html", {
        "agent": agent,
        "partner": agents.agent_partner(ctx.db, agent),
        "tokens": agents.tokens_of(ctx.db, ctx.principal, agent.id),
        "sessions": sessions.sessions_of(ctx.db, ctx.principal, agent.id, now=ctx.desk.clock.now()),
        "current_session_id": web_session.current_session_id(ctx.request),
        "new_token": new_token,
    }, status_code=status_code)


@router.get("/agents/{agent_id}")
def agent_page(agent_id: str, ctx: PageContext = allow_page(*MANAGERS)) -> Response:
    return _agent_page(ctx, agent_id)


@router.post("/agents/{agent_id}/tokens")
def create_token(agent_id: str, ctx: PageContext = allow_page(*MANAGERS)) -> Response:
    # Shown in this answer only, never flashed: the flash messages travel in a cookie.
    token = agents.create_token(ctx.db, ctx.principal, agent_id=agent_id, now=ctx.now)
    return _agent_page(ctx, agent_id, new_token=token, status_code=201)


@router.post("/agents/{agent_id}/tokens/{token_id}/revoke")
def revoke_token(agent_id: str, token_id: str, ctx: PageContext = allow_page(*MANAGERS)) -> Response:
    token = agents.revoke_token(ctx.db, ctx.principal, agent_id=agent_id, token_id=token_id, now=ctx.now)
    ctx.flash(ctx.gettext("The API token %(prefix)s… is revoked.", prefix=token.token_prefix))
    return redirect(f"/agents/{agent_id}")


@router.post("/agents/{agent_id}/sessions/{session_id}/revoke")
def revoke_session(agent_id: str, session_id: str, ctx: PageContext = allow_page(*MANAGERS)) -> Response:
    sessions.revoke_session(ctx.db, ctx.principal, agent_id=agent_id, session_id=session_id,
                            now=ctx.desk.clock.now())
    if session_id == web_session.current_session_id(ctx.request):
        response = redirect("/signin")
        web_session.end(ctx.request, response)
        return response
    ctx.flash(ctx.gettext("The session is ended: whoever held it must sign in again."))
    return redirect(f"/agents/{agent_id}")


# Every role signs in with a password, so every role may change its own.
PASSWORD_FIELDS = {
    "current_password": N_("Current password"),
    "new_password": N_("New password"),
    "confirmation": N_("New password again"),
}


def _password_form(ctx: PageContext, errors: FormErrors | None = None, *, status_code: int = 200) -> Response:
    return ctx.render("accounts/password.html", {"errors": errors, "labels": PASSWORD_FIELDS},
                      status_code=status_code)


@router.get("/account/password")
def password_form(ctx: PageContext = allow_page(*Role)) -> Response:
    return _password_form(ctx)


def _password_errors(ctx: PageContext, error: Exception) -> tuple[FormErrors, int]:
    errors = FormErrors(summary_line=ctx.gettext(SUMMARY_LINE))

    def on(name: str, message: str) -> None:
        errors.add(name, message, label=ctx.gettext(PASSWORD_FIELDS[name]))

    if isinstance(error, TooManyFailedSignIns):
        errors.add(None, throttled_message(translations_for(ctx.locale), error.retry_after_seconds))
        return errors, 429
    if isinstance(error, signin.WrongPassword):
        on("current_password", ctx.gettext("This is not your current password."))
    elif isinstance(error, signin.PasswordsDiffer):
        on("confirmation", ctx.gettext("Type the same new password twice."))
    else:
        on("new_password", ctx.gettext("Use at least 4 characters."))
    return errors, 400


@router.post("/account/password")
def change_password(ctx: PageContext = allow_page(*Role), form: FormData = Depends(read_form)) -> Response:
    # Checking passwords takes a while: the page's own transaction ends here (it only read who is signed in),
    # and the change runs in short transactions of its own, as signing in does.
    ctx.db.commit()
    values = {name: form.get(name) if isinstance(form.get(name), str) else "" for name in PASSWORD_FIELDS}
    try:
        ended = signin.change_own_password(
            ctx.desk, throttle_of(ctx.request), ctx.principal, current=values["current_password"],
            new=values["new_password"], confirmation=values["confirmation"],
            address=client_address(ctx.request),
            keep_session_id=web_session.current_session_id(ctx.request))
    except (signin.WrongPassword, signin.PasswordsDiffer, InvalidInput, TooManyFailedSignIns) as error:
        errors, status_code = _password_errors(ctx, error)
        return _password_form(ctx, errors, status_code=status_code)
    ctx.flash(ctx.ngettext("Your password is changed, and your %(num)s other session is signed out.",
                           "Your password is changed, and your %(num)s other sessions are signed out.", ended)
              if ended else ctx.gettext("Your password is changed."))
    return redirect("/account/password")
