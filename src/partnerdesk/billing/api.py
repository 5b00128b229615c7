"""Billing routes: the partner's invoices (billing admin and operator), billing profile and credit limits.

- `GET /v1/invoices`, `GET /v1/invoices/{id}`, `GET /v1/invoices/{id}/lineitems`
- `GET/PUT /v1/profiles/billing`: the partner's billing profile with its credit limits
- `PUT/DELETE /v1/partners/{partnerId}/creditlimits/{currency}`: the operator sets a credit limit
- `POST /v1/invoices/{id}/payments`: the operator records that an invoice was paid
- `GET /v1/invoices/{id}/documents/statement`: the invoice as a PDF (Partner Center's path)
- `GET /v1/invoices/{id}/documents/reconciliation`: its lines as reconciliation CSV
- `PATCH /v1/customers/{customerId}/subscriptions/{subscriptionId}`: `autoRenewEnabled` on or off
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.billing import documents, schedule, service
from partnerdesk.billing.schemas import (
    BillingProfileIn,
    BillingProfileOut,
    CreditLimitIn,
    InvoiceLineItemOut,
    InvoiceOut,
)
from partnerdesk.core.pagination import PageRequest, page_params, paginate, to_collection
from partnerdesk.core.schemas import CamelModel, Collection
from partnerdesk.core.wire_types import currency_pattern
from partnerdesk.orders import presenters
from partnerdesk.orders import service as orders
from partnerdesk.orders.schemas import SubscriptionOut

router = APIRouter(prefix="/v1", tags=["billing"])

INVOICE_READERS = (Role.billing_admin, Role.operator)


@router.get("/invoices", response_model=Collection[InvoiceOut])
def list_invoices(
    request: Request,
    ctx: RequestContext = allow(*INVOICE_READERS),
    page: PageRequest = Depends(page_params),
    partner_id: str | None = Query(None, alias="partnerId", description="Operator only: one partner's."),
    period: str | None = Query(None, description="Billing period YYYY-MM.",
                               json_schema_extra={"pattern": service.PERIOD_PATTERN}),
) -> Collection[InvoiceOut]:
    statement = service.search_invoices(ctx.principal, partner_id=partner_id, period=period)
    result = paginate(ctx.db, statement, page, sort=service.INVOICE_LIST_ORDER)
    summaries = {summary.invoice.id: summary for summary in service.summaries(ctx.db, result.rows)}
    return to_collection(result, request.url.path, dict(request.query_params),
                         lambda invoice: InvoiceOut.of(summaries[invoice.id], ctx.now))


@router.get("/invoices/{invoiceId}", response_model=InvoiceOut)
def get_invoice(
    invoice_id: str = Path(alias="invoiceId"), ctx: RequestContext = allow(*INVOICE_READERS)
) -> InvoiceOut:
    invoice = service.get_invoice(ctx.db, principal=ctx.principal, invoice_id=invoice_id)
    return InvoiceOut.of(service.summaries(ctx.db, [invoice])[0], ctx.now)


@router.get("/invoices/{invoiceId}/lineitems", response_model=Collection[InvoiceLineItemOut])
def list_invoice_lines(
    request: Request,
    invoice_id: str = Path(alias="invoiceId"),
    ctx: RequestContext = allow(*INVOICE_READERS),
    page: PageRequest = Depends(page_params),
) -> Collection[InvoiceLineItemOut]:
    invoice = service.get_invoice(ctx.db, principal=ctx.principal, invoice_id=invoice_id)
    statement = service.invoice_lines(ctx.db, principal=ctx.principal, invoice_id=invoice_id)
    result = paginate(ctx.db, statement, page, sort=service.INVOICE_LINE_LIST_ORDER)
    return to_collection(result, request.url.path, dict(request.query_params),
                         lambda line: InvoiceLineItemOut.of(line, invoice.number))


def document_name(invoice, extension: str) -> str:
    return f"{invoice.number or 'draft-' + invoice.billing_period + '-' + invoice.currency}.{extension}"


@router.get("/invoices/{invoiceId}/documents/statement", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The invoice as a PDF."}})
def invoice_statement(
    invoice_id: str = Path(alias="invoiceId"),
    ctx: RequestContext = allow(*INVOICE_READERS),
    language: str | None = Query(None, description="en or fr; by default the partner's (billing profile)."),
) -> Response:
    """The invoice statement as a PDF: number, period, every line with its tax, totals before and after tax."""
    invoice = service.get_invoice(ctx.db, principal=ctx.principal, invoice_id=invoice_id)
    chosen = documents.statement_language(ctx.db, invoice, language, ctx.now)
    pdf = documents.statement_pdf(documents.statement_of(ctx.db, invoice), ctx.desk.settings, chosen)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{document_name(invoice, "pdf")}"',
        "Content-Language": chosen})


@router.get("/invoices/{invoiceId}/documents/reconciliation", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "Reconciliation CSV."}})
def invoice_reconciliation(
    invoice_id: str = Path(alias="invoiceId"), ctx: RequestContext = allow(*INVOICE_READERS)
) -> Response:
    """The invoice's lines in Partner Center's reconciliation columns, as CSV (UTF-8)."""
    invoice = service.get_invoice(ctx.db, principal=ctx.principal, invoice_id=invoice_id)
    return Response(documents.reconciliation_csv(ctx.db, invoice), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{document_name(invoice, "csv")}"'})


class SubscriptionRenewalIn(CamelModel):
    auto_renew_enabled: bool = Field(description="Renew for another term at the price then in force, at term end.")


@router.patch("/customers/{customerId}/subscriptions/{subscriptionId}", response_model=SubscriptionOut)
def update_subscription(
    body: SubscriptionRenewalIn,
    customer_id: str = Path(alias="customerId"),
    subscription_id: str = Path(alias="subscriptionId"),
    ctx: RequestContext = allow(Role.admin_agent, Role.sales_agent),
) -> SubscriptionOut:
    """Turns `autoRenewEnabled` on or off, as Partner Center's PATCH of a subscription does."""
    subscription = orders.get_subscription(ctx.db, principal=ctx.principal, customer_id=customer_id,
                                           subscription_id=subscription_id)
    changed = schedule.set_auto_renew(ctx.db, subscription=subscription, enabled=body.auto_renew_enabled,
                                      principal=ctx.principal, now=ctx.now, request_id=ctx.request_id)
    return presenters.subscription_out(changed)


