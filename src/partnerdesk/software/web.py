"""The customer's Software tab (rule R3) and its activity: keys and downloads in the portal.

An admin agent opens the tab, expands a product, picks its Version, Language and File type / OS and
submits (a GET: the choice is in the address), which lists the files of that choice; "Get keys and
downloads" (a POST) then shows the product keys and a fresh link per file (rule R4). The tab is
shown to admin agents only, as the API's keys and downloads route is theirs alone. "Software activity"
lists every key reveal and download of the customer's software for the partner's admin agents and
the operator.

Keys and links are secrets: the service decides and records every reveal; the pages only show what it
returns, and no portal page is cached (`Cache-Control: no-store` on every page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from babel.units import format_unit
from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from partnerdesk.accounts.models import Role
from partnerdesk.audit import service as audit
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.core.errors import DeskError, write_kept
from partnerdesk.customers import service as customers
from partnerdesk.customers.models import Customer
from partnerdesk.customers.web import register_customer_tab, render_customer_page
from partnerdesk.orders import service as orders
from partnerdesk.policies import service as policies
from partnerdesk.software import service
from partnerdesk.software.errors import ChoiceNotOffered, KeyPoolEmpty, PurchaseRevoked
from partnerdesk.software.models import KEY_ISSUED, KEY_REVOKED, SoftwareFile
from partnerdesk.support import web as support_web
from partnerdesk.web import (
    N_,
    FormErrors,
    FormField,
    PageContext,
    allow_page,
    explain,
    list_page,
    portal_router,
    read_form,
    register_templates,
    register_translations,
    text_value,
)
from partnerdesk.web.i18n import language_label

HERE = Path(__file__).parent
router = portal_router()
register_templates("software", HERE / "templates")
register_translations(HERE / "locale")

KEY_HOLDERS = (Role.admin_agent,)
# DESIGN.md: every reveal and download is recorded in an activity log the operator and the partner's admins read.
ACTIVITY_READERS = (Role.admin_agent, Role.operator)
register_customer_tab(N_("Software"), "/customers/{customer_id}/software", KEY_HOLDERS, order=40)
register_customer_tab(N_("Software activity"), "/customers/{customer_id}/software/activity", ACTIVITY_READERS,
                      order=45)

# The choice's form fields and where the service's refusal (`ChoiceNotOffered.data[0]`) points.
FIELDS = (
    FormField("version", N_("Version"), ("version",), N_("Choose a version from the list."), required=True),
    FormField("language", N_("Language"), ("language",), N_("Choose a language from the list."), required=True),
    FormField("file_type", N_("File type / OS"), ("fileType",),
              N_("Choose a file type or operating system from the list."), required=True),
)
CHOICE_FIELDS = tuple(form_field.name for form_field in FIELDS)
LABELS = {form_field.name: form_field.label for form_field in FIELDS}

STATUS_LABELS = {service.PURCHASE_ACTIVE: N_("Active")}
CANCELLED = N_("Cancelled — keys revoked")
KEY_STATUS_LABELS = {KEY_ISSUED: N_("Valid"), KEY_REVOKED: N_("Revoked")}
MESSAGES: tuple[tuple[type[DeskError], str], ...] = (
    (KeyPoolEmpty, N_("No product key is left for this product. The operator has been alerted; "
                      "ask again once the key pool is refilled. Nothing was issued.")),
    (PurchaseRevoked, N_("This purchase was cancelled: its product keys are revoked and it has no downloads.")),
)
NOT_REVEALED = N_("The keys and downloads could not be shown. Check the choice and try again.")


def file_size(size: int, locale: str) -> str:
    """A file's size as a reader says it ("293 kB", "4,7 Go"), in decimal units as disks are sold."""
    units = ("digital-byte", "digital-kilobyte", "digital-megabyte", "digital-gigabyte", "digital-terabyte")
    value, unit = float(size), 0
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    return format_unit(value, units[unit], locale=locale, length="short", format="#,##0" if unit == 0 else "#,##0.#")


@dataclass(frozen=True)
class ShownLink:
    """One download link as the page shows it: the address the customer is sent, and its limits."""

    link: service.IssuedLink
    uri: str


