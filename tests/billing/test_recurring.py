"""Recurring charges (issue 15, item 2): monthly and annual lines charged on each anniversary by jobs
that follow the clock, each period once however often the worker runs, stopped by a cancellation,
and at term end an expiry or a renewal at the price then in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from partnerdesk.accounts.models import Role
from partnerdesk.billing import schedule
from partnerdesk.catalog.models import Availability
from partnerdesk.jobs.models import Job, JobStatus
from partnerdesk.webhooks.models import WebhookEvent
from tests.billing.recurring_support import (
    RI_FR_3Y_MONTHLY,
    add_recurring_prices,
    advance,
    annual_line,
    buy_one,
    charges_of,
    lines_of,
    monthly_line,
    monthly_ri_line,
    run_worker,
)
from tests.orders.factories import VISIO_FR_MONTHLY

pytestmark = pytest.mark.both_engines


@pytest.fixture
def recurring(shop):
    add_recurring_prices(shop.desk)
    return shop


def _ri_customer(shop) -> str:
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    return customer


def test_a_monthly_ri_is_charged_on_each_anniversary_once_however_often_the_worker_runs(recurring, desk, clock):
    customer = _ri_customer(recurring)
    _order, subscription = buy_one(recurring, customer, monthly_ri_line())
    bought = clock.now()
    # 65 days in steps of 5, the worker running after each step: day 0, then 24 December and 24 January.
    advance(desk, clock, 65, step=5)
    charges = charges_of(desk, subscription)
    assert [(c.charge_type, c.subtotal) for c in charges] == [
        ("new", Decimal("72.02")), ("cycleCharge", Decimal("72.02")), ("cycleCharge", Decimal("72.02"))]
    assert [(c.charge_start, c.charge_end) for c in charges] == [
        (bought, datetime(2026, 12, 24, 10, tzinfo=UTC)),
        (datetime(2026, 12, 24, 10, tzinfo=UTC), datetime(2027, 1, 24, 10, tzinfo=UTC)),
        (datetime(2027, 1, 24, 10, tzinfo=UTC), datetime(2027, 2, 24, 10, tzinfo=UTC)),
    ]
    # Each on the invoice of the month it falls in, with FR's 20% VAT.
    assert [c.billing_period for c in charges] == ["2026-11", "2026-12", "2027-01"]
    assert {c.tax for c in charges} == {Decimal("14.40")}
    # The worker run again over the same days, and the period jobs run again (as after a crash that lost
    # their success reports), charge nothing more.
    assert run_worker(desk) == 0
    with desk.database.session() as db:
        for number in (1, 2):
            assert schedule.charge_period(db, subscription_id=subscription, number=number, now=clock.now()) \
                == "skipped"
    assert len(charges_of(desk, subscription)) == 3
    # A worker that crashed after charging, before reporting: its jobs run again, and nothing more is
    # charged nor queued (one job waits, for 24 February).
    with desk.database.session() as db:
        db.execute(update(Job).where(Job.kind == schedule.SUBSCRIPTION_PERIOD_JOB)
                   .values(status=JobStatus.queued, run_after=clock.now()))
    run_worker(desk)
    assert len(charges_of(desk, subscription)) == 3
    with desk.database.session(write=False) as db:
        waiting = db.scalars(select(Job.run_after).where(Job.kind == schedule.SUBSCRIPTION_PERIOD_JOB,
                                                         Job.status == JobStatus.queued)).all()
        charged = db.scalars(select(WebhookEvent.data).where(WebhookEvent.event_type == "subscription.charged")
                             .order_by(WebhookEvent.occurred_at)).all()
    assert waiting == [datetime(2027, 2, 24, 10, tzinfo=UTC)]
    assert [(event["periodNumber"], event["chargeType"], event["chargeStartDate"], event["subtotal"],
             event["currencyCode"]) for event in charged] == [
        (1, "cycleCharge", "2026-12-24T10:00:00Z", "72.02", "EUR"),
        (2, "cycleCharge", "2027-01-24T10:00:00Z", "72.02", "EUR")]


def test_a_period_job_run_twice_at_once_charges_once(recurring, desk, clock):
    customer = _ri_customer(recurring)
    _order, subscription = buy_one(recurring, customer, monthly_ri_line())
    clock.advance(timedelta(days=31))
    outcomes = []
    for _ in range(2):  # two workers that claimed the same job one after the other (a lease ran out)
        with desk.database.session() as db:
            outcomes.append(schedule.charge_period(db, subscription_id=subscription, number=1, now=clock.now()))
    assert outcomes == ["charged", "skipped"]
    assert len(charges_of(desk, subscription)) == 2


def test_a_cancelled_subscription_is_credited_and_never_charged_again(recurring, desk, clock, actors):
    customer = _ri_customer(recurring)
    order, subscription = buy_one(recurring, customer, monthly_ri_line())
    advance(desk, clock, 40, step=10)
    assert len(charges_of(desk, subscription)) == 2
    admin = actors(Role.admin_agent)
    cancelled = admin.patch(f"/v1/customers/{customer}/orders/{order}", json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    # Rule R5 as before: everything paid for the line comes back, the second month included.
    assert cancelled.json()["lineItems"][0]["creditedAmount"] == "144.04"
    advance(desk, clock, 100, step=10)
    lines = lines_of(desk, subscription)
    assert [line.charge_type for line in lines] == ["new", "cycleCharge", "cancel", "cancel"]
    assert sum(line.subtotal for line in lines) == 0 and sum(line.tax for line in lines) == 0


def test_an_annual_line_is_charged_twice_in_366_days(recurring, desk, clock):
    customer = recurring.customer("FR")
    _order, subscription = buy_one(recurring, customer, annual_line())
    advance(desk, clock, 366, step=30)
    clock.advance(timedelta(days=6))  # the last step lands on day 366
    run_worker(desk)
    charges = charges_of(desk, subscription)
    assert [(c.charge_type, c.subtotal, c.billing_period) for c in charges] == [
        ("new", Decimal("120.00"), "2026-11"), ("cycleCharge", Decimal("120.00"), "2027-11")]
    assert charges[1].charge_end == datetime(2028, 11, 24, 10, tzinfo=UTC)


def test_at_term_end_a_subscription_expires_unless_it_renews(recurring, desk, clock, actors):
    customer = recurring.customer("FR")
    _order, ends = buy_one(recurring, customer, monthly_line(VISIO_FR_MONTHLY))
    _order, renews = buy_one(recurring, customer, monthly_line(VISIO_FR_MONTHLY, quantity=2))
    sales = actors(Role.sales_agent)
    patched = sales.patch(f"/v1/customers/{customer}/subscriptions/{renews}", json={"autoRenewEnabled": True})
    assert patched.status_code == 200, patched.text
    assert patched.json()["autoRenewEnabled"] is True
    # The price goes up before the term ends: the renewal charges the new one.
    with desk.database.session() as db:
        db.execute(update(Availability).where(Availability.sku_id == "0002", Availability.id == "0002")
                   .values(unit_price=Decimal("12.50")))
    advance(desk, clock, 400, step=20)

    expired = recurring.buyer.get(f"/v1/customers/{customer}/subscriptions/{ends}").json()
    assert expired["status"] == "expired"
    assert len(charges_of(desk, ends)) == 12  # a year of months, then nothing

    renewed = recurring.buyer.get(f"/v1/customers/{customer}/subscriptions/{renews}").json()
    assert renewed["status"] == "active" and renewed["commitmentEndDate"] == "2028-11-24T10:00:00Z"
    charges = charges_of(desk, renews)
    assert [c.subtotal for c in charges[:12]] == [Decimal("20.00")] * 12
    assert charges[12].charge_type == "renew" and charges[12].subtotal == Decimal("25.00")
    assert charges[12].charge_start == datetime(2027, 11, 24, 10, tzinfo=UTC)
    assert {c.subtotal for c in charges[13:]} == {Decimal("25.00")}
    with desk.database.session(write=False) as db:
        kinds = list(db.scalars(select(WebhookEvent.event_type)))
    assert kinds.count("subscription.renewed") == 1 and kinds.count("subscription.expired") == 1
    assert kinds.count("subscription.charged") == 11 + 11 + len(charges) - 12


def test_auto_renew_is_refused_where_there_is_no_term_and_for_roles_that_do_not_buy(recurring, actors):
    customer = recurring.customer("FR")
    perpetual = recurring.buy(customer, {"id": 0, "catalogItemId": "DG7GMGF0DVT5:0001:0002", "quantity": 1,
                                         "billingCycle": "one_time"})["orders"][0]["lineItems"][0]["subscriptionId"]
    path = f"/v1/customers/{customer}/subscriptions/{perpetual}"
    refused = actors(Role.admin_agent).patch(path, json={"autoRenewEnabled": True})
    assert refused.status_code == 409 and refused.json()["code"] == 4104
    for role in (Role.helpdesk_agent, Role.billing_admin, Role.operator):
        assert actors(role).patch(path, json={"autoRenewEnabled": True}).status_code == 403
    assert actors(Role.admin_agent, "Rival").patch(path, json={"autoRenewEnabled": True}).status_code == 404
    bad = actors(Role.admin_agent).patch(path, json={"autoRenewEnabled": "sometimes"})
    assert bad.status_code == 400


def test_the_monthly_ri_of_the_issue_is_the_catalog_item_it_names():
    assert RI_FR_3Y_MONTHLY.endswith(":0001:0018")
