"""The activity log page: who did what and when, filtered by period, action, customer and agent.

It reads the same service query as `GET /v1/activitylogs`, with the same roles (the operator and the
partner's admin agents); an agent sees only its partner's records, as through the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import Response

from partnerdesk.accounts import service as accounts_service
from partnerdesk.accounts.models import Role
from partnerdesk.audit import service
from partnerdesk.core.errors import NotFound
from partnerdesk.customers import service as customers
from partnerdesk.web import (
    N_,
    FormErrors,
    PageContext,
    allow_page,
    list_page,
    portal_router,
    register_nav,
    register_templates,
    register_translations,
)
from partnerdesk.web.forms import SUMMARY_LINE
from partnerdesk.web.rendering import request_time_zone

HERE = Path(__file__).parent
router = portal_router()
register_templates("audit", HERE / "templates")
register_translations(HERE / "locale")

# The roles of `GET /v1/activitylogs` (audit.api).
ACTIVITY_READERS = (Role.operator, Role.admin_agent)
register_nav(N_("Activity"), "/activity", ACTIVITY_READERS, order=60)

# Plain words for the actions the desk records; an action not listed here is shown as recorded.
ACTION_LABELS = {
    "customer.created": N_("Customer added"),
    "customer.updated": N_("Customer changed"),
    "order.created": N_("Order placed"),
    "order.cancelled": N_("Order cancelled"),
    "entitlement.created": N_("Entitlement granted"),
    "entitlement.revoked": N_("Entitlement revoked"),
    "software.keys_revealed": N_("Keys and downloads shown"),
    "software.downloaded": N_("File downloaded"),
    "software.key_pool_empty": N_("Key pool empty"),
    "software.files_missing": N_("Installation files missing"),
    "software.keys_imported": N_("Product keys imported"),
    "software.file_added": N_("Installation file added"),
    "servicerequest.created": N_("Support request filed"),
    "webhook.endpoint_created": N_("Webhook endpoint added"),
    "webhook.endpoint_updated": N_("Webhook endpoint changed"),
    "webhook.endpoint_deleted": N_("Webhook endpoint deleted"),
    "webhook.endpoint_disabled": N_("Webhook endpoint paused"),
    "webhook.secret_rotated": N_("Webhook secret replaced"),
    "webhook.test_sent": N_("Webhook test sent"),
    "webhook.delivery_failed": N_("Webhook delivery failed"),
    "webhook.delivery_retried": N_("Webhook delivery sent again"),
    "azure_subscription.created": N_("Azure subscription added"),
    "azure_subscription.registered": N_("Azure subscription registered"),
    "billing_profile.updated": N_("Billing profile changed"),
    "credit_limit.set": N_("Credit limit set"),
    "credit_limit.removed": N_("Credit limit removed"),
    "invoice.paid": N_("Invoice paid"),
    "price_list.imported": N_("Price list imported"),
    "policy.updated": N_("Policy changed"),
    "sandbox.clock_advanced": N_("Sandbox clock moved"),
}
WHO_LABELS = {"system": N_("Partner Desk"), "operator": N_("Operator")}
# A detail longer than this is cut in the table (the API gives it whole).
MAX_DETAIL_LENGTH = 300
MAX_FILTER_LENGTH = 200
FILTER_NAMES = ("action", "customer", "agent", "partner")

BAD_DATE = N_("Enter a date such as 2026-11-24.")
END_BEFORE_START = N_("Enter an end date on or after the start date.")


@dataclass
class Period:
    """A period of whole days typed as "from" and "to" dates (both included), in the reader's time zone, as
    the times on the page are shown."""

    start: datetime | None = None
    end: datetime | None = None  # exclusive: the day after "to"
    values: dict[str, str] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)


def _typed_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_period(ctx: PageContext, labels: dict[str, str], start_field: str = "from",
                end_field: str = "to") -> Period:
    """The period asked for in the query string, with an error beside each date that is not one.

    `labels` names the two fields (already translated) for the error summary.
    """
    query = ctx.request.query_params
    period = Period(values={name: query.get(name, "").strip()[:40] for name in (start_field, end_field)},
                    errors=FormErrors(summary_line=ctx.gettext(SUMMARY_LINE)))
    days: dict[str, date | None] = {}
    for name in (start_field, end_field):
        text = period.values[name]
        days[name] = _typed_date(text) if text else None
        if text and days[name] is None:
            period.errors.add(name, ctx.gettext(BAD_DATE), label=labels.get(name))
    first, last = days[start_field], days[end_field]
    if first and last and last < first:
        period.errors.add(end_field, ctx.gettext(END_BEFORE_START), label=labels.get(end_field))
        return period
    zone = ZoneInfo(request_time_zone(ctx.request))
    period.start = datetime.combine(first, time(), zone) if first else None
    # The last day there is has no day after it: the period then has no end.
    period.end = datetime.combine(last + timedelta(days=1), time(), zone) if last and last < date.max else None
    return period


def shown_details(details: dict[str, Any]) -> list[tuple[str, str]]:
    """A record's details as (name, text) pairs; the template escapes them like any other text."""
    shown = []
    for name, value in sorted(details.items()):
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
        if len(text) > MAX_DETAIL_LENGTH:
            text = text[:MAX_DETAIL_LENGTH] + "…"
        shown.append((str(name)[:100], text))
    return shown