@dataclass
class Opened:
    """The one product expanded on the tab: what the agent chose, and what the desk answered."""

    software_id: str
    values: dict[str, str]
    errors: FormErrors = field(default_factory=FormErrors)
    message: str | None = None
    files: list[SoftwareFile] | None = None  # listed once a choice was submitted and accepted
    revealed: service.KeysAndDownloads | None = None
    links: list[ShownLink] = field(default_factory=list)


def _choice_options(ctx: PageContext, choices) -> dict[str, list[tuple[str, str]]]:
    return {
        "version": [(version, version) for version in choices.versions],
        "language": [(code, f"{language_label(code, ctx.locale)} — {code}") for code in choices.languages],
        "file_type": [(file_type, file_type) for file_type in choices.file_types],
    }


def _software_tab(ctx: PageContext, customer: Customer, opened: Opened | None, *, status_code: int = 200) -> Response:
    items = service.list_software(ctx.db, principal=ctx.principal, customer_id=customer.id)
    return render_customer_page(ctx, customer, "software/customer_software.html", {
        "items": items, "opened": opened, "active": service.PURCHASE_ACTIVE,
        "report_links": _report_links(ctx, customer, items),
        "options": {item.purchase.entitlement_id: _choice_options(ctx, item.choices) for item in items},
        "status_labels": ctx.labels(STATUS_LABELS),
        "cancelled_label": ctx.gettext(CANCELLED),
        "key_status_labels": ctx.labels(KEY_STATUS_LABELS),
        "labels": ctx.labels(LABELS),
        "file_size": lambda size: file_size(size, ctx.locale),
        "link_days": policies.download_link_days(ctx.db),
        "link_downloads": policies.download_link_max_downloads(ctx.db),
    }, status_code=status_code)


def _report_links(ctx: PageContext, customer: Customer, items) -> dict[str, str]:
    """"Cancel" of each active purchase: "Report a problem" pre-filled for its refund (rule R6)."""
    active = [item.purchase for item in items if item.purchase.status == service.PURCHASE_ACTIVE]
    lines = orders.lines_of_orders(ctx.db, sorted({purchase.order_id for purchase in active}))
    links = {}
    for purchase in active:
        line = next(line for line in lines[purchase.order_id] if line.line_item_number == purchase.line_item_number)
        links[purchase.entitlement_id] = support_web.report_link(
            customer_id=customer.id, domain=customer.domain, order_id=purchase.order_id,
            subscription_id=purchase.subscription_id, amount=line.total_price - line.credited_amount,
            currency=line.currency)
    return links


def _field_errors(ctx: PageContext, error: ChoiceNotOffered, software_id: str) -> FormErrors:
    """The refusal next to its select; a product's fields are named after it, as several share the page."""
    errors = explain(error, FIELDS, ctx.gettext)
    return FormErrors(fields={f"software-{software_id}-{name}": message for name, message in errors.fields.items()},
                      general=errors.general)


def _list_files(ctx: PageContext, item: service.SoftwareItem, opened: Opened) -> int:
    """Checks the expanded product's choice and lists its files; returns the status to answer with."""
    try:
        choice = service.check_choice(item.choices, **opened.values)
    except ChoiceNotOffered as error:
        opened.errors = _field_errors(ctx, error, opened.software_id)
        return error.status_code
    opened.values = {"version": choice.version, "language": choice.language, "file_type": choice.file_type}
    opened.files = service.files_for_choice(ctx.db, item.purchase, choice)
    return 200


@router.get("/customers/{customer_id}/software")
def customer_software(customer_id: str, ctx: PageContext = allow_page(*KEY_HOLDERS)) -> Response:
    """The list; `?software=ID` expands one product, and its choice (`version`, `language`, `file_type`),
    once submitted, lists the files it holds."""
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    query = ctx.request.query_params
    software_id = query.get("software", "").strip()
    if not software_id:
        return _software_tab(ctx, customer, None)
    item = service.get_software(ctx.db, principal=ctx.principal, customer_id=customer.id, software_id=software_id)
    opened = Opened(item.purchase.entitlement_id, {name: query.get(name, "").strip() for name in CHOICE_FIELDS})
    status_code = 200
    if any(name in query for name in CHOICE_FIELDS) and item.purchase.status == service.PURCHASE_ACTIVE:
        status_code = _list_files(ctx, item, opened)
    return _software_tab(ctx, customer, opened, status_code=status_code)


