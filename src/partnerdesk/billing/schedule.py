"""Recurring charges (issue 15, item 2): each period of a subscription is charged once, by a job.

A purchase charges period 0 at checkout and queues the job of period 1 for the moment it starts
(`cycles.py` says when). That job charges the period and queues the next, so charges follow the
clock, the sandbox's test clock included, however late the worker runs. At the end of the term the
next period's job renews the subscription at the price in force then (`autoRenewEnabled`) or lets it
expire. A cancelled subscription stops the chain.

Exactly once: the job locks the subscription row, then inserts the period's `SubscriptionCharge`
row, whose primary key (subscription, period) is the guard; when the row exists, another run already
charged the period and queued the next job, and this run does nothing. A run that fails before its
commit leaves nothing, and the job runs again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from partnerdesk.audit import service as audit
from partnerdesk.billing.cycles import months_per_period, period_bounds, period_start
from partnerdesk.billing.models import (
    CREDIT_CHARGE_TYPE,
    CYCLE_CHARGE_TYPE,
    RENEW_CHARGE_TYPE,
    InvoiceLineItem,
    SubscriptionCharge,
)
from partnerdesk.core.db import insert_ignoring_duplicates, new_id
from partnerdesk.core.errors import DeskError
from partnerdesk.core.money import money_str
from partnerdesk.jobs import service as jobs
from partnerdesk.jobs.models import Job, JobStatus
from partnerdesk.orders.models import Entitlement, Subscription
from partnerdesk.orders.terms import term_end

if TYPE_CHECKING:
    from partnerdesk.accounts.service import Principal
    from partnerdesk.billing.service import Charge
    from partnerdesk.core.desk import Desk
    from partnerdesk.jobs.service import ClaimedJob

SUBSCRIPTION_PERIOD_JOB = "billing.subscription_period"
ACTIVE = "active"
EXPIRED = "expired"


def first_period(item: Charge) -> Charge:
    """A purchase's charge with the end of its first service period (a month for a monthly line)."""
    months = months_per_period(item.billing_cycle, item.term_duration)
    _start, end = period_bounds(item.charge_start, months, 0)
    return replace(item, charge_end=end if end is not None else item.charge_end)


def start_schedules(db: Session, purchases: Sequence[Charge], *, now: datetime) -> None:
    """Records period 0 of each purchased subscription as charged and queues the job of period 1."""
    rows = [item for item in purchases if item.subscription_id is not None]
    if not rows:
        return
    db.execute(insert_ignoring_duplicates(db, SubscriptionCharge.__table__), [
        {"subscription_id": item.subscription_id, "period_number": 0, "period_start": item.charge_start,
         "period_end": item.charge_end, "unit_price": item.unit_price, "quantity": item.quantity,
         "currency": item.currency, "charged_at": now}
        for item in rows
    ])
    # Checkout is the hottest write: the jobs of a cart's lines go in one statement, as `jobs.enqueue`
    # would write them one by one.
    due = [(item.subscription_id, period_start(item.charge_start, months, 1)) for item in rows
           if (months := months_per_period(item.billing_cycle, item.term_duration)) is not None]
    if due:  # perpetual one-time software is charged once and never again
        db.execute(insert(Job.__table__), [
            {"id": new_id(), "kind": SUBSCRIPTION_PERIOD_JOB, "payload": {"subscriptionId": subscription_id,
                                                                          "period": 1},
             "status": JobStatus.queued, "attempts": 0, "max_attempts": jobs.MAX_ATTEMPTS, "run_after": run_after,
             "created_at": now}
            for subscription_id, run_after in due
        ])


def _queue(db: Session, subscription_id: str, number: int, due: datetime, now: datetime) -> None:
    jobs.enqueue(db, kind=SUBSCRIPTION_PERIOD_JOB, payload={"subscriptionId": subscription_id, "period": number},
                 now=now, run_after=due)