@router.post("/invoices/{invoiceId}/payments", response_model=InvoiceOut)
def record_payment(
    invoice_id: str = Path(alias="invoiceId"), ctx: RequestContext = allow(Role.operator)
) -> InvoiceOut:
    invoice = service.mark_paid(ctx.db, principal=ctx.principal, invoice_id=invoice_id, now=ctx.now,
                                request_id=ctx.request_id)
    return InvoiceOut.of(service.summaries(ctx.db, [invoice])[0], ctx.now)


def _profile_out(ctx: RequestContext, partner_id: str) -> BillingProfileOut:
    profile = service.read_profile(ctx.db, partner_id=partner_id, now=ctx.now)
    limits = [(limit, service.unpaid_balance(ctx.db, partner_id, limit.currency))
              for limit in service.credit_limits(ctx.db, partner_id)]
    return BillingProfileOut.of(profile, limits)


@router.get("/profiles/billing", response_model=BillingProfileOut)
def get_billing_profile(
    ctx: RequestContext = allow(*INVOICE_READERS),
    partner_id: str | None = Query(None, alias="partnerId", description="Operator only: whose profile."),
) -> BillingProfileOut:
    return _profile_out(ctx, service.visible_partner_id(ctx.principal, partner_id))


@router.put("/profiles/billing", response_model=BillingProfileOut)
def update_billing_profile(
    body: BillingProfileIn, ctx: RequestContext = allow(Role.billing_admin)
) -> BillingProfileOut:
    service.update_profile(ctx.db, principal=ctx.principal, company_name=body.company_name, email=body.email,
                           country=body.country, now=ctx.now, request_id=ctx.request_id, language=body.language)
    return _profile_out(ctx, ctx.principal.partner_id or "")


@router.put("/partners/{partnerId}/creditlimits/{currency}", response_model=BillingProfileOut)
def set_credit_limit(
    body: CreditLimitIn,
    partner_id: str = Path(alias="partnerId"),
    currency: str = Path(min_length=3, max_length=3, description="An ISO 4217 code such as EUR, in any letter case.",
                         json_schema_extra={"pattern": currency_pattern()}),
    ctx: RequestContext = allow(Role.operator),
) -> BillingProfileOut:
    currency = currency.upper()
    amount = service.parse_amount(body.amount, currency)
    service.set_credit_limit(ctx.db, principal=ctx.principal, partner_id=partner_id, currency=currency,
                             amount=amount, now=ctx.now, request_id=ctx.request_id)
    return _profile_out(ctx, partner_id)


@router.delete("/partners/{partnerId}/creditlimits/{currency}", status_code=204)
def remove_credit_limit(
    partner_id: str = Path(alias="partnerId"),
    currency: str = Path(min_length=3, max_length=3),
    ctx: RequestContext = allow(Role.operator),
) -> Response:
    service.remove_credit_limit(ctx.db, principal=ctx.principal, partner_id=partner_id, currency=currency,
                                now=ctx.now, request_id=ctx.request_id)
    return Response(status_code=204)