@router.post("/customers/{customer_id}/software/{software_id}/keysanddownloads")
def keys_and_downloads(request: Request, customer_id: str, software_id: str,
                       ctx: PageContext = allow_page(*KEY_HOLDERS),
                       form: FormData = Depends(read_form)) -> Response:
    """The product keys and a fresh link per file of the choice (rules R3, R4), shown on the tab at once:
    the desk keeps no key or link in the clear, so there is nothing to redirect to."""
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    opened = Opened(software_id, {name: text_value(form, name) for name in CHOICE_FIELDS})
    try:
        result = service.keys_and_downloads(ctx.db, ctx.desk.keyring, principal=ctx.principal,
                                            customer_id=customer.id, software_id=software_id, now=ctx.now,
                                            client=service.Client(ip=request.client.host if request.client else None,
                                                                  user_agent=request.headers.get("user-agent")),
                                            **opened.values)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        write_kept(ctx.db, error)  # the operator's "key pool empty" alert outlives the refusal
        item = service.get_software(ctx.db, principal=ctx.principal, customer_id=customer.id,
                                    software_id=software_id)
        if item.purchase.status == service.PURCHASE_ACTIVE:
            _list_files(ctx, item, opened)  # the choice and its files stay on the page, to ask again
        if not isinstance(error, ChoiceNotOffered):
            opened.message = next((ctx.gettext(text) for error_class, text in MESSAGES
                                   if isinstance(error, error_class)), ctx.gettext(NOT_REVEALED))
        return _software_tab(ctx, customer, opened, status_code=error.status_code)
    opened.values = {"version": result.choice.version, "language": result.choice.language,
                     "file_type": result.choice.file_type}
    opened.revealed = result
    base_url = ctx.desk.settings.public_base_url
    opened.links = [ShownLink(link, service.download_uri(base_url, link.token)) for link in result.links]
    return _software_tab(ctx, customer, opened)


# --- activity --------------------------------------------------------------------------------------

ACTIVITY_ACTIONS = {"revealed": service.KEYS_REVEALED, "downloaded": service.DOWNLOADED}
ACTION_LABELS = {service.KEYS_REVEALED: N_("Keys and downloads shown"), service.DOWNLOADED: N_("Download")}
ACTION_FILTER_LABELS = {"": N_("Key reveals and downloads"), "revealed": N_("Key reveals only"),
                        "downloaded": N_("Downloads only")}


@router.get("/customers/{customer_id}/software/activity")
def software_activity(customer_id: str, ctx: PageContext = allow_page(*ACTIVITY_READERS)) -> Response:
    """Who was shown the customer's keys and links, and every download by a link holder, newest first."""
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    shown = ctx.request.query_params.get("action", "").strip()
    shown = shown if shown in ACTIVITY_ACTIONS else ""
    statement = audit.query(ctx.principal, audit.ActivityFilter(customer_id=customer.id,
                                                                action=ACTIVITY_ACTIONS.get(shown)))
    if not shown:
        statement = statement.where(ActivityRecord.action.in_(tuple(ACTIVITY_ACTIONS.values())))
    page = list_page(ctx.db, statement, ctx.request)
    titles = {item.purchase.entitlement_id: item.purchase.title
              for item in service.list_software(ctx.db, principal=ctx.principal, customer_id=customer.id)}
    return render_customer_page(ctx, customer, "software/activity.html", {
        "page": page, "titles": titles, "shown": shown, "revealed": service.KEYS_REVEALED,
        "action_labels": ctx.labels(ACTION_LABELS),
        "filter_choices": list(ctx.labels(ACTION_FILTER_LABELS).items()),
        "file_size": lambda size: file_size(size, ctx.locale),
    })

