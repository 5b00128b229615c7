"""Billing-cycle arithmetic: when each period of a subscription starts and ends.

Period 0 starts at the purchase; period n starts n cycles later, counted in months from the
subscription's own start (so a purchase on 31 January is charged on 28 February, then 31 March).
A `one_time` line has one period per term. Periods run on through renewals.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from partnerdesk.orders.terms import months_in

MONTHS_PER_CYCLE = {"monthly": 1, "annual": 12, "triennial": 36}
ONE_TIME = "one_time"


def add_months(start: datetime, months: int) -> datetime:
    """`start` moved `months` calendar months on, on the same day or the month's last day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def months_per_period(billing_cycle: str, term_duration: str | None) -> int | None:
    """How many months one billing period lasts; None when the line is charged once and never ends."""
    term_months = months_in(term_duration) if term_duration else None
    cycle_months = MONTHS_PER_CYCLE.get(billing_cycle)
    if cycle_months is None:  # one_time: one charge per term, or once for good
        return term_months
    return min(cycle_months, term_months) if term_months else cycle_months


def period_start(anchor: datetime, months: int, number: int) -> datetime:
    return add_months(anchor, months * number)


def period_bounds(anchor: datetime, months: int | None, number: int) -> tuple[datetime, datetime | None]:
    """Where period `number` of a subscription started at `anchor` starts and ends (None: never ends)."""
    if months is None:
        return anchor, None
    return period_start(anchor, months, number), period_start(anchor, months, number + 1)
