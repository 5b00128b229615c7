"""Rules for the partner's billing: credit limits, charging purchases to monthly invoices, reading them.

Checkout calls `check_credit` before it writes anything and `charge` in the same transaction, so a
purchase and its invoice lines commit or vanish together. Periods are calendar months in UTC, taken
from the clock the caller passes. Later periods of a subscription are charged by `schedule.py`,
invoices are closed and numbered by `closing.py`, and drawn as PDF and CSV by `documents.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.orm import Session

from partnerdesk.accounts.models import Partner
from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.billing import closing, schedule
from partnerdesk.billing.errors import (
    CreditLimitExceeded,
    InvalidBillingPeriod,
    InvalidBillingProfile,
    InvalidCreditLimit,
    InvoiceClosed,
    InvoiceNotFound,
    InvoiceNotPayable,
    PartnerNotFound,
)
from partnerdesk.billing.models import (
    CREDIT_CHARGE_TYPE,
    NEW_CHARGE_TYPE,
    BillingProfile,
    CreditLimit,
    Invoice,
    InvoiceLineItem,
)
from partnerdesk.core.csv_safe import control_character_problem
from partnerdesk.core.db import insert_ignoring_duplicates, new_id
from partnerdesk.core.markets import normalise_country
from partnerdesk.core.money import is_currency, minor_unit, money_str
from partnerdesk.core.pagination import ASC, DESC, SortKey
from partnerdesk.jobs import service as jobs
from partnerdesk.policies import service as policies

# A billing month: YYYY-MM, the year from 1000 to 2999 (so that a period and the month after it are dates).
PERIOD_PATTERN = r"^([12][0-9]{3})-(0[1-9]|1[0-2])$"
_PERIOD = re.compile(PERIOD_PATTERN)
CLI_ACTOR = "cli"
CLOSE_INVOICE_JOB = "billing.close_invoice"
STATEMENT_LANGUAGES = ("en", "fr")


# Billing periods

@dataclass(frozen=True)
class BillingPeriod:
    name: str
    start: datetime
    end: datetime


def period_of(moment: datetime) -> BillingPeriod:
    """The calendar month (UTC) holding `moment`."""
    moment = moment.astimezone(UTC)
    return _period(moment.year, moment.month)


def _period(year: int, month: int) -> BillingPeriod:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return BillingPeriod(name=f"{year:04d}-{month:02d}", start=start, end=end)


def parse_period(text: str) -> BillingPeriod:
    match = _PERIOD.match(text.strip())
    if match is None:
        raise InvalidBillingPeriod(f"'{text}' is not a billing period; write it YYYY-MM, as 2026-11.", ["period"])
    return _period(int(match.group(1)), int(match.group(2)))


# Profile and credit limits

def _partner(db: Session, partner_id: str) -> Partner:
    partner = db.get(Partner, partner_id)
    if partner is None:
        raise PartnerNotFound(f"No partner with id {partner_id}.", [partner_id])
    return partner


def partner_named(db: Session, name: str) -> Partner:
    partner = db.scalar(select(Partner).where(Partner.name == name.strip()))
    if partner is None:
        raise PartnerNotFound(f"No partner named '{name}'.", [name])
    return partner


def profile_of(db: Session, *, partner_id: str, now: datetime) -> BillingProfile:
    """The partner's billing profile, created with the partner's name on first use."""
    profile = db.get(BillingProfile, partner_id)
    if profile is None:
        partner = _partner(db, partner_id)
        profile = BillingProfile(partner_id=partner.id, company_name=partner.name, email="", country="",
                                 language="en", created_at=now, updated_at=now)
        db.add(profile)
        db.flush()
    return profile


def read_profile(db: Session, *, partner_id: str, now: datetime) -> BillingProfile:
    """The partner's billing profile for reading: the stored one, or the default it would get (not saved)."""
    profile = db.get(BillingProfile, partner_id)
    if profile is not None:
        return profile
    partner = _partner(db, partner_id)
    return BillingProfile(partner_id=partner.id, company_name=partner.name, email="", country="",
                          language="en", created_at=now, updated_at=now)


