"""What the recurring-charge and invoice tests share: prices billed monthly and annually over three
years, buying them, running the job worker, and reading the charges back from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from partnerdesk.billing.models import Invoice, InvoiceLineItem
from partnerdesk.core.desk import Desk
from partnerdesk.jobs.worker import run_due_jobs
from tests.orders.factories import LONG_AGO, RI_PRODUCT, SOFTWARE_PRODUCT, Shop, ri_line

RI_FR_3Y_MONTHLY = f"{RI_PRODUCT}:0001:0018"          # the RI: EUR 72.02 a month for 36 months
VISIO_FR_3Y_ANNUAL = f"{SOFTWARE_PRODUCT}:0002:0009"  # EUR 120.00 a year for 3 years


def add_recurring_prices(desk: Desk) -> None:
    from partnerdesk.catalog.models import Availability

    now = desk.clock.now()
    common = {"country": "FR", "currency": "EUR", "segment": "Commercial", "term_duration": "P3Y",
              "erp_price": None, "tier_min": None, "tier_max": None, "tags": "", "effective_start": LONG_AGO,
              "effective_end": None, "updated_at": now}
    with desk.database.session() as db:
        db.add_all([
            Availability(product_id=RI_PRODUCT, sku_id="0001", id="0018", billing_plan="monthly",
                         unit_price=Decimal("72.02"), **common),
            Availability(product_id=SOFTWARE_PRODUCT, sku_id="0002", id="0009", billing_plan="annual",
                         unit_price=Decimal("120.00"), **common),
        ])


def monthly_ri_line(quantity: int = 1) -> dict:
    return {**ri_line(RI_FR_3Y_MONTHLY, quantity=quantity, term="P3Y"), "billingCycle": "monthly"}


def annual_line(catalog_item_id: str = VISIO_FR_3Y_ANNUAL, quantity: int = 1, term: str = "P3Y") -> dict:
    return {"id": 0, "catalogItemId": catalog_item_id, "quantity": quantity, "billingCycle": "annual",
            "termDuration": term}


def monthly_line(catalog_item_id: str, quantity: int = 1, term: str = "P1Y") -> dict:
    return {"id": 0, "catalogItemId": catalog_item_id, "quantity": quantity, "billingCycle": "monthly",
            "termDuration": term}


def buy_one(shop: Shop, customer: str, line: dict) -> tuple[str, str]:
    """Buys one line; answers (order id, subscription id)."""
    order = shop.buy(customer, line)["orders"][0]
    return order["id"], order["lineItems"][0]["subscriptionId"]


def run_worker(desk: Desk) -> int:
    """Runs every job due now, as `partnerdesk worker --once` does."""
    total = 0
    while (ran := run_due_jobs(desk)) > 0:
        total += ran
    return total


def advance(desk: Desk, clock, days: int, *, step: int = 1) -> None:
    """Moves the clock `days` days in steps, running the worker after each step."""
    for _ in range(0, days, step):
        clock.advance(timedelta(days=step))
        run_worker(desk)


@dataclass(frozen=True)
class ChargeLine:
    charge_type: str
    subtotal: Decimal
    tax: Decimal
    charge_start: datetime
    charge_end: datetime | None
    billing_period: str


def lines_of(desk: Desk, subscription_id: str) -> list[ChargeLine]:
    with desk.database.session(write=False) as db:
        rows = db.execute(
            select(InvoiceLineItem, Invoice.billing_period).join(Invoice, Invoice.id == InvoiceLineItem.invoice_id)
            .where(InvoiceLineItem.subscription_id == subscription_id)
            .order_by(InvoiceLineItem.charge_start, InvoiceLineItem.created_at, InvoiceLineItem.id)
        ).all()
        return [ChargeLine(line.charge_type, line.subtotal, line.tax_amount, line.charge_start, line.charge_end,
                           period) for line, period in rows]


def charges_of(desk: Desk, subscription_id: str) -> list[ChargeLine]:
    return [line for line in lines_of(desk, subscription_id) if line.subtotal > 0]
