"""Property (issue 15): whatever the purchases, clock moves and cancellations, the invoice lines add up
to what the subscriptions owe (each period that started while active, at its price) minus what was
credited, every cancelled line nets to zero, and no period of a subscription is ever charged twice."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.billing.cycles import add_months
from partnerdesk.billing.models import InvoiceLineItem
from tests.billing.recurring_support import (
    add_recurring_prices,
    annual_line,
    monthly_line,
    monthly_ri_line,
    run_worker,
)
from tests.orders.factories import VISIO_FR_MONTHLY, software_line

pytestmark = pytest.mark.both_engines

# kind: (cart line, price of one unit per period, months per period, months in the term; None: never ends)
KINDS = {
    "monthly RI, 3 years": (lambda quantity: monthly_ri_line(quantity), Decimal("72.02"), 1, 36),
    "annual, 3 years": (lambda quantity: annual_line(quantity=quantity), Decimal("120.00"), 12, 36),
    "monthly, 1 year": (lambda quantity: monthly_line(VISIO_FR_MONTHLY, quantity), Decimal("10.00"), 1, 12),
    "perpetual software": (lambda quantity: software_line(quantity=quantity), Decimal("1234.56"), None, None),
}
actions = st.lists(st.one_of(
    st.tuples(st.just("buy"), st.sampled_from(sorted(KINDS)), st.integers(min_value=1, max_value=3)),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=75), st.integers(min_value=1, max_value=3)),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20), st.just(0)),
), min_size=1, max_size=10)


@dataclass
class Bought:
    order_id: str
    subscription_id: str
    kind: str
    quantity: int
    at: datetime
    cancelled: bool = False

    def owed(self, now: datetime) -> Decimal:
        """What the subscription should have been charged by `now`: every period started while active."""
        if self.cancelled:
            return Decimal(0)
        _line, price, months, term = KINDS[self.kind]
        if months is None:
            return price * self.quantity
        periods = sum(1 for number in range(term // months)
                      if add_months(self.at, number * months) <= now)
        return price * self.quantity * periods


@dataclass
class World:
    customer: str
    bought: list[Bought] = field(default_factory=list)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_invoice_lines_are_the_charges_minus_the_credits_and_no_period_is_charged_twice(shop, desk, clock, actors,
                                                                                          steps):
    if not hasattr(shop, "world"):
        add_recurring_prices(desk)
        customer = shop.customer("FR")
        shop.azure_subscription(customer)
        shop.world = World(customer)
    world: World = shop.world
    admin = actors(Role.admin_agent)
    for action, first, second in steps:
        if action == "buy":
            order = shop.buy(world.customer, KINDS[first][0](second))["orders"][0]
            world.bought.append(Bought(order["id"], order["lineItems"][0]["subscriptionId"], first, second,
                                       clock.now()))
        elif action == "advance":
            for _ in range(second):  # the clock moved in steps, the worker running after each
                clock.advance(timedelta(days=first))
                run_worker(desk)
        elif world.bought:
            target = world.bought[first % len(world.bought)]
            answer = admin.patch(f"/v1/customers/{world.customer}/orders/{target.order_id}",
                                 json={"status": "cancelled"})
            in_window = clock.now() <= target.at + timedelta(days=60)
            assert answer.status_code == (200 if in_window or target.cancelled else 409), answer.text
            target.cancelled = target.cancelled or in_window
    run_worker(desk)  # a worker run more changes nothing

    with desk.database.session(write=False) as db:
        lines = db.execute(select(InvoiceLineItem.subscription_id, InvoiceLineItem.charge_start,
                                  InvoiceLineItem.subtotal, InvoiceLineItem.tax_amount)).all()
    charges = [line for line in lines if line.subtotal > 0]
    credits = [line for line in lines if line.subtotal < 0]
    assert sum(line.subtotal for line in lines) == \
        sum(line.subtotal for line in charges) + sum(line.subtotal for line in credits)
    # No period charged twice: one charge per subscription and service-period start.
    twice = [key for key, count in Counter((line.subscription_id, line.charge_start) for line in charges).items()
             if count > 1]
    assert twice == []
    # The lines add up to what is owed now; cancelled subscriptions net to zero, tax included.
    assert sum(line.subtotal for line in lines) == sum(bought.owed(clock.now()) for bought in world.bought)
    for bought in world.bought:
        own = [line for line in lines if line.subscription_id == bought.subscription_id]
        if bought.cancelled:
            assert sum(line.subtotal for line in own) == 0 and sum(line.tax_amount for line in own) == 0
        else:
            assert sum(line.subtotal for line in own) == bought.owed(clock.now())