def visible_partner_id(principal: Principal, partner_id: str | None) -> str:
    """The partner whose billing `principal` reads: its own, or for the operator the one it names."""
    if principal.is_operator:
        if not partner_id:
            raise InvalidBillingProfile("The operator names the partner: add ?partnerId=...", ["partnerId"])
        return partner_id
    if partner_id and partner_id != principal.partner_id:
        raise PartnerNotFound(f"No partner with id {partner_id}.", [partner_id])
    assert principal.partner_id is not None
    return principal.partner_id


def update_profile(
    db: Session, *, principal: Principal, company_name: str, email: str, country: str | None, now: datetime,
    request_id: str | None = None, language: str | None = None,
) -> BillingProfile:
    assert principal.partner_id is not None
    profile = profile_of(db, partner_id=principal.partner_id, now=now)
    # Printed on every invoice statement and exported to spreadsheets: one line of printable text.
    problem = control_character_problem(company_name, "companyName")
    if problem is not None:
        raise InvalidBillingProfile(problem, ["companyName"])
    if not company_name.strip():
        raise InvalidBillingProfile("companyName must not be blank.", ["companyName"])
    profile.company_name = company_name.strip()
    profile.email = email.strip().lower()
    profile.country = normalise_country(country, field="country") if country else ""
    if language is not None:
        if language.strip().lower() not in STATEMENT_LANGUAGES:
            raise InvalidBillingProfile(f"language: '{language}' is not one of en, fr.", ["language"])
        profile.language = language.strip().lower()
    profile.updated_at = now
    audit.record(db, principal=principal, now=now, action="billing_profile.updated", object_type="billing_profile",
                 object_id=principal.partner_id, request_id=request_id,
                 details={"companyName": profile.company_name})
    return profile


def parse_amount(text: str, currency: str, *, field: str = "amount") -> Decimal:
    """An exact, non-negative amount with no more decimals than the currency has."""
    if not is_currency(currency):
        raise InvalidCreditLimit(f"'{currency}' is not an ISO 4217 currency code such as EUR.", ["currency"])
    try:
        amount = Decimal(text.strip())
        if not amount.is_finite():  # "NaN", "Infinity", "sNaN": Decimal reads them, but they are not amounts
            raise InvalidOperation
    except (InvalidOperation, AttributeError):
        raise InvalidCreditLimit(f"{field}: '{text}' is not an amount such as 5000.00.", [field]) from None
    if amount < 0:
        raise InvalidCreditLimit(f"{field} must be zero or more.", [field])
    if amount >= Decimal("1e14"):
        raise InvalidCreditLimit(f"{field} is too large.", [field])
    minor = minor_unit(currency)
    if amount != amount.quantize(minor):
        raise InvalidCreditLimit(f"{field}: {currency} amounts have at most {-minor.as_tuple().exponent} decimals.",
                                 [field])
    return amount


def set_credit_limit(
    db: Session, *, principal: Principal | None, partner_id: str, currency: str, amount: Decimal, now: datetime,
    request_id: str | None = None,
) -> CreditLimit:
    _partner(db, partner_id)
    currency = currency.strip().upper()
    amount = parse_amount(str(amount), currency)
    limit = db.get(CreditLimit, (partner_id, currency))
    actor = principal.email if principal else CLI_ACTOR
    if limit is None:
        limit = CreditLimit(partner_id=partner_id, currency=currency, amount=amount, updated_at=now, updated_by=actor)
        db.add(limit)
    else:
        limit.amount, limit.updated_at, limit.updated_by = amount, now, actor
    db.flush()
    audit.record(db, principal=principal, now=now, action="credit_limit.set", object_type="credit_limit",
                 object_id=f"{partner_id}:{currency}", partner_id=partner_id, request_id=request_id,
                 details={"currency": currency, "amount": money_str(amount, currency)})
    return limit


