"""Webhook pages: the partner's endpoints, adding one (its signing secret shown once), pausing and
deleting it, and its deliveries with their attempts, sent again when they failed.

The pages call the same services as `/v1/webhooks` (webhooks.api) with the same roles: the
partner's admin agents only. A signing secret is put in the page that answers the change and
nowhere else: not in a redirect, the session, a flash message or a log.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from partnerdesk.core.errors import DeskError
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
    redirect,
    register_nav,
    register_templates,
    register_translations,
    text_value,
)
from partnerdesk.webhooks import service
from partnerdesk.webhooks.api import ADMINS
from partnerdesk.webhooks.errors import DeliveryNotRetryable, EndpointInactive, TooManyEndpoints
from partnerdesk.webhooks.events import EVENT_TYPES, subscribable_event_types
from partnerdesk.webhooks.models import DeliveryStatus, WebhookEndpoint
from partnerdesk.webhooks.schemas import EndpointIn, EndpointPatch

HERE = Path(__file__).parent
router = portal_router()
register_templates("webhooks", HERE / "templates")
register_translations(HERE / "locale")
register_nav(N_("Webhooks"), "/webhooks", ADMINS, order=70)

# What each event type means, in the reader's language; a type not listed shows the API's description.
EVENT_LABELS = {
    "order.created": N_("An order was placed."),
    "order.cancelled": N_("Lines of an order were cancelled and the partner credited."),
    "entitlement.revoked": N_("An entitlement was revoked: its keys and download links stop working."),
    "servicerequest.created": N_("A support request was filed."),
    "servicerequest.updated": N_("A support request changed: a note, a file or its status."),
    "refundrequest.approved": N_("The operator approved a refund request."),
    "refundrequest.rejected": N_("The operator rejected a refund request."),
    "subscription.charged": N_("A later period of a subscription was charged."),
    "subscription.renewed": N_("A subscription renewed for another term."),
    "subscription.expired": N_("A subscription reached the end of its term."),
    "invoice.closed": N_("An invoice of the month was closed."),
    "webhook.test": N_("A test ping."),
}
DELIVERY_STATUS_LABELS = {
    DeliveryStatus.pending: N_("Being sent"),
    DeliveryStatus.delivered: N_("Delivered"),
    DeliveryStatus.failed: N_("Failed"),
    DeliveryStatus.cancelled: N_("Not sent"),
}

FIELDS = (
    FormField("url", N_("Address (URL)"), ("url",), N_("Enter an address such as https://example.com/webhooks."),
              required=True),
    FormField("event_types", N_("Events to send"), ("eventTypes",), N_("Choose at least one event."),
              required=True),
    FormField("description", N_("Description"), ("description",), N_("Enter a shorter description.")),
)
BY_ERROR = {TooManyEndpoints: (None, N_("A partner may have at most 20 webhook endpoints; delete one first."))}
CHANGE_REFUSED = {
    EndpointInactive: N_("This endpoint is paused; resume it first."),
    DeliveryNotRetryable: N_("Only a failed or unsent delivery can be sent again."),
}


def _event_label(ctx: PageContext, name: str) -> str:
    return ctx.gettext(EVENT_LABELS[name]) if name in EVENT_LABELS else EVENT_TYPES[name].description


def _event_choices(ctx: PageContext) -> list[tuple[str, str]]:
    return [(name, _event_label(ctx, name)) for name in subscribable_event_types()]


def _render_form(ctx: PageContext, values: dict, errors: FormErrors | None = None, *,
                 status_code: int = 200) -> Response:
    return ctx.render("webhooks/new.html", {
        "values": values, "errors": errors, "fields": {form_field.name: form_field for form_field in FIELDS},
        "events": _event_choices(ctx),
    }, status_code=status_code)


def _render_secret(ctx: PageContext, endpoint: WebhookEndpoint, secret: str, *, added: bool) -> Response:
    return ctx.render("webhooks/secret.html", {"endpoint": endpoint, "secret": secret, "added": added})


@router.get("/webhooks")
def endpoint_list(ctx: PageContext = allow_page(*ADMINS)) -> Response:
    page = list_page(ctx.db, service.search_endpoints(ctx.principal), ctx.request)
    return ctx.render("webhooks/list.html", {"page": page})


@router.get("/webhooks/new")
def new_endpoint_form(ctx: PageContext = allow_page(*ADMINS)) -> Response:
    return _render_form(ctx, {"url": "", "description": "", "event_types": []})


@router.post("/webhooks/new")
def add_endpoint(ctx: PageContext = allow_page(*ADMINS), form: FormData = Depends(read_form)) -> Response:
    values = {"url": text_value(form, "url"), "description": text_value(form, "description"),
              "event_types": [value for value in form.getlist("event_types") if isinstance(value, str)]}
    try:
        data = EndpointIn(url=values["url"], event_types=values["event_types"], description=values["description"])
        endpoint, secret = service.create_endpoint(
            ctx.db, principal=ctx.principal, keyring=ctx.desk.keyring, data=data, now=ctx.now,
            allow_private=ctx.desk.settings.webhook_private_targets)
    except (DeskError, ValidationError) as error:
        ctx.db.rollback()
        errors = explain(error, FIELDS, ctx.gettext, by_error=BY_ERROR)
        status_code = error.status_code if isinstance(error, DeskError) else 400
        return _render_form(ctx, values, errors, status_code=status_code)
    # Answered here rather than after a redirect: the secret must not wait in the session for the next page.
    return _render_secret(ctx, endpoint, secret, added=True)


def _status_asked(ctx: PageContext) -> DeliveryStatus | None:
    """`?status=failed`; anything else lists every delivery."""
    try:
        return DeliveryStatus(ctx.request.query_params.get("status", ""))
    except ValueError:
        return None


def _endpoint_page(ctx: PageContext, endpoint_id: str, *, message: str | None = None,
                   status_code: int = 200) -> Response:
    endpoint = service.get_endpoint(ctx.db, principal=ctx.principal, endpoint_id=endpoint_id)
    status = _status_asked(ctx)
    statement = service.search_deliveries(ctx.db, principal=ctx.principal, endpoint_id=endpoint.id, status=status)
    page = list_page(ctx.db, statement, ctx.request)
    progress = service.delivery_progress(ctx.db, list(page.rows))
    return ctx.render("webhooks/endpoint.html", {
        "endpoint": endpoint, "page": page, "progress": progress, "status": status, "message": message,
        "events": {name: _event_label(ctx, name) for name in EVENT_TYPES},
        "status_labels": {status: ctx.gettext(label) for status, label in DELIVERY_STATUS_LABELS.items()},
        "retryable": (DeliveryStatus.failed, DeliveryStatus.cancelled),
    }, status_code=status_code)


@router.get("/webhooks/{endpoint_id}")
def endpoint_page(endpoint_id: str, ctx: PageContext = allow_page(*ADMINS)) -> Response:
    return _endpoint_page(ctx, endpoint_id)


def _refused(ctx: PageContext, endpoint_id: str, error: DeskError) -> Response:
    """The endpoint's page again, saying why a change was refused; not-found and forbidden stay errors."""
    ctx.db.rollback()
    if error.status_code in (403, 404):
        raise error
    message = CHANGE_REFUSED.get(type(error), N_("This could not be done. Reload the page and try again."))
    return _endpoint_page(ctx, endpoint_id, message=ctx.gettext(message), status_code=error.status_code)


