"""Billing tables: one profile per partner, credit limits per currency, invoices per month and currency,
the charges of each subscription period and the yearly invoice-number counters.

An open invoice's total is the sum of its lines, computed when read: checkouts only ever insert lines,
so concurrent purchases of one partner never wait on a shared running total. Closing an invoice at
month end gives it its number and freezes its totals; nothing is added to it after that.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, MoneyAmount, UTCDateTime, new_id

# Charge types of invoice lines, as Partner Center's reconciliation file names them.
NEW_CHARGE_TYPE = "new"
CYCLE_CHARGE_TYPE = "cycleCharge"
RENEW_CHARGE_TYPE = "renew"
CREDIT_CHARGE_TYPE = "cancel"


class BillingProfile(Base):
    __tablename__ = "billing_profiles"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    # The language of the partner's invoice statements ("en" or "fr").
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditLimit(Base):
    """The most a partner may owe in one currency (unpaid invoices plus the purchase being made)."""

    __tablename__ = "credit_limits"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))


class Invoice(Base):
    """The partner's invoice for one calendar month (UTC) in one currency."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("partner_id", "billing_period", "currency"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    # "2026-11": the month the charges fall in.
    billing_period: Mapped[str] = mapped_column(String(7))
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the operator records the payment; unpaid invoices count against the credit limit.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Given when the invoice is closed at month end: "PD-2026-000123", gap-free per year.
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Frozen when closed (tax-exclusive, tax, tax-inclusive), so the invoice never changes after.
    subtotal: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    tax_total: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    total: Mapped[Decimal | None] = mapped_column(MoneyAmount())


# The invoices list's keyset order (latest period first, then currency and id), a partner's and the operator's.
Index("ix_invoices_partner_list", Invoice.partner_id, Invoice.billing_period.desc(), Invoice.currency, Invoice.id)
Index("ix_invoices_list", Invoice.billing_period.desc(), Invoice.currency, Invoice.id)


class InvoiceLineItem(Base):
    """One charge (or, later, credit) on an invoice, with what reconciliation needs copied in."""

    __tablename__ = "invoice_line_items"
    __table_args__ = (
        # The invoice lines list's keyset order.
        Index("ix_invoice_line_items_invoice_list", "invoice_id", "created_at", "order_id", "order_line_number",
              "id"),
        Index("ix_invoice_line_items_partner_currency", "partner_id", "currency"),
        Index("ix_invoice_line_items_order", "order_id", "order_line_number"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    customer_id: Mapped[str] = mapped_column(IdColumn())
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_domain: Mapped[str] = mapped_column(String(253))
    customer_country: Mapped[str] = mapped_column(String(2))
    order_id: Mapped[str] = mapped_column(IdColumn())
    order_line_number: Mapped[int] = mapped_column(Integer)
    subscription_id: Mapped[str | None] = mapped_column(IdColumn())
    product_id: Mapped[str] = mapped_column(String(20))
    sku_id: Mapped[str] = mapped_column(String(20))
    availability_id: Mapped[str] = mapped_column(String(20))
    product_name: Mapped[str] = mapped_column(String(200))
    sku_name: Mapped[str] = mapped_column(String(200))
    # "new" for a purchase, "cycleCharge" for a later period of a subscription, "renew" for the first
    # period of a renewed term; "cancel" for the credit of a cancellation (rule R5), with negative amounts.
    charge_type: Mapped[str] = mapped_column(String(16))
    unit_price: Mapped[Decimal] = mapped_column(MoneyAmount())
    quantity: Mapped[int] = mapped_column(Integer)
    # Tax-exclusive: unit price times quantity.
    subtotal: Mapped[Decimal] = mapped_column(MoneyAmount())
    # The market's rate (percent) when the line was written, and the tax it makes, rounded to the currency.
    tax_rate: Mapped[Decimal] = mapped_column(MoneyAmount(), default=Decimal(0), server_default="0")
    tax_amount: Mapped[Decimal] = mapped_column(MoneyAmount(), default=Decimal(0), server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    billing_cycle: Mapped[str] = mapped_column(String(16))
    term_duration: Mapped[str | None] = mapped_column(String(8))
    charge_start: Mapped[datetime] = mapped_column(UTCDateTime())
    charge_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_date: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SubscriptionCharge(Base):
    """One billing period of one subscription, charged: the key that makes each period charged once.

    Period 0 is the purchase; period n starts n billing cycles after the subscription's start and
    runs on through renewals. A job that charges a period inserts this row first and skips the
    charge when the row exists, however often the job runs.
    """

    __tablename__ = "subscription_charges"

    subscription_id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The price charged for the period: the next period of the same term is charged at it again.
    unit_price: Mapped[Decimal] = mapped_column(MoneyAmount())
    quantity: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    charged_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceNumberCounter(Base):
    """The last invoice number given in one year: locked by the closing transaction, so numbers have no gap."""

    __tablename__ = "invoice_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