def remove_credit_limit(
    db: Session, *, principal: Principal | None, partner_id: str, currency: str, now: datetime,
    request_id: str | None = None,
) -> bool:
    _partner(db, partner_id)
    currency = currency.strip().upper()
    limit = db.get(CreditLimit, (partner_id, currency))
    if limit is None:
        return False
    db.delete(limit)
    db.flush()
    audit.record(db, principal=principal, now=now, action="credit_limit.removed", object_type="credit_limit",
                 object_id=f"{partner_id}:{currency}", partner_id=partner_id, request_id=request_id,
                 details={"currency": currency})
    return True


def credit_limits(db: Session, partner_id: str) -> list[CreditLimit]:
    return list(db.scalars(select(CreditLimit).where(CreditLimit.partner_id == partner_id)
                           .order_by(CreditLimit.currency)))


def unpaid_balance(db: Session, partner_id: str, currency: str) -> Decimal:
    """What the partner owes in `currency`: every line of its unpaid invoices (credits included)."""
    # SUM keeps the column's type, so the stored scaled integers come back as an exact Decimal.
    total = db.scalar(
        select(func.sum(InvoiceLineItem.subtotal))
        .join(Invoice, Invoice.id == InvoiceLineItem.invoice_id)
        .where(InvoiceLineItem.partner_id == partner_id, InvoiceLineItem.currency == currency,
               Invoice.paid_at.is_(None))
    )
    return total if total is not None else Decimal(0)


# Every currency of the partner, locked: two purchases of one partner cannot both squeeze under a limit.
# Checkout reads these on the tables' columns (see CONTRIBUTING, "How a write is done").
_limit, _invoice = CreditLimit.__table__.c, Invoice.__table__.c
_CREDIT_LIMITS = (
    select(_limit.currency, _limit.amount)
    .where(_limit.partner_id == bindparam("partner_id"))
    .order_by(_limit.currency)
    .with_for_update()
)
_OPEN_INVOICES = (
    select(_invoice.currency, _invoice.id, _invoice.closed_at)
    .where(_invoice.partner_id == bindparam("partner_id"), _invoice.billing_period == bindparam("period"))
    .with_for_update(read=True)
)

_INVOICE_STATE = (
    select(_invoice.partner_id, _invoice.number, _invoice.closed_at)
    .where(_invoice.id == bindparam("invoice_id"))
    .with_for_update(read=True)
)


def check_credit(db: Session, *, partner_id: str, purchase: dict[str, Decimal]) -> None:
    """Refuses a purchase (amount per currency) that would pass a credit limit of the partner.

    The partner's limit rows are locked (PostgreSQL) so two purchases of one partner cannot both
    squeeze under the same limit; SQLite's write transaction already serialises them.
    """
    limits = [limit for limit in db.execute(_CREDIT_LIMITS, {"partner_id": partner_id}) if limit.currency in purchase]
    for limit in limits:
        owed = unpaid_balance(db, partner_id, limit.currency)
        wanted = purchase[limit.currency]
        if owed + wanted > limit.amount:
            available = max(limit.amount - owed, Decimal(0))
            raise CreditLimitExceeded(
                f"This purchase of {money_str(wanted, limit.currency)} {limit.currency} would pass the partner's "
                f"credit limit of {money_str(limit.amount, limit.currency)} {limit.currency} "
                f"({money_str(available, limit.currency)} {limit.currency} left); nothing was ordered.",
                [limit.currency, money_str(limit.amount, limit.currency), money_str(available, limit.currency)],
            )


# Charging