def _filters(ctx: PageContext) -> dict[str, str]:
    query = ctx.request.query_params
    return {name: query.get(name, "").strip()[:MAX_FILTER_LENGTH] for name in FILTER_NAMES}


@router.get("/activity")
def activity_log(ctx: PageContext = allow_page(*ACTIVITY_READERS)) -> Response:
    filters = _filters(ctx)
    labels = {"from": ctx.gettext(N_("From")), "to": ctx.gettext(N_("To"))}
    period = read_period(ctx, labels)
    if not ctx.principal.is_operator:
        filters["partner"] = ""  # an agent reads its own partner's records only
    wanted = service.ActivityFilter(
        partner_id=filters["partner"] or None,
        customer_ids=customers.ids_matching(ctx.principal, filters["customer"]) if filters["customer"] else None,
        action=filters["action"] or None,
        agent_email=filters["agent"] or None,
        start=period.start,
        end=period.end,
    )
    page = None
    if not period.errors:
        page = list_page(ctx.db, service.query(ctx.principal, wanted), ctx.request)
    rows = page.rows if page else []
    return ctx.render("audit/activity.html", {
        "page": page,
        "filters": filters,
        "period": period,
        "errors": period.errors or None,
        "actions": _action_choices(ctx),
        "action_labels": {action: ctx.gettext(label) for action, label in ACTION_LABELS.items()},
        "who_labels": {kind: ctx.gettext(label) for kind, label in WHO_LABELS.items()},
        "customer_names": customers.names_of(ctx.db, principal=ctx.principal,
                                             customer_ids=(row.customer_id for row in rows)),
        "partner_names": partner_names(ctx, {row.partner_id for row in rows} | {filters["partner"]}),
        "shown_details": shown_details,
        "filtered": any(filters.values()) or any(period.values.values()),
    }, status_code=400 if period.errors else 200)


def _action_choices(ctx: PageContext) -> list[tuple[str, str]]:
    """The actions the reader's log holds, by their plain name."""
    choices = [(action, ctx.gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action)
               for action in service.recorded_actions(ctx.db, ctx.principal)]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def partner_names(ctx: PageContext, partner_ids: set[str | None]) -> dict[str, str]:
    """Partners by id, named for the operator only, who reads every partner's rows (an agent its own)."""
    if not ctx.principal.is_operator:
        return {}
    names = {}
    for partner_id in sorted(partner_id for partner_id in partner_ids if partner_id):
        try:
            names[partner_id] = accounts_service.get_partner(ctx.db, partner_id).name
        except NotFound:
            continue  # a partner id typed into the address: the list is simply empty
    return names
