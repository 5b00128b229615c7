"""Closing invoices at month end: a human number, gap-free per year, and totals frozen for good.

A job queued when the invoice is created (`billing.close_invoice`, due when its month ends) closes
it. The closing transaction locks the invoice row, then the year's counter row (an `UPDATE ...
RETURNING` that holds the row until the commit), so closings of one year take numbers one after the
other: a closing that fails rolls its number back with it, and no number is skipped or given twice.
Invoices of a year are numbered by the year of their billing period: December 2026's invoice,
closed on 1 January 2027, is PD-2026-....
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from partnerdesk.billing.errors import InvoiceNotFound, InvoiceStillOpen
from partnerdesk.billing.models import Invoice, InvoiceLineItem, InvoiceNumberCounter
from partnerdesk.core.db import insert_ignoring_duplicates
from partnerdesk.core.money import money_str

if TYPE_CHECKING:
    from partnerdesk.core.desk import Desk
    from partnerdesk.jobs.service import ClaimedJob

_counter = InvoiceNumberCounter.__table__.c


@dataclass(frozen=True)
class InvoiceTotals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    line_count: int


def totals_of(db: Session, invoice_ids: list[str]) -> dict[str, InvoiceTotals]:
    """Tax-exclusive subtotal, tax and total per invoice, summed from its lines in one grouped query."""
    if not invoice_ids:
        return {}
    table = InvoiceLineItem.__table__.c
    rows = db.execute(
        select(table.invoice_id, func.sum(table.subtotal), func.sum(table.tax_amount), func.count())
        .where(table.invoice_id.in_(invoice_ids)).group_by(table.invoice_id)
    )
    return {invoice_id: InvoiceTotals(subtotal, tax, subtotal + tax, count)
            for invoice_id, subtotal, tax, count in rows}


def invoice_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year:04d}-{sequence:06d}"


def _next_number(db: Session, year: int) -> int:
    db.execute(insert_ignoring_duplicates(db, InvoiceNumberCounter.__table__), [{"year": year, "last_number": 0}])
    return db.execute(
        update(InvoiceNumberCounter.__table__).where(_counter.year == year)
        .values(last_number=_counter.last_number + 1).returning(_counter.last_number)
    ).scalar_one()


def close_invoice(db: Session, *, invoice_id: str, prefix: str, now: datetime) -> Invoice:
    """Closes an invoice whose month has ended: gives it its number and freezes its totals.

    Closing a closed invoice changes nothing and answers it as it is.
    """
    invoice = db.scalar(select(Invoice).where(Invoice.id == invoice_id).with_for_update())
    if invoice is None:
        raise InvoiceNotFound(f"No invoice with id {invoice_id}.", [invoice_id])
    if invoice.closed_at is not None:
        return invoice
    if now < invoice.period_end:
        raise InvoiceStillOpen(
            f"Invoice {invoice.id} is for {invoice.billing_period}, which has not ended; it closes on "
            f"{invoice.period_end:%Y-%m-%d}.", [invoice.id])
    year = invoice.period_start.year
    totals = totals_of(db, [invoice.id]).get(invoice.id, InvoiceTotals(Decimal(0), Decimal(0), Decimal(0), 0))
    invoice.number = invoice_number(prefix, year, _next_number(db, year))
    invoice.closed_at = now
    invoice.subtotal, invoice.tax_total, invoice.total = totals.subtotal, totals.tax, totals.total
    db.flush()
    _announce(db, invoice)
    return invoice


def close_ended(db: Session, *, prefix: str, now: datetime) -> list[Invoice]:
    """Closes every invoice whose month has ended and is still open (for invoices made before closing jobs)."""
    ids = list(db.scalars(select(Invoice.id).where(Invoice.closed_at.is_(None), Invoice.period_end <= now)
                          .order_by(Invoice.period_start, Invoice.partner_id, Invoice.currency)))
    return [close_invoice(db, invoice_id=invoice_id, prefix=prefix, now=now) for invoice_id in ids]


def run_close_job(desk: Desk, job: ClaimedJob) -> None:
    """Job handler: closes one invoice once its month has ended (at least once is fine: closing is idempotent)."""
    from partnerdesk.jobs import service as jobs

    with desk.database.session() as db:
        invoice = db.get(Invoice, str(job.payload["invoiceId"]))
        if invoice is not None and invoice.closed_at is None and job.claimed_at < invoice.period_end:
            # Run early: wait for the month's end again rather than fail until the retries run out.
            jobs.enqueue(db, kind=job.kind, payload=dict(job.payload), now=job.claimed_at,
                         run_after=invoice.period_end)
            return
        close_invoice(db, invoice_id=str(job.payload["invoiceId"]), prefix=desk.settings.invoice_number_prefix,
                      now=job.claimed_at)


def _announce(db: Session, invoice: Invoice) -> None:
    from partnerdesk.webhooks.service import publish_event

    currency = invoice.currency
    publish_event(db, partner_id=invoice.partner_id, event_type="invoice.closed", now=invoice.closed_at, data={
        "invoiceId": invoice.id, "invoiceNumber": invoice.number, "billingPeriod": invoice.billing_period,
        "currencyCode": currency, "subtotal": money_str(invoice.subtotal, currency),
        "taxTotal": money_str(invoice.tax_total, currency), "totalCharges": money_str(invoice.total, currency),
    })