@dataclass(frozen=True)
class Charge:
    """One order line charged to the partner (or credited back), with what reconciliation needs."""

    customer_id: str
    customer_name: str
    customer_domain: str
    customer_country: str
    order_id: str
    order_line_number: int
    subscription_id: str | None
    product_id: str
    sku_id: str
    availability_id: str
    product_name: str
    sku_name: str
    unit_price: Decimal
    quantity: int
    currency: str
    billing_cycle: str
    term_duration: str | None
    charge_start: datetime
    charge_end: datetime | None
    charge_type: str = NEW_CHARGE_TYPE
    order_date: datetime | None = None  # the order's own date; by default the time of the charge
    # The month whose invoice the charge belongs on; by default the month of the charge's writing.
    billed_at: datetime | None = None
    # A credit carries the rate and tax of the charge it takes back, so the two cancel exactly.
    tax_rate: Decimal | None = None
    tax_amount: Decimal | None = None

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity


def _invoice_rows(db: Session, partner_id: str, period: BillingPeriod) -> dict[str, tuple[str, bool]]:
    """The partner's invoices of `period`: currency -> (id, closed). Shared-locked on PostgreSQL, so a
    closing waits for the charges being written to them and a charge never lands on a closed invoice."""
    rows = db.execute(_OPEN_INVOICES, {"partner_id": partner_id, "period": period.name})
    return {row.currency: (row.id, row.closed_at is not None) for row in rows}


def open_invoice_ids(db: Session, *, partner_id: str, currencies: Iterable[str], now: datetime,
                     billed_at: datetime | None = None) -> dict[str, str]:
    """The partner's open invoice per currency for the month holding `billed_at` (by default `now`),
    created when missing. Where that month's invoice is already closed, the charge goes on the invoice
    of the month holding `now`: a closed invoice never changes (corrections go on the next one)."""
    found: dict[str, str] = {}
    wanted = sorted(set(currencies))
    for period in dict.fromkeys([period_of(billed_at or now), period_of(now)]):
        missing = [currency for currency in wanted if currency not in found]
        if not missing:
            break
        rows = _invoice_rows(db, partner_id, period)
        absent = [currency for currency in missing if currency not in rows]
        if absent:
            # Two first purchases of the month may race: the unique key keeps one invoice, both use it.
            created = db.execute(insert_ignoring_duplicates(db, Invoice.__table__).returning(_invoice.id), [
                {"id": new_id(), "partner_id": partner_id, "billing_period": period.name, "currency": currency,
                 "period_start": period.start, "period_end": period.end, "created_at": now}
                for currency in absent
            ]).scalars().all()
            for invoice_id in created:  # closed by a job when its month ends
                jobs.enqueue(db, kind=CLOSE_INVOICE_JOB, payload={"invoiceId": invoice_id}, now=now,
                             run_after=period.end)
            rows = _invoice_rows(db, partner_id, period)
        found.update({currency: rows[currency][0] for currency in missing
                      if currency in rows and not rows[currency][1]})
    return found


def tax_of(subtotal: Decimal, rate: Decimal, currency: str) -> Decimal:
    """The tax on a tax-exclusive amount at `rate` percent, rounded half up to the currency's minor unit."""
    return (subtotal * rate / 100).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def charge(db: Session, *, partner_id: str, charges: Sequence[Charge], now: datetime) -> dict[str, str]:
    """Adds one invoice line per charge to the partner's open invoices; returns invoice id per currency.

    Tax is the customer market's rate in force now (the `tax_rates` policy), fixed on the line. A
    purchase's charge also opens its subscription's schedule: period 0 is recorded as charged, and
    the job charging the next period (or ending the term) is queued for when it falls due.
    """
    if not charges:
        return {}
    charges = [schedule.first_period(item) if item.charge_type == NEW_CHARGE_TYPE else item for item in charges]
    rates = policies.tax_rates(db)
    invoices: dict[str, str] = {}
    by_month: dict[tuple[str, str], list[Charge]] = {}
    for item in charges:
        by_month.setdefault((period_of(item.billed_at or now).name, item.currency), []).append(item)
    for items in by_month.values():
        target = open_invoice_ids(db, partner_id=partner_id, currencies=[items[0].currency], now=now,
                                  billed_at=items[0].billed_at)
        invoices.update(target)
        # `open_invoice_ids` has just read this invoice open, of this partner, and holds it (shared lock on
        # PostgreSQL) until the transaction ends: `add_lines`' own check would read the same row again.
        _write_lines(db, partner_id=partner_id, invoice_id=target[items[0].currency], charges=items, rates=rates,
                     now=now)
    schedule.start_schedules(db, [item for item in charges if item.charge_type == NEW_CHARGE_TYPE], now=now)
    return invoices


