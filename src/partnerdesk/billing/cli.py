"""`partnerdesk billing ...`: credit limits, payments and the reconciliation export, through the billing service."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from partnerdesk.billing import service
from partnerdesk.core.cli_support import open_desk
from partnerdesk.core.csv_safe import safe_writer
from partnerdesk.core.errors import DeskError

app = typer.Typer(help="The partners' billing: credit limits, invoices, reconciliation export.", no_args_is_help=True)


def _fail(error: DeskError) -> typer.Exit:
    typer.echo(f"error: {error.description}", err=True)
    return typer.Exit(1)


@app.command("credit-limit")
def credit_limit(
    partner: Annotated[str, typer.Option("--partner", help="Partner name.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code, such as EUR.")],
    amount: Annotated[str | None, typer.Option("--amount", help="The limit, such as 5000.00.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the limit for this currency.")] = False,
) -> None:
    """Set (or remove) a partner's credit limit in one currency."""
    if (amount is None) == (not remove):
        typer.echo("error: give either --amount or --remove.", err=True)
        raise typer.Exit(2)
    desk = open_desk()
    try:
        with desk.database.session() as db:
            partner_id = service.partner_named(db, partner).id
            now = desk.clock.now()
            if remove:
                removed = service.remove_credit_limit(db, principal=None, partner_id=partner_id, currency=currency,
                                                      now=now)
                typer.echo(f"credit limit {currency.upper()} of {partner} " + ("removed" if removed else "was not set"))
                return
            value = service.parse_amount(amount or "", currency.strip().upper())
            limit = service.set_credit_limit(db, principal=None, partner_id=partner_id, currency=currency,
                                             amount=value, now=now)
            typer.echo(f"credit limit of {partner}: {limit.amount} {limit.currency}")
    except DeskError as error:
        raise _fail(error) from None


@app.command("mark-paid")
def mark_paid(invoice_id: str) -> None:
    """Record that an invoice (of an ended period) was paid."""
    desk = open_desk()
    try:
        with desk.database.session() as db:
            invoice = service.mark_paid(db, principal=None, invoice_id=invoice_id, now=desk.clock.now())
            typer.echo(f"invoice {invoice.id} ({invoice.billing_period} {invoice.currency}) paid")
    except DeskError as error:
        raise _fail(error) from None


@app.command("export")
def export(
    period: Annotated[str, typer.Option("--period", help="Billing period YYYY-MM.")],
    partner: Annotated[str | None, typer.Option("--partner", help="Only this partner's lines.")] = None,
) -> None:
    """Write the period's invoice lines as reconciliation CSV on stdout (safe to open in a spreadsheet)."""
    desk = open_desk()
    try:
        with desk.database.session(write=False) as db:
            # Names come from partners and customers: no cell may open as a formula (core.csv_safe).
            writer = safe_writer(sys.stdout, lineterminator="\n")
            rows = service.reconciliation_rows(db, period=period, partner_name=partner)
            first = next(rows, None)
            writer.writerow(service.RECONCILIATION_COLUMNS)
            if first is not None:
                writer.writerow(first)
                writer.writerows(rows)
    except DeskError as error:
        raise _fail(error) from None


@app.command("close")
def close_ended() -> None:
    """Close every invoice whose month has ended (the worker does it at month end; this catches up)."""
    from partnerdesk.billing import closing
    from partnerdesk.sandbox import service as sandbox

    desk = open_desk()
    with desk.database.session() as db:
        now = sandbox.clock_for(db, desk.clock, sandbox=desk.settings.sandbox).now()
        closed = closing.close_ended(db, prefix=desk.settings.invoice_number_prefix, now=now)
        for invoice in closed:
            typer.echo(f"{invoice.number}  {invoice.billing_period} {invoice.currency}  {invoice.id}")
    typer.echo(f"closed {len(closed)} invoice(s)")


@app.command("statement")
def statement(
    invoice_id: str,
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write the PDF.")],
    language: Annotated[str | None, typer.Option("--language", help="en or fr; the partner's by default.")] = None,
) -> None:
    """Write an invoice's PDF statement to a file."""
    from pathlib import Path

    from partnerdesk.billing import documents
    from partnerdesk.billing.models import Invoice

    desk = open_desk()
    try:
        with desk.database.session(write=False) as db:
            invoice = db.get(Invoice, invoice_id)
            if invoice is None:
                raise service.InvoiceNotFound(f"No invoice with id {invoice_id}.", [invoice_id])
            chosen = documents.statement_language(db, invoice, language, desk.clock.now())
            pdf = documents.statement_pdf(documents.statement_of(db, invoice), desk.settings, chosen)
    except DeskError as error:
        raise _fail(error) from None
    Path(output).write_bytes(pdf)
    typer.echo(f"wrote {output} ({len(pdf)} bytes, {chosen})")
