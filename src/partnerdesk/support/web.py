"""Support in the portal: "Report a problem", the partner's requests with their notes and files, and the
operator's queue where refund requests (rule R6) are approved or rejected.

Admin and helpdesk agents file and follow their partner's requests; only admin agents file refund requests
(the service refuses the others, and the page says so). The operator sees every partner's requests, and
works the refund queue (`?queue=refunds`). Every page is the API's service behind a form: the pages
decide nothing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from partnerdesk.accounts.models import Role
from partnerdesk.core.errors import DeskError
from partnerdesk.core.money import money_str
from partnerdesk.customers import service as customers
from partnerdesk.software.storage import open_storage
from partnerdesk.support import attachments, refunds, service
from partnerdesk.support.errors import (
    InvalidAttachment,
    InvalidLocale,
    InvalidRefundAmount,
    InvalidRefundDecision,
    InvalidRefundReason,
    InvalidServiceRequest,
    RefundAmountTooHigh,
    RefundCurrencyMismatch,
    RefundCustomerUnknown,
    RefundFilerRequired,
    RefundItemsMissing,
    RefundPurchaseUnknown,
    TooManyAttachments,
    UnknownSupportTopic,
)
from partnerdesk.support.models import STATUS_ATTENTION_NEEDED, STATUS_CLOSED, STATUS_OPEN
from partnerdesk.web import (
    N_,
    FormErrors,
    FormField,
    PageContext,
    allow_page,
    list_page,
    portal_router,
    read_form,
    redirect,
    register_nav,
    register_templates,
    register_translations,
    text_value,
)
from partnerdesk.web.forms import SUMMARY_LINE

HERE = Path(__file__).parent
router = portal_router()
register_templates("support", HERE / "templates")
register_translations(HERE / "locale")

FILERS = (Role.admin_agent, Role.helpdesk_agent)
FOLLOWERS = (Role.operator, *FILERS)
register_nav(N_("Support"), "/support", FOLLOWERS, order=80)

STATUS_LABELS = {STATUS_OPEN: N_("Open"), STATUS_ATTENTION_NEEDED: N_("Attention needed"), STATUS_CLOSED: N_("Closed")}
SEVERITY_LABELS = {"minimal": N_("Minimal"), "moderate": N_("Moderate"), "critical": N_("Critical")}
REASON_LABELS = {"purchased_by_mistake": N_("Purchased by mistake"), "wrong_product": N_("Wrong product"),
                 "customer_cancelled": N_("The customer cancelled"), "other": N_("Other")}
DECISION_LABELS = {"approved": N_("Approved"), "rejected": N_("Rejected")}
TOPIC_LABELS = {1001: N_("CSP purchase/refund on behalf of customers"), 1002: N_("Orders and subscriptions"),
                1003: N_("Keys and downloads"), 1004: N_("Billing and invoices"), 1005: N_("Account and access"),
                1006: N_("Other")}

FIELDS = (
    FormField("topic", N_("Issue type"), ("supportTopicId",), N_("Choose an issue type."), required=True),
    FormField("severity", N_("Impact"), ("severity",), N_("Choose the impact."), required=True),
    FormField("title", N_("Title"), ("title",), N_("Give the request a title."), required=True),
    FormField("description", N_("Description"), ("description",), N_("Describe the problem."), required=True),
    FormField("first_name", N_("Contact first name"), ("primaryContact.firstName",), N_("Enter a first name."),
              required=True),
    FormField("last_name", N_("Contact last name"), ("primaryContact.lastName",), N_("Enter a last name."),
              required=True),
    FormField("email", N_("Contact email"), ("primaryContact.email",), N_("Enter an email address such as "
                                                                          "name@example.com."), required=True),
    FormField("phone", N_("Contact phone number"), ("primaryContact.phoneNumber",),
              N_("Enter a phone number such as +33 4 72 00 00 00."), required=True),
    FormField("customer_domain", N_("Customer domain"), ("refundRequest.customerDomain",),
              N_("Enter the customer's domain or its tenant ID.")),
    FormField("customer_tenant_id", N_("Customer tenant ID"), ("refundRequest.customerTenantId",),
              N_("Enter the customer's domain or its tenant ID.")),
    FormField("order_id", N_("Order ID"), ("refundRequest.orderId",), N_("Enter the order ID or the subscription ID.")),
    FormField("subscription_id", N_("Subscription ID"), ("refundRequest.subscriptionId",),
              N_("Enter the order ID or the subscription ID.")),
    FormField("reason", N_("Reason"), ("refundRequest.reason",), N_("Choose a reason.")),
    FormField("reason_details", N_("Reason details"), ("refundRequest.reasonDetails",),
              N_("Explain the reason when it is Other.")),
    FormField("amount", N_("Amount"), ("refundRequest.amount",), N_("Enter an amount such as 1234.56.")),
    FormField("currency", N_("Currency"), ("refundRequest.currency",), N_("Enter the order's currency.")),
    FormField("files", N_("Files"), ("files",), N_("Check the files.")),
)
# Where each refusal of the service points, when its data is not a field's location.
REFUND_FIELD_BY_ITEM = {"customerDomain or customerTenantId": "customer_domain",
                        "orderId or subscriptionId": "order_id", "reason": "reason",
                        "reasonDetails": "reason_details", "amount": "amount", "currency": "currency"}
FIELD_BY_LOCATION = {location: form_field.name for form_field in FIELDS for location in form_field.api_locations}
PREFILLED = ("topic", "customer_domain", "customer_tenant_id", "order_id", "subscription_id", "amount", "currency",
             "title")



def _common(ctx: PageContext) -> dict[str, Any]:
    return {"status_labels": ctx.labels(STATUS_LABELS), "severity_labels": ctx.labels(SEVERITY_LABELS),
            "reason_labels": ctx.labels(REASON_LABELS), "decision_labels": ctx.labels(DECISION_LABELS),
            "topic_labels": ctx.labels(TOPIC_LABELS), "refund_topic": service.REFUND_TOPIC_ID}


# --- the list and the queue -------------------------------------------------------------------------

@router.get("/support")
def support_requests(ctx: PageContext = allow_page(*FOLLOWERS)) -> Response:
    query = ctx.request.query_params
    queue = query.get("queue") == "refunds" and ctx.principal.is_operator
    status = query.get("status") or None
    filters = service.RequestFilter(status=status if status in service.STATUSES else None,
                                    refund_decision="pending" if queue else None)
    statement = service.search_requests(ctx.db, principal=ctx.principal, filters=filters)
    page = list_page(ctx.db, statement, ctx.request)
    views = {view.request.id: view for view in service.views_of(ctx.db, page.rows)}
    return ctx.render("support/requests.html", {**_common(ctx), "page": page, "views": views, "queue": queue,
                                                "status": filters.status, "may_file": ctx.has_role(*FILERS)})


# --- Report a problem ---------------------------------------------------------------------------------

def _form_page(ctx: PageContext, values: dict[str, str], errors: FormErrors | None = None,
               message: str | None = None, status_code: int = 200) -> Response:
    return ctx.render("support/new.html", {
        **_common(ctx), "values": values, "errors": errors, "message": message,
        "topics": [(str(topic.id), ctx.gettext(TOPIC_LABELS.get(topic.id, topic.name))) for topic in
                   service.SUPPORT_TOPICS],
        "severities": [(key, ctx.gettext(label)) for key, label in SEVERITY_LABELS.items()],
        "reasons": [(key, ctx.gettext(label)) for key, label in REASON_LABELS.items()],
        "may_refund": ctx.has_role(Role.admin_agent),
    }, status_code=status_code)


def report_link(*, customer_id: str, domain: str, order_id: str, amount: Decimal, currency: str,
                subscription_id: str | None = None) -> str:
    """"Report a problem" pre-filled for a refund of the purchase (the Cancel links of the order page and the
    Software tab)."""
    query = {"topic": str(service.REFUND_TOPIC_ID), "customer_domain": domain, "customer_tenant_id": customer_id,
             "order_id": order_id, "amount": money_str(amount, currency), "currency": currency}
    if subscription_id:
        query["subscription_id"] = subscription_id
    return "/support/new?" + urlencode(query)


@router.get("/support/new")
def new_request(ctx: PageContext = allow_page(*FILERS)) -> Response:
    query = ctx.request.query_params
    values = {name: query.get(name, "")[:200] for name in PREFILLED}
    values.setdefault("severity", "moderate")
    values["first_name"] = ctx.principal.display_name.split(" ")[0] if ctx.principal.display_name else ""
    values["last_name"] = " ".join(ctx.principal.display_name.split(" ")[1:]) if ctx.principal.display_name else ""
    values["email"] = ctx.principal.email
    return _form_page(ctx, values)


TEXT_FIELDS = ("topic", "severity", "title", "description", "first_name", "last_name", "email", "phone",
               "customer_domain", "customer_tenant_id", "order_id", "subscription_id", "reason", "reason_details",
               "amount", "currency")


def _uploads(form: FormData) -> list[attachments.Upload]:
    return [attachments.Upload(file_name=item.filename or "", size=item.size or 0, stream=item.file)
            for item in form.getlist("files") if isinstance(item, UploadFile) and (item.filename or item.size)]


def _explain(ctx: PageContext, error: DeskError) -> FormErrors:
    """The refusal beside the fields it names (every missing refund item at once, rule R6)."""
    labels = {form_field.name: ctx.gettext(form_field.label) for form_field in FIELDS}
    errors = FormErrors(summary_line=ctx.gettext(SUMMARY_LINE))
    if isinstance(error, RefundItemsMissing):
        for item in error.data:
            name = REFUND_FIELD_BY_ITEM.get(str(item))
            message = next(ctx.gettext(form_field.refused) for form_field in FIELDS if form_field.name == name)
            errors.add(name, message, label=labels.get(name))
        return errors
    located = [FIELD_BY_LOCATION[str(item)] for item in error.data if str(item) in FIELD_BY_LOCATION]
    name = located[0] if located else None
    if isinstance(error, (InvalidAttachment, TooManyAttachments)):
        name = "files"
    errors.add(name, error.description, label=labels.get(name))
    return errors


SERVICE_REFUSALS = (InvalidServiceRequest, UnknownSupportTopic, InvalidLocale, RefundItemsMissing, InvalidRefundReason,
                    InvalidRefundAmount, RefundAmountTooHigh, RefundCurrencyMismatch, RefundCustomerUnknown,
                    RefundPurchaseUnknown, InvalidAttachment, TooManyAttachments)


@router.post("/support/new")
def file_request(ctx: PageContext = allow_page(*FILERS), form: FormData = Depends(read_form)) -> Response:
    values = {name: text_value(form, name, max_length=10_000) for name in TEXT_FIELDS}
    is_refund = values["topic"] == str(service.REFUND_TOPIC_ID)
    refund_items = service.RefundItems(
        customer_domain=values["customer_domain"] or None, customer_tenant_id=values["customer_tenant_id"] or None,
        order_id=values["order_id"] or None, subscription_id=values["subscription_id"] or None,
        reason=values["reason"] or None, reason_details=values["reason_details"] or None,
        amount=values["amount"] or None, currency=values["currency"] or None) if is_refund else None
    new = service.NewServiceRequest(
        agent_locale=_agent_locale(ctx), title=values["title"], description=values["description"],
        severity=values["severity"], support_topic_id=values["topic"] or "",
        contact=service.Contact(values["first_name"], values["last_name"], values["email"], values["phone"]),
        refund=refund_items)
    try:
        view = service.file_request(ctx.db, principal=ctx.principal, new=new, now=ctx.now)
        files = _uploads(form)
        if files:
            attachments.add_attachments(ctx.db, open_storage(ctx.desk.settings), principal=ctx.principal,
                                        request_id=view.request.id, uploads=files, now=ctx.now)
    except RefundFilerRequired:
        ctx.db.rollback()
        return _form_page(ctx, values, message=ctx.gettext(
            "Only an admin agent can ask for a refund. Choose another issue type, or ask an admin agent."),
            status_code=403)
    except SERVICE_REFUSALS as error:
        ctx.db.rollback()
        return _form_page(ctx, values, errors=_explain(ctx, error), status_code=400)
    ctx.flash(ctx.gettext("Your request was submitted. Its number is %(number)s; we will email %(email)s at each "
                          "change.", number=view.request.id.split("-")[0].upper(), email=view.request.contact_email))
    return redirect(f"/support/{view.request.id}")


def _agent_locale(ctx: PageContext) -> str:
    return {"fr": "fr-FR", "en": "en-US"}.get(ctx.locale.split("_")[0], "en-US")


# --- one request ------------------------------------------------------------------------------------

def _request_page(ctx: PageContext, request_id: str, *, errors: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    view = service.get_request(ctx.db, principal=ctx.principal, request_id=request_id)
    refund = view.refund
    left = refunds.amount_left(ctx.db, refund) if refund is not None and refund.decision is None else None
    return ctx.render("support/request.html", {
        **_common(ctx), "view": view, "request": view.request, "refund": refund, "left": left,
        "errors": errors or {}, "is_operator": ctx.principal.is_operator,
        "customer": customers.get_customer(ctx.db, principal=ctx.principal, customer_id=view.request.customer_id)
        if view.request.customer_id else None,
    }, status_code=status_code)


@router.get("/support/{request_id}")
def support_request(request_id: str, ctx: PageContext = allow_page(*FOLLOWERS)) -> Response:
    return _request_page(ctx, request_id)


@router.post("/support/{request_id}/notes")
def add_note(request_id: str, ctx: PageContext = allow_page(*FOLLOWERS),
             form: FormData = Depends(read_form)) -> Response:
    status = text_value(form, "status", max_length=20) or None
    note = text_value(form, "note", max_length=10_000) or None
    try:
        service.update_request(ctx.db, principal=ctx.principal, request_id=request_id, note=note, status=status,
                               now=ctx.now)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        return _request_page(ctx, request_id, errors={"note": error.description}, status_code=error.status_code)
    ctx.flash(ctx.gettext("The request was updated."))
    return redirect(f"/support/{request_id}")


@router.post("/support/{request_id}/attachments")
def add_files(request_id: str, ctx: PageContext = allow_page(*FOLLOWERS),
              form: FormData = Depends(read_form)) -> Response:
    try:
        rows = attachments.add_attachments(ctx.db, open_storage(ctx.desk.settings), principal=ctx.principal,
                                           request_id=request_id, uploads=_uploads(form), now=ctx.now)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code == 404:
            raise
        return _request_page(ctx, request_id, errors={"files": error.description}, status_code=error.status_code)
    ctx.flash(ctx.ngettext("%(num)s file was attached.", "%(num)s files were attached.", len(rows), num=len(rows)))
    return redirect(f"/support/{request_id}")


@router.get("/support/{request_id}/attachments/{attachment_id}")
def download_file(request_id: str, attachment_id: str, ctx: PageContext = allow_page(*FOLLOWERS)) -> Response:
    row = attachments.get_attachment(ctx.db, principal=ctx.principal, request_id=request_id,
                                     attachment_id=attachment_id)
    chunks = attachments.attachment_bytes(open_storage(ctx.desk.settings), row)
    return StreamingResponse(chunks, media_type=row.content_type, headers=attachments.download_headers(row))


@router.post("/support/{request_id}/approve")
def approve_refund(request_id: str, ctx: PageContext = allow_page(Role.operator),
                   form: FormData = Depends(read_form)) -> Response:
    amount = text_value(form, "amount", max_length=40) or None
    try:
        if amount is not None:
            Decimal(amount)
        refunds.approve(ctx.db, principal=ctx.principal, request_id=request_id, amount=amount,
                        note=text_value(form, "note", max_length=2000) or None,
                        override_reason=text_value(form, "override_reason", max_length=2000) or None, now=ctx.now)
    except InvalidOperation:
        return _request_page(ctx, request_id, errors={"amount": ctx.gettext("Enter an amount such as 1234.56.")},
                             status_code=400)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        field = "amount" if isinstance(error, (InvalidRefundAmount, InvalidRefundDecision)) else "decision"
        return _request_page(ctx, request_id, errors={field: error.description}, status_code=error.status_code)
    ctx.flash(ctx.gettext("The refund was approved: the lines are cancelled and the partner is credited."))
    return redirect(f"/support/{request_id}")


@router.post("/support/{request_id}/reject")
def reject_refund(request_id: str, ctx: PageContext = allow_page(Role.operator),
                  form: FormData = Depends(read_form)) -> Response:
    try:
        refunds.reject(ctx.db, principal=ctx.principal, request_id=request_id,
                       reason=text_value(form, "reason", max_length=2000) or None, now=ctx.now)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        return _request_page(ctx, request_id, errors={"reason": error.description}, status_code=error.status_code)
    ctx.flash(ctx.gettext("The refund was rejected; the partner reads your reason."))
    return redirect(f"/support/{request_id}")