def add_lines(db: Session, *, partner_id: str, invoice_id: str, charges: Sequence[Charge],
              rates: dict[str, Decimal], now: datetime) -> None:
    """Writes charges on one invoice of the partner, refused when that invoice is closed: a closed
    invoice never changes (a correction is a credit on the next one)."""
    state = db.execute(_INVOICE_STATE, {"invoice_id": invoice_id}).first()
    if state is None or state.partner_id != partner_id:
        raise InvoiceNotFound(f"No invoice with id {invoice_id}.", [invoice_id])
    if state.closed_at is not None:
        raise InvoiceClosed(
            f"Invoice {state.number} was closed on {state.closed_at:%Y-%m-%d} and never changes; a correction "
            "goes on the partner's next invoice as a credit.", [invoice_id, state.number])
    _write_lines(db, partner_id=partner_id, invoice_id=invoice_id, charges=charges, rates=rates, now=now)


def _write_lines(db: Session, *, partner_id: str, invoice_id: str, charges: Sequence[Charge],
                 rates: dict[str, Decimal], now: datetime) -> None:
    """Writes charges on an invoice known to be the partner's and open, in one statement."""
    rows = []
    for item in charges:
        rate = item.tax_rate if item.tax_rate is not None else rates.get(item.customer_country, Decimal(0))
        tax = item.tax_amount if item.tax_amount is not None else tax_of(item.subtotal, rate, item.currency)
        rows.append(_line_row(partner_id, invoice_id, item, rate, tax, now))
    db.execute(insert(InvoiceLineItem.__table__), rows)


def _line_row(partner_id: str, invoice_id: str, item: Charge, rate: Decimal, tax: Decimal,
              now: datetime) -> dict:
    return {
        "id": new_id(), "invoice_id": invoice_id, "partner_id": partner_id,
        "customer_id": item.customer_id, "customer_name": item.customer_name,
        "customer_domain": item.customer_domain, "customer_country": item.customer_country,
        "order_id": item.order_id, "order_line_number": item.order_line_number,
        "subscription_id": item.subscription_id, "product_id": item.product_id, "sku_id": item.sku_id,
        "availability_id": item.availability_id, "product_name": item.product_name, "sku_name": item.sku_name,
        "charge_type": item.charge_type, "unit_price": item.unit_price, "quantity": item.quantity,
        "subtotal": item.subtotal, "tax_rate": rate, "tax_amount": tax, "currency": item.currency,
        "billing_cycle": item.billing_cycle, "term_duration": item.term_duration,
        "charge_start": item.charge_start, "charge_end": item.charge_end,
        "order_date": item.order_date or now, "created_at": now,
    }


