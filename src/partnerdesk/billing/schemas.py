"""API shapes of the partner's billing profile, credit limits, invoices and invoice lines (money as strings)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from partnerdesk.billing.documents import period_in_words
from partnerdesk.billing.models import BillingProfile, CreditLimit, InvoiceLineItem
from partnerdesk.billing.service import STATEMENT_LANGUAGES, InvoiceSummary
from partnerdesk.core.markets import market_pattern
from partnerdesk.core.money import money_str
from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.core.wire_types import PrintableName, any_case_pattern

# What the document promises for a credit limit: a whole amount under 10^14 ("5000", "5000.00"), valid in every
# currency. The service also takes cents up to the currency's own decimals ("5000.50" in EUR, not in JPY), a
# rule JSON Schema cannot tie to the currency named in the path.
WHOLE_AMOUNT_PATTERN = r"^[0-9]{1,14}(\.0+)?$"


class CreditLimitIn(CamelModel):
    # A string, so no binary float ever carries money: "5000.00".
    amount: str = Field(min_length=1, max_length=32, json_schema_extra={"pattern": WHOLE_AMOUNT_PATTERN},
                        description="An amount such as 5000.00, with at most the currency's decimals (EUR 2, "
                        "JPY 0).")


class BillingProfileIn(CamelModel):
    company_name: PrintableName = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=320)
    # A market in any letter case, or "" for none.
    country: Annotated[str, Field(json_schema_extra={"pattern": f"^$|{market_pattern()}"})] | None = Field(
        None, max_length=2)
    # The language of the partner's invoice statements: "en" or "fr" (kept as it is when left out).
    language: Annotated[str, Field(json_schema_extra={"pattern": any_case_pattern(STATEMENT_LANGUAGES)})] | None = \
        Field(None, max_length=8)


class CreditLimitOut(ResponseModel):
    currency_code: str
    amount: str
    unpaid_balance: str
    available: str
    updated_at: datetime
    updated_by: str


class BillingProfileOut(ResponseModel):
    partner_id: str
    company_name: str
    email: str
    country: str
    language: str
    credit_limits: list[CreditLimitOut]
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "BillingProfile"}

    @classmethod
    def of(cls, profile: BillingProfile, limits: list[tuple[CreditLimit, Any]]) -> BillingProfileOut:
        return cls(
            partner_id=profile.partner_id,
            company_name=profile.company_name,
            email=profile.email,
            country=profile.country,
            language=profile.language or "en",
            credit_limits=[
                CreditLimitOut(
                    currency_code=limit.currency,
                    amount=money_str(limit.amount, limit.currency),
                    unpaid_balance=money_str(owed, limit.currency),
                    available=money_str(max(limit.amount - owed, 0 * owed), limit.currency),
                    updated_at=limit.updated_at,
                    updated_by=limit.updated_by,
                )
                for limit, owed in limits
            ],
            links={"self": Link(uri="/v1/profiles/billing")},
        )


class InvoiceOut(ResponseModel):
    id: str
    # "PD-2026-000123" once the invoice is closed at month end; none while it is open.
    invoice_number: str | None
    partner_id: str
    billing_period: str
    # The month in words, in English ("December 2026"); the statement says it in the partner's language.
    billing_period_description: str
    billing_period_start_date: datetime
    billing_period_end_date: datetime
    invoice_date: datetime
    currency_code: str
    # Before tax (as before tax came in); `taxTotal` and `totalAmount` (after tax) beside it.
    total_charges: str
    tax_total: str
    total_amount: str
    paid_amount: str
    status: str
    is_closed: bool
    closed_date: datetime | None
    line_item_count: int
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Invoice"}

    @classmethod
    def of(cls, summary: InvoiceSummary, now: datetime) -> InvoiceOut:
        invoice = summary.invoice
        paid = summary.total_after_tax if invoice.paid_at is not None else 0 * summary.total
        return cls(
            id=invoice.id,
            invoice_number=invoice.number,
            partner_id=invoice.partner_id,
            billing_period=invoice.billing_period,
            billing_period_description=period_in_words(invoice, "en"),
            billing_period_start_date=invoice.period_start,
            billing_period_end_date=invoice.period_end,
            invoice_date=invoice.period_end,
            currency_code=invoice.currency,
            total_charges=money_str(summary.total, invoice.currency),
            tax_total=money_str(summary.tax, invoice.currency),
            total_amount=money_str(summary.total_after_tax, invoice.currency),
            paid_amount=money_str(paid, invoice.currency),
            status=summary.status(now),
            is_closed=invoice.closed_at is not None,
            closed_date=invoice.closed_at,
            line_item_count=summary.line_count,
            links={"self": Link(uri=f"/v1/invoices/{invoice.id}"),
                   "lineItems": Link(uri=f"/v1/invoices/{invoice.id}/lineitems"),
                   "statement": Link(uri=f"/v1/invoices/{invoice.id}/documents/statement"),
                   "reconciliation": Link(uri=f"/v1/invoices/{invoice.id}/documents/reconciliation")},
        )


class InvoiceLineItemOut(ResponseModel):
    id: str
    invoice_id: str
    # The invoice's number once closed; none while it is open.
    invoice_number: str | None
    partner_id: str
    customer_id: str
    customer_name: str
    customer_domain_name: str
    customer_country: str
    order_id: str
    order_date: datetime
    line_item_number: int
    subscription_id: str | None
    product_id: str
    sku_id: str
    availability_id: str
    product_name: str
    sku_name: str
    charge_type: str
    # "charge" or "credit": what the line does to the invoice.
    charge_kind: str
    unit_price: str
    quantity: int
    subtotal: str
    tax_rate: str
    tax_total: str
    total: str
    currency: str
    billing_cycle: str
    term_duration: str | None
    charge_start_date: datetime
    charge_end_date: datetime | None
    attributes: dict[str, Any] = {"objectType": "OneTimeInvoiceLineItem"}

    @classmethod
    def of(cls, line: InvoiceLineItem, invoice_number: str | None = None) -> InvoiceLineItemOut:
        return cls(
            id=line.id, invoice_id=line.invoice_id, invoice_number=invoice_number, partner_id=line.partner_id,
            customer_id=line.customer_id,
            customer_name=line.customer_name, customer_domain_name=line.customer_domain,
            customer_country=line.customer_country, order_id=line.order_id, order_date=line.order_date,
            line_item_number=line.order_line_number, subscription_id=line.subscription_id,
            product_id=line.product_id, sku_id=line.sku_id, availability_id=line.availability_id,
            product_name=line.product_name, sku_name=line.sku_name, charge_type=line.charge_type,
            charge_kind="credit" if line.subtotal < 0 else "charge",
            unit_price=money_str(line.unit_price, line.currency), quantity=line.quantity,
            subtotal=money_str(line.subtotal, line.currency), tax_rate=format(line.tax_rate.normalize(), "f"),
            tax_total=money_str(line.tax_amount, line.currency),
            total=money_str(line.subtotal + line.tax_amount, line.currency), currency=line.currency,
            billing_cycle=line.billing_cycle, term_duration=line.term_duration,
            charge_start_date=line.charge_start, charge_end_date=line.charge_end,
        )
