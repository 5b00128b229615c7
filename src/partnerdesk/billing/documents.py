"""An invoice as documents a partner files: the PDF statement and the reconciliation CSV.

The statement is drawn with fpdf2 in a Unicode TrueType font (French accents and the euro sign need
one; Debian's fonts-dejavu-core by default, `PARTNERDESK_INVOICE_FONT_PATH` to change it), in the
partner's language, with the operator's name and address from the settings. The CSV has Partner
Center's reconciliation columns and goes through `core.csv_safe`, so no cell opens as a formula.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import select
from sqlalchemy.orm import Session

from partnerdesk.accounts.models import Partner
from partnerdesk.billing import service
from partnerdesk.billing.closing import InvoiceTotals, totals_of
from partnerdesk.billing.errors import InvoiceFontMissing, StatementLanguageNotSupported
from partnerdesk.billing.models import (
    CREDIT_CHARGE_TYPE,
    CYCLE_CHARGE_TYPE,
    NEW_CHARGE_TYPE,
    RENEW_CHARGE_TYPE,
    Invoice,
    InvoiceLineItem,
)
from partnerdesk.config import Settings
from partnerdesk.core.csv_safe import safe_writer
from partnerdesk.web.i18n import LANGUAGES, N_, format_date, format_money, register_translations, translations_for

FONT = "statement"
# The statement's words are the portal's billing catalog (the CLI draws statements without the portal).
register_translations(Path(__file__).parent / "locale")


def period_in_words(invoice: Invoice, language: str) -> str:
    """"December 2026" / "décembre 2026": the invoice's month as a reader says it."""
    return format_date(invoice.period_start, language, format="LLLL y")


def statement_language(db: Session, invoice: Invoice, asked: str | None, now: datetime) -> str:
    """The language asked for (`en` or `fr`), else the partner's (its billing profile)."""
    if asked:
        language = asked.strip().lower()
        if language not in LANGUAGES:
            raise StatementLanguageNotSupported(
                f"language: '{asked}' is not a language statements are written in; use one of "
                f"{', '.join(sorted(LANGUAGES))}.", ["language"])
        return language
    profile = service.read_profile(db, partner_id=invoice.partner_id, now=now)
    return profile.language if profile.language in LANGUAGES else "en"


def is_credit(line: InvoiceLineItem) -> bool:
    return line.subtotal < 0


CHARGE_LABELS = {
    NEW_CHARGE_TYPE: N_("Charge: purchase"),
    CYCLE_CHARGE_TYPE: N_("Charge: recurring period"),
    RENEW_CHARGE_TYPE: N_("Charge: renewal"),
    CREDIT_CHARGE_TYPE: N_("Credit: cancellation"),
}


def charge_label(line: InvoiceLineItem) -> str:
    """What the line is, to be translated: a charge (and of what kind) or a credit."""
    if line.charge_type in CHARGE_LABELS:
        return CHARGE_LABELS[line.charge_type]
    return N_("Credit") if is_credit(line) else N_("Charge")


@dataclass(frozen=True)
class Statement:
    invoice: Invoice
    partner_name: str
    lines: list[InvoiceLineItem]
    totals: InvoiceTotals


def statement_of(db: Session, invoice: Invoice) -> Statement:
    lines = list(db.scalars(
        select(InvoiceLineItem).where(InvoiceLineItem.invoice_id == invoice.id)
        .order_by(InvoiceLineItem.created_at, InvoiceLineItem.order_id, InvoiceLineItem.order_line_number,
                  InvoiceLineItem.id)
    ))
    totals = totals_of(db, [invoice.id]).get(invoice.id, InvoiceTotals(Decimal(0), Decimal(0), Decimal(0), 0))
    if invoice.closed_at is not None:  # the frozen figures of a closed invoice are the ones it was issued with
        totals = InvoiceTotals(invoice.subtotal or Decimal(0), invoice.tax_total or Decimal(0),
                               invoice.total or Decimal(0), totals.line_count)
    partner = db.get(Partner, invoice.partner_id)
    profile = db.get(service.BillingProfile, invoice.partner_id)
    name = profile.company_name if profile is not None else (partner.name if partner else invoice.partner_id)
    return Statement(invoice=invoice, partner_name=name, lines=lines, totals=totals)


class _StatementPdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 6, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")