def credit_order_lines(db: Session, *, partner_id: str, order_id: str, line_numbers: Sequence[int],
                       now: datetime) -> Decimal:
    """Credits the partner for cancelled order lines (rule R5); returns the amount credited.

    Each line charged for them (the purchase and every later period) is charged again with its
    quantity and tax negated, on the partner's current invoice: the credit is exactly what was paid,
    never more, and reconciliation shows both.
    """
    paid = list(db.scalars(
        select(InvoiceLineItem)
        .where(InvoiceLineItem.partner_id == partner_id, InvoiceLineItem.order_id == order_id,
               InvoiceLineItem.order_line_number.in_(list(line_numbers)),
               InvoiceLineItem.charge_type != CREDIT_CHARGE_TYPE)
        .order_by(InvoiceLineItem.order_line_number, InvoiceLineItem.created_at, InvoiceLineItem.id)
    ))
    credits = [
        Charge(customer_id=line.customer_id, customer_name=line.customer_name, customer_domain=line.customer_domain,
               customer_country=line.customer_country, order_id=line.order_id,
               order_line_number=line.order_line_number, subscription_id=line.subscription_id,
               product_id=line.product_id, sku_id=line.sku_id, availability_id=line.availability_id,
               product_name=line.product_name, sku_name=line.sku_name, unit_price=line.unit_price,
               quantity=-line.quantity, currency=line.currency, billing_cycle=line.billing_cycle,
               term_duration=line.term_duration, charge_start=now, charge_end=line.charge_end,
               charge_type=CREDIT_CHARGE_TYPE, order_date=line.order_date, tax_rate=line.tax_rate,
               tax_amount=-line.tax_amount)
        for line in paid
    ]
    charge(db, partner_id=partner_id, charges=credits, now=now)
    return -sum((credit.subtotal for credit in credits), Decimal(0))


def paid_for_order_lines(db: Session, *, partner_id: str, order_id: str,
                         line_numbers: Sequence[int]) -> dict[int, Decimal]:
    """What the partner was charged (tax-exclusive) per order line so far: the purchase and later periods."""
    table = InvoiceLineItem.__table__.c
    rows = db.execute(
        select(table.order_line_number, func.sum(table.subtotal))
        .where(table.partner_id == partner_id, table.order_id == order_id,
               table.order_line_number.in_(list(line_numbers)), table.charge_type != CREDIT_CHARGE_TYPE)
        .group_by(table.order_line_number)
    )
    return {number: total for number, total in rows}


def credit_order_line_amounts(db: Session, *, partner_id: str, order_id: str, amounts: dict[int, Decimal],
                              now: datetime) -> Decimal:
    """Credits the partner the given amount per cancelled order line (a refund approved in part, rule R6);
    returns the total credited. A line credited in full gets its charges negated, as `credit_order_lines`
    does; a part is one credit line of quantity -1 at that amount, on the partner's current invoice."""
    full = [number for number, amount in amounts.items() if amount > 0 and amount == _paid_for_line(
        db, partner_id=partner_id, order_id=order_id, line_number=number)]
    credited = credit_order_lines(db, partner_id=partner_id, order_id=order_id, line_numbers=full, now=now) \
        if full else Decimal(0)
    parts: list[Charge] = []
    for number, amount in sorted(amounts.items()):
        if number in full or amount <= 0:
            continue
        line = db.scalars(
            select(InvoiceLineItem)
            .where(InvoiceLineItem.partner_id == partner_id, InvoiceLineItem.order_id == order_id,
                   InvoiceLineItem.order_line_number == number, InvoiceLineItem.charge_type != CREDIT_CHARGE_TYPE)
            .order_by(InvoiceLineItem.created_at, InvoiceLineItem.id)
        ).first()
        if line is None:
            continue
        parts.append(Charge(
            customer_id=line.customer_id, customer_name=line.customer_name, customer_domain=line.customer_domain,
            customer_country=line.customer_country, order_id=line.order_id, order_line_number=number,
            subscription_id=line.subscription_id, product_id=line.product_id, sku_id=line.sku_id,
            availability_id=line.availability_id, product_name=line.product_name, sku_name=line.sku_name,
            unit_price=amount, quantity=-1, currency=line.currency, billing_cycle=line.billing_cycle,
            term_duration=line.term_duration, charge_start=now, charge_end=line.charge_end,
            charge_type=CREDIT_CHARGE_TYPE, order_date=line.order_date))
    if parts:
        charge(db, partner_id=partner_id, charges=parts, now=now)
    return credited + sum((part.unit_price for part in parts), Decimal(0))