def run_period_job(desk: Desk, job: ClaimedJob) -> None:
    """Job handler: charges (or renews, or ends) one period of one subscription, once."""
    with desk.database.session() as db:
        charge_period(db, subscription_id=str(job.payload["subscriptionId"]), number=int(job.payload["period"]),
                      now=job.claimed_at)


def charge_period(db: Session, *, subscription_id: str, number: int, now: datetime) -> str:
    """What became of period `number`: "charged", "renewed", "expired", "not due" (queued again for when
    it starts), or "skipped" (charged before, or its subscription is no longer active)."""
    subscription = db.scalar(select(Subscription).where(Subscription.id == subscription_id).with_for_update())
    if subscription is None or subscription.status != ACTIVE:
        return "skipped"  # cancelled (rule R5) or expired: no more charges
    months = months_per_period(subscription.billing_cycle, subscription.term_duration)
    if months is None:
        return "skipped"
    start, end = period_bounds(subscription.effective_start, months, number)
    if start > now:  # run early (a job put back by hand, say): the period waits for its own job again
        _queue(db, subscription.id, number, start, now)
        return "not due"
    previous = db.get(SubscriptionCharge, (subscription.id, number - 1))
    if previous is None:
        return "skipped"
    last_line = db.scalar(
        select(InvoiceLineItem).where(InvoiceLineItem.subscription_id == subscription.id,
                                      InvoiceLineItem.charge_type != CREDIT_CHARGE_TYPE)
        .order_by(InvoiceLineItem.created_at.desc(), InvoiceLineItem.id.desc()).limit(1)
    )
    if last_line is None:
        return "skipped"
    renewing = subscription.commitment_end is not None and start >= subscription.commitment_end
    priced = _renewal_price(db, subscription, last_line, start) if renewing else \
        (previous.unit_price, previous.currency)
    if priced is None:  # the term ended without autoRenewEnabled, or its offer is no longer sold
        _expire(db, subscription, now)
        return EXPIRED
    price, currency = priced
    written = db.execute(
        insert_ignoring_duplicates(db, SubscriptionCharge.__table__).returning(SubscriptionCharge.period_number),
        [{"subscription_id": subscription.id, "period_number": number, "period_start": start, "period_end": end,
          "unit_price": price, "quantity": previous.quantity, "currency": currency, "charged_at": now}],
    ).first()
    if written is None:
        return "skipped"  # another run charged this period and queued the next one
    if renewing:
        _renew(db, subscription, start)
    if subscription.commitment_end is not None and end is not None:
        end = min(end, subscription.commitment_end)
    _charge(db, subscription, last_line, number=number, start=start, end=end, price=price, currency=currency,
            quantity=previous.quantity, renewing=renewing, now=now)
    _queue(db, subscription.id, number + 1, period_start(subscription.effective_start, months, number + 1), now)
    return "renewed" if renewing else "charged"


def _renewal_price(db: Session, subscription: Subscription, last_line: InvoiceLineItem,
                   at: datetime) -> tuple[Decimal, str] | None:
    """The unit price and currency in force when the term ends; None when the subscription does not renew
    (no `autoRenewEnabled`) or its offer is no longer sold."""
    from partnerdesk.catalog import service as catalog

    if not subscription.auto_renew_enabled:
        return None
    try:
        item = catalog.resolve_purchasable(db, catalog_item_id=subscription.offer_id,
                                           country=last_line.customer_country, now=at)
    except DeskError:
        return None
    return item.unit_price, item.currency


def _renew(db: Session, subscription: Subscription, start: datetime) -> None:
    subscription.commitment_end = term_end(start, subscription.term_duration)
    db.execute(update(Entitlement).where(Entitlement.subscription_id == subscription.id)
               .values(expiry_date=subscription.commitment_end))


