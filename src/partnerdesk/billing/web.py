"""Invoice pages for the partner's billing admin and the operator: the list, one invoice with its lines,
tax and totals, and its two downloads (the PDF statement and the reconciliation CSV)."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import Response

from partnerdesk.accounts import service as accounts_service
from partnerdesk.billing import documents, service
from partnerdesk.billing.api import INVOICE_READERS, document_name
from partnerdesk.web import (
    N_,
    PageContext,
    allow_page,
    list_page,
    portal_router,
    register_nav,
    register_templates,
    register_translations,
)

HERE = Path(__file__).parent
router = portal_router()
register_templates("billing", HERE / "templates")
register_translations(HERE / "locale")
register_nav(N_("Invoices"), "/invoices", INVOICE_READERS, order=40)

# "In progress" rather than "Open": another domain's catalog translates "Open" as the verb.
STATUS_LABELS = {"paid": N_("Paid"), "open": N_("In progress"), "due": N_("Due")}


def _partner_names(ctx: PageContext, partner_ids) -> dict[str, str]:
    if not ctx.principal.is_operator:
        return {}
    return {partner_id: accounts_service.get_partner(ctx.db, partner_id).name for partner_id in set(partner_ids)}


@router.get("/invoices")
def invoice_list(ctx: PageContext = allow_page(*INVOICE_READERS)) -> Response:
    page = list_page(ctx.db, service.search_invoices(ctx.principal), ctx.request)
    rows = service.summaries(ctx.db, page.rows)
    return ctx.render("billing/invoices.html", {
        "page": page, "summaries": rows,
        "statuses": {row.invoice.id: ctx.gettext(STATUS_LABELS[row.status(ctx.now)]) for row in rows},
        "periods": {row.invoice.id: documents.period_in_words(row.invoice, ctx.locale) for row in rows},
        "partner_names": _partner_names(ctx, [row.invoice.partner_id for row in rows]),
    })


@router.get("/invoices/{invoice_id}")
def invoice_page(invoice_id: str, ctx: PageContext = allow_page(*INVOICE_READERS)) -> Response:
    invoice = service.get_invoice(ctx.db, principal=ctx.principal, invoice_id=invoice_id)
    page = list_page(ctx.db, service.invoice_lines(ctx.db, principal=ctx.principal, invoice_id=invoice.id),
                     ctx.request)
    summary = service.summaries(ctx.db, [invoice])[0]
    return ctx.render("billing/invoice.html", {
        "invoice": invoice, "summary": summary, "page": page,
        "period": documents.period_in_words(invoice, ctx.locale),
        "labels": {line.id: ctx.gettext(documents.charge_label(line)) for line in page.rows},
        "status": ctx.gettext(STATUS_LABELS[summary.status(ctx.now)]),
        "partner_name": _partner_names(ctx, [invoice.partner_id]).get(invoice.partner_id),
    })


@router.get("/invoices/{invoice_id}/statement.pdf")
def invoice_statement(invoice_id: str, ctx: PageContext = allow_page(*INVOICE_READERS)) -> Response:
    """The PDF statement in the reader's language (the API's default is the partner's)."""
    invoice = service.get_invoice(ctx.db, principal=ctx.principal, invoice_id=invoice_id)
    pdf = documents.statement_pdf(documents.statement_of(ctx.db, invoice), ctx.desk.settings,
                                  ctx.locale)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{document_name(invoice, "pdf")}"'})


@router.get("/invoices/{invoice_id}/reconciliation.csv")
def invoice_reconciliation(invoice_id: str, ctx: PageContext = allow_page(*INVOICE_READERS)) -> Response:
    invoice = service.get_invoice(ctx.db, principal=ctx.principal, invoice_id=invoice_id)
    return Response(documents.reconciliation_csv(ctx.db, invoice), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{document_name(invoice, "csv")}"'})