def _paid_for_line(db: Session, *, partner_id: str, order_id: str, line_number: int) -> Decimal:
    rows = db.scalars(
        select(InvoiceLineItem)
        .where(InvoiceLineItem.partner_id == partner_id, InvoiceLineItem.order_id == order_id,
               InvoiceLineItem.order_line_number == line_number, InvoiceLineItem.charge_type != CREDIT_CHARGE_TYPE))
    return sum((row.subtotal for row in rows), Decimal(0))


# Reading invoices

@dataclass(frozen=True)
class InvoiceSummary:
    invoice: Invoice
    total: Decimal  # before tax (Partner Center's totalCharges, as before tax came in)
    line_count: int
    tax: Decimal = Decimal(0)

    @property
    def total_after_tax(self) -> Decimal:
        return self.total + self.tax

    def status(self, now: datetime) -> str:
        if self.invoice.paid_at is not None:
            return "paid"
        return "open" if now < self.invoice.period_end else "due"


# The invoices list's order (latest period first, then currency and id), which its keyset pages follow.
INVOICE_LIST_ORDER = SortKey("invoices", (Invoice.billing_period, DESC), (Invoice.currency, ASC), (Invoice.id, ASC))
INVOICE_LINE_LIST_ORDER = SortKey(
    "invoicelines", (InvoiceLineItem.created_at, ASC), (InvoiceLineItem.order_id, ASC),
    (InvoiceLineItem.order_line_number, ASC), (InvoiceLineItem.id, ASC))


def search_invoices(principal: Principal, *, partner_id: str | None = None, period: str | None = None) -> Select:
    statement = select(Invoice)
    if principal.is_operator:
        if partner_id:
            statement = statement.where(Invoice.partner_id == partner_id)
    else:
        statement = statement.where(Invoice.partner_id == principal.partner_id)
    if period:
        statement = statement.where(Invoice.billing_period == parse_period(period).name)
    return statement.order_by(*INVOICE_LIST_ORDER.clauses())


def summaries(db: Session, invoices: Sequence[Invoice]) -> list[InvoiceSummary]:
    """Totals and line counts of some invoices, in one grouped query; a closed invoice's frozen totals."""
    totals = closing.totals_of(db, [invoice.id for invoice in invoices])
    found = []
    for invoice in invoices:
        summed = totals.get(invoice.id)
        count = summed.line_count if summed else 0
        if invoice.closed_at is not None:
            found.append(InvoiceSummary(invoice, invoice.subtotal or Decimal(0), count,
                                        invoice.tax_total or Decimal(0)))
        else:
            found.append(InvoiceSummary(invoice, summed.subtotal if summed else Decimal(0), count,
                                        summed.tax if summed else Decimal(0)))
    return found


def get_invoice(db: Session, *, principal: Principal, invoice_id: str) -> Invoice:
    invoice = db.get(Invoice, invoice_id)
    if invoice is None or not principal.can_see_partner(invoice.partner_id):
        raise InvoiceNotFound(f"No invoice with id {invoice_id}.", [invoice_id])
    return invoice


def invoice_lines(db: Session, *, principal: Principal, invoice_id: str) -> Select:
    get_invoice(db, principal=principal, invoice_id=invoice_id)
    return (
        select(InvoiceLineItem)
        .where(InvoiceLineItem.invoice_id == invoice_id)
        .order_by(*INVOICE_LINE_LIST_ORDER.clauses())
    )


def mark_paid(
    db: Session, *, principal: Principal | None, invoice_id: str, now: datetime, request_id: str | None = None
) -> Invoice:
    """Records an invoice's payment once its period has ended; it then no longer counts against the credit."""
    invoice = db.get(Invoice, invoice_id)
    if invoice is None:
        raise InvoiceNotFound(f"No invoice with id {invoice_id}.", [invoice_id])
    if invoice.paid_at is not None:
        return invoice
    if now < invoice.period_end:
        raise InvoiceNotPayable(
            f"Invoice {invoice_id} is for {invoice.billing_period}, which has not ended; it can be paid from "
            f"{invoice.period_end.date().isoformat()}.",
            [invoice_id],
        )
    invoice.paid_at = now
    db.flush()
    audit.record(db, principal=principal, now=now, action="invoice.paid", object_type="invoice", object_id=invoice.id,
                 partner_id=invoice.partner_id, request_id=request_id, details={"period": invoice.billing_period})
    return invoice