# Column widths (mm) of the lines table on a landscape A4 page (277 mm between the margins).
_COLUMNS = (
    (N_("Type"), 36), (N_("Customer"), 42), (N_("Product"), 58), (N_("Service period"), 38),
    (N_("Quantity"), 16), (N_("Unit price"), 25), (N_("Subtotal"), 26), (N_("Tax"), 36),
)
_ALIGN = ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")


def statement_pdf(statement: Statement, settings: Settings, language: str) -> bytes:
    """The invoice statement as a PDF document, in `language`."""
    if not settings.invoice_font_path.is_file():
        raise InvoiceFontMissing(
            f"The invoice font {settings.invoice_font_path} is missing; install Debian's fonts-dejavu-core or set "
            "PARTNERDESK_INVOICE_FONT_PATH to a Unicode TrueType font.", [str(settings.invoice_font_path)])
    _ = translations_for(language).gettext
    invoice, currency = statement.invoice, statement.invoice.currency

    def money(amount: Decimal) -> str:
        return format_money(amount, currency, language)

    pdf = _StatementPdf(f"{settings.operator_name} · {_('Invoice')} {_number(invoice, _)}")
    pdf.add_font(FONT, fname=str(settings.invoice_font_path))
    bold = settings.invoice_bold_font_path if settings.invoice_bold_font_path.is_file() else settings.invoice_font_path
    pdf.add_font(FONT, style="B", fname=str(bold))
    pdf.set_title(f"{_('Invoice')} {_number(invoice, _)}")
    pdf.set_author(settings.operator_name)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    _heading(pdf, statement, settings, language, _)
    _lines_table(pdf, statement, language, _, money)
    _totals(pdf, statement, _, money)
    return bytes(pdf.output())


def _number(invoice: Invoice, _) -> str:
    return invoice.number or _("draft (open until the month ends)")


def _heading(pdf: FPDF, statement: Statement, settings: Settings, language: str, _) -> None:
    invoice = statement.invoice
    pdf.set_font(FONT, style="B", size=13)
    pdf.cell(0, 7, settings.operator_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    for line in settings.operator_address_lines:
        pdf.cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(FONT, style="B", size=16)
    pdf.cell(0, 9, f"{_('Invoice')} {_number(invoice, _)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    facts = [
        (_("Billed to"), statement.partner_name),
        (_("Billing period"), period_in_words(invoice, language)),
        (_("Invoice date"), format_date(invoice.closed_at or invoice.period_end, language, format="long")),
        (_("Currency"), invoice.currency),
    ]
    for label, value in facts:
        pdf.cell(45, 6, label)
        pdf.cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _lines_table(pdf: FPDF, statement: Statement, language: str, _, money) -> None:
    if not statement.lines:
        pdf.cell(0, 6, _("This invoice has no lines yet."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    pdf.set_font(FONT, size=8)
    # fpdf2's table wraps long names onto more lines and repeats the heading on each new page.
    with pdf.table(col_widths=[width for _title, width in _COLUMNS], text_align=_ALIGN, line_height=4.5,
                   first_row_as_headings=True, borders_layout="HORIZONTAL_LINES") as table:
        heading = table.row()
        for title, _width in _COLUMNS:
            heading.cell(_(title))
        for line in statement.lines:
            period = format_date(line.charge_start, language, format="short")
            if line.charge_end is not None:
                period += " – " + format_date(line.charge_end, language, format="short")
            row = table.row()
            for text in (_(charge_label(line)), line.customer_name, _product(line), period, str(line.quantity),
                         money(line.unit_price), money(line.subtotal),
                         f"{money(line.tax_amount)} ({_rate(line.tax_rate)} %)"):
                row.cell(text)


def _product(line: InvoiceLineItem) -> str:
    return line.product_name if line.sku_name == line.product_name else f"{line.product_name}, {line.sku_name}"


def _totals(pdf: FPDF, statement: Statement, _, money) -> None:
    totals = statement.totals
    pdf.ln(3)
    for label, amount, style in ((_("Total before tax"), totals.subtotal, ""), (_("Tax"), totals.tax, ""),
                                 (_("Total after tax"), totals.total, "B")):
        pdf.set_font(FONT, style=style, size=10)
        pdf.cell(223, 7, label, align="R")
        pdf.cell(54, 7, money(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rate(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def reconciliation_csv(db: Session, invoice: Invoice) -> str:
    """The invoice's lines in Partner Center's reconciliation columns, safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = safe_writer(buffer)
    writer.writerow(service.RECONCILIATION_COLUMNS)
    writer.writerows(service.reconciliation_rows_of_invoice(db, invoice))
    return buffer.getvalue()