def _expire(db: Session, subscription: Subscription, now: datetime) -> None:
    from partnerdesk.webhooks.service import publish_event

    subscription.status = EXPIRED
    db.flush()
    publish_event(db, partner_id=subscription.partner_id, event_type="subscription.expired", now=now, data={
        "customerId": subscription.customer_id, "subscriptionId": subscription.id, "orderId": subscription.order_id,
        "lineItemNumber": subscription.line_item_number,
        "commitmentEndDate": _when(subscription.commitment_end),
    })


def _charge(db: Session, subscription: Subscription, last_line: InvoiceLineItem, *, number: int, start: datetime,
            end: datetime | None, price: Decimal, currency: str, quantity: int, renewing: bool, now: datetime) -> None:
    from partnerdesk.billing import service as billing
    from partnerdesk.webhooks.service import publish_event

    charge_type = RENEW_CHARGE_TYPE if renewing else CYCLE_CHARGE_TYPE
    item = billing.Charge(
        customer_id=last_line.customer_id, customer_name=last_line.customer_name,
        customer_domain=last_line.customer_domain, customer_country=last_line.customer_country,
        order_id=last_line.order_id, order_line_number=last_line.order_line_number,
        subscription_id=subscription.id, product_id=last_line.product_id, sku_id=last_line.sku_id,
        availability_id=last_line.availability_id, product_name=last_line.product_name,
        sku_name=last_line.sku_name, unit_price=price, quantity=quantity, currency=currency,
        billing_cycle=subscription.billing_cycle, term_duration=subscription.term_duration,
        charge_start=start, charge_end=end, charge_type=charge_type, order_date=last_line.order_date,
        billed_at=start,
    )
    invoices = billing.charge(db, partner_id=subscription.partner_id, charges=[item], now=now)
    charged = {
        "customerId": subscription.customer_id, "subscriptionId": subscription.id,
        "orderId": subscription.order_id, "lineItemNumber": subscription.line_item_number,
        "invoiceId": invoices[currency], "periodNumber": number, "chargeType": charge_type,
        "chargeStartDate": _when(start), "chargeEndDate": _when(end),
        "unitPrice": money_str(price, currency), "quantity": quantity,
        "subtotal": money_str(item.subtotal, currency), "currencyCode": currency,
    }
    publish_event(db, partner_id=subscription.partner_id, event_type="subscription.charged", now=now, data=charged)
    if renewing:
        publish_event(db, partner_id=subscription.partner_id, event_type="subscription.renewed", now=now, data={
            **{key: charged[key] for key in ("customerId", "subscriptionId", "orderId", "lineItemNumber",
                                             "unitPrice", "currencyCode")},
            "termDuration": subscription.term_duration, "commitmentEndDate": _when(subscription.commitment_end),
        })


def _when(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def set_auto_renew(db: Session, *, subscription: Subscription, enabled: bool, principal: Principal | None,
                   now: datetime, request_id: str | None = None) -> Subscription:
    """Turns renewal at term end on or off (Partner Center's `autoRenewEnabled`) for an active subscription
    with a term; the renewal happens when the job of the period after the term's last runs."""
    from partnerdesk.billing.errors import SubscriptionNotRenewable

    if subscription.status != ACTIVE or subscription.commitment_end is None:
        reason = "it has no term" if subscription.commitment_end is None else f"it is {subscription.status}"
        raise SubscriptionNotRenewable(
            f"autoRenewEnabled: subscription {subscription.id} cannot renew because {reason}.",
            ["autoRenewEnabled", subscription.id])
    locked = db.scalar(select(Subscription).where(Subscription.id == subscription.id).with_for_update())
    assert locked is not None
    locked.auto_renew_enabled = enabled
    db.flush()
    audit.record(db, principal=principal, now=now, action="subscription.auto_renew_set", object_type="subscription",
                 object_id=locked.id, customer_id=locked.customer_id, request_id=request_id,
                 details={"autoRenewEnabled": enabled})
    return locked