@router.post("/webhooks/{endpoint_id}/active")
def pause_or_resume(endpoint_id: str, ctx: PageContext = allow_page(*ADMINS),
                    form: FormData = Depends(read_form)) -> Response:
    active = text_value(form, "active") == "true"
    try:
        endpoint = service.update_endpoint(ctx.db, principal=ctx.principal, endpoint_id=endpoint_id,
                                           changes=EndpointPatch(active=active), now=ctx.now,
                                           allow_private=ctx.desk.settings.webhook_private_targets)
    except DeskError as error:
        return _refused(ctx, endpoint_id, error)
    ctx.flash(ctx.gettext("The endpoint was resumed: events are sent to it again.") if active
              else ctx.gettext("The endpoint was paused: no event is sent to it until it is resumed."))
    return redirect(f"/webhooks/{endpoint.id}")


@router.post("/webhooks/{endpoint_id}/test")
def send_test(endpoint_id: str, ctx: PageContext = allow_page(*ADMINS)) -> Response:
    try:
        service.send_test_event(ctx.db, principal=ctx.principal, endpoint_id=endpoint_id, now=ctx.now)
    except DeskError as error:
        return _refused(ctx, endpoint_id, error)
    ctx.flash(ctx.gettext("A test event is on its way; its delivery is listed below."))
    return redirect(f"/webhooks/{endpoint_id}")


@router.post("/webhooks/{endpoint_id}/rotate-secret")
def rotate_secret(endpoint_id: str, ctx: PageContext = allow_page(*ADMINS)) -> Response:
    endpoint, secret = service.rotate_secret(ctx.db, principal=ctx.principal, keyring=ctx.desk.keyring,
                                             endpoint_id=endpoint_id, now=ctx.now)
    return _render_secret(ctx, endpoint, secret, added=False)


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry")
def retry_delivery(endpoint_id: str, delivery_id: str, ctx: PageContext = allow_page(*ADMINS)) -> Response:
    try:
        service.retry_delivery(ctx.db, principal=ctx.principal, endpoint_id=endpoint_id, delivery_id=delivery_id,
                               now=ctx.now)
    except DeskError as error:
        return _refused(ctx, endpoint_id, error)
    ctx.flash(ctx.gettext("The delivery will be sent again."))
    return redirect(f"/webhooks/{endpoint_id}")


@router.get("/webhooks/{endpoint_id}/delete")
def confirm_delete(endpoint_id: str, ctx: PageContext = allow_page(*ADMINS)) -> Response:
    endpoint = service.get_endpoint(ctx.db, principal=ctx.principal, endpoint_id=endpoint_id)
    return ctx.render("webhooks/delete.html", {"endpoint": endpoint})


@router.post("/webhooks/{endpoint_id}/delete")
def delete_endpoint(endpoint_id: str, ctx: PageContext = allow_page(*ADMINS)) -> Response:
    endpoint = service.get_endpoint(ctx.db, principal=ctx.principal, endpoint_id=endpoint_id)
    url = endpoint.url
    service.delete_endpoint(ctx.db, principal=ctx.principal, endpoint_id=endpoint.id, now=ctx.now)
    ctx.flash(ctx.gettext("The endpoint %(url)s was deleted.", url=url))
    return redirect("/webhooks")
