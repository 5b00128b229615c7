"""Invoice pages for the partner's billing admin and the operator: the list and one invoice's lines."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import Response

from partnerdesk.accounts import service as accounts_service
from partnerdesk.billing import service
from partnerdesk.billing.api import INVOICE_READERS
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

STATUS_LABELS = {"paid": N_("Paid"), "open": N_("Open"), "due": N_("Due")}


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
        "status": ctx.gettext(STATUS_LABELS[summary.status(ctx.now)]),
        "partner_name": _partner_names(ctx, [invoice.partner_id]).get(invoice.partner_id),
    })