# Reconciliation export

# Partner Center's invoice reconciliation columns (new commerce) that the desk has values for, in its
# order, then the desk's own: the partner's name, the month, the invoice's id, the order line, the rate.
RECONCILIATION_COLUMNS = (
    "PartnerId", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry", "InvoiceNumber",
    "OrderId", "OrderDate", "ProductId", "SkuId", "AvailabilityId", "SkuName", "ProductName", "ChargeType",
    "UnitPrice", "Quantity", "Subtotal", "TaxTotal", "Total", "Currency", "SubscriptionId", "ChargeStartDate",
    "ChargeEndDate", "TermAndBillingCycle", "EffectiveUnitPrice", "BillableQuantity", "BillingFrequency",
    "PricingCurrency", "PartnerName", "BillingPeriod", "InvoiceId", "LineItemNumber", "TaxRate",
)


def _date(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _amount(amount: Decimal, currency: str) -> Decimal:
    # A Decimal cell stays a number the spreadsheet can add up (core.csv_safe), with the currency's decimals.
    return Decimal(money_str(amount, currency))


def _reconciliation_row(line: InvoiceLineItem, invoice: Invoice, partner_name: str) -> list:
    currency = line.currency
    return [
        line.partner_id, line.customer_id, line.customer_name, line.customer_domain, line.customer_country,
        invoice.number or "", line.order_id, _date(line.order_date), line.product_id, line.sku_id,
        line.availability_id, line.sku_name, line.product_name, line.charge_type,
        _amount(line.unit_price, currency), line.quantity, _amount(line.subtotal, currency),
        _amount(line.tax_amount, currency), _amount(line.subtotal + line.tax_amount, currency), currency,
        line.subscription_id or "", _date(line.charge_start), _date(line.charge_end),
        f"{line.term_duration or 'perpetual'} {line.billing_cycle}", _amount(line.unit_price, currency),
        line.quantity, line.billing_cycle, currency, partner_name, invoice.billing_period, invoice.id,
        line.order_line_number, line.tax_rate,
    ]


_LINE_ORDER = (InvoiceLineItem.created_at, InvoiceLineItem.order_id, InvoiceLineItem.order_line_number,
               InvoiceLineItem.id)


def reconciliation_rows(db: Session, *, period: str, partner_name: str | None = None) -> Iterator[list]:
    """One row per invoice line of the period (every partner's, or one partner's), amounts exact."""
    billing_period = parse_period(period)
    statement = (
        select(InvoiceLineItem, Invoice, Partner.name)
        .join(Invoice, Invoice.id == InvoiceLineItem.invoice_id)
        .join(Partner, Partner.id == Invoice.partner_id)
        .where(Invoice.billing_period == billing_period.name)
        .order_by(Partner.name, Invoice.currency, *_LINE_ORDER)
    )
    if partner_name:
        statement = statement.where(Invoice.partner_id == partner_named(db, partner_name).id)
    for line, invoice, name in db.execute(statement):
        yield _reconciliation_row(line, invoice, name)


def reconciliation_rows_of_invoice(db: Session, invoice: Invoice) -> Iterator[list]:
    """The reconciliation rows of one invoice's lines."""
    name = _partner(db, invoice.partner_id).name
    for line in db.scalars(select(InvoiceLineItem).where(InvoiceLineItem.invoice_id == invoice.id)
                           .order_by(*_LINE_ORDER)):
        yield _reconciliation_row(line, invoice, name)
