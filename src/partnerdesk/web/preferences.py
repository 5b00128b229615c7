"""The agent's time zone: times on every page are shown in it, with UTC on hover.

The choice is kept on the agent (so it follows the agent to every browser) and in a cookie (for the
pages before sign-in); without one, the zone the browser reports (read by `static/time-zone.js`) or the
partner's billing country gives the default (`rendering.request_time_zone`).
"""

from __future__ import annotations

from fastapi import Depends
from fastapi.responses import Response
from starlette.datastructures import FormData

from partnerdesk.accounts import service as accounts_service
from partnerdesk.accounts.models import Role
from partnerdesk.web.errors import PageError
from partnerdesk.web.forms import text_value
from partnerdesk.web.i18n import N_, UTC_ZONE, supported_time_zone, time_zone_choices
from partnerdesk.web.pages import PageContext, allow_page, local_path, portal_router
from partnerdesk.web.rendering import TIME_ZONE_COOKIE, TIME_ZONE_COOKIE_MAX_AGE_SECONDS, redirect, request_time_zone
from partnerdesk.web.session import read_form, uses_https

router = portal_router()
EVERYONE = tuple(Role)
PATH = "/preferences/time-zone"


class UnknownTimeZone(PageError):
    status_code = 400
    title = N_("Unknown time zone")
    message = N_("Choose a time zone from the list.")


@router.get(PATH)
def time_zone_page(ctx: PageContext = allow_page(*EVERYONE)) -> Response:
    return ctx.render("time_zone.html", {
        "choices": time_zone_choices(), "current": request_time_zone(ctx.request), "utc": UTC_ZONE,
        "next": local_path(ctx.request.query_params.get("next")) or "/",
    })


@router.post(PATH)
def choose_time_zone(ctx: PageContext = allow_page(*EVERYONE), form: FormData = Depends(read_form)) -> Response:
    wanted = text_value(form, "time_zone", max_length=64)
    zone = supported_time_zone(wanted)
    if wanted and zone is None:
        raise UnknownTimeZone()
    accounts_service.set_preferred_time_zone(ctx.db, ctx.principal.agent_id, zone)
    response = redirect(local_path(text_value(form, "next", max_length=2000)) or "/")
    secure = uses_https(ctx.desk)
    if zone is None:
        response.delete_cookie(TIME_ZONE_COOKIE, path="/", samesite="lax", secure=secure)
        ctx.flash(ctx.gettext("Times are shown in the default time zone again."))
    else:
        response.set_cookie(TIME_ZONE_COOKIE, zone, max_age=TIME_ZONE_COOKIE_MAX_AGE_SECONDS, path="/",
                            samesite="lax", secure=secure, httponly=True)
        ctx.flash(ctx.gettext("Times are now shown in %(zone)s.", zone=zone))
    return response
