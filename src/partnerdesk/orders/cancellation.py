"""Cancelling a purchase (rule R5): an admin agent cancels lines of an order, up to a set time after it was made.

A cancelled line ends everything it made: its subscription is deleted, its entitlement revoked (an
RI's reservation with it, software's product keys and download links with it), and the partner is
credited exactly what it paid for the line, with no fee, on its current invoice. An order whose
lines are all cancelled is cancelled itself.

As in Partner Center, no lines named means every line of the order, and a line already cancelled is
left as it is: asking again answers the order as it stands and never credits twice. It all happens in
the caller's transaction, after the order row is locked, so of two cancellations racing for one line
only the first finds it active; a refusal or a failure changes nothing.
The window is the `cancellation_window_days` policy (60 days by default): a purchase made at
10:00 on 1 March can be cancelled until 10:00 on 30 April, never after.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from partnerdesk.accounts.models import Role
from partnerdesk.accounts.service import Principal
from partnerdesk.billing import service as billing
from partnerdesk.core.money import money_str
from partnerdesk.customers import service as customers
from partnerdesk.orders import events, presenters
from partnerdesk.orders.errors import (
    CancellationWindowClosed,
    CancellerRequired,
    OrderNotFound,
    UnknownOrderLine,
    UnsupportedOrderChange,
)
from partnerdesk.orders.models import Entitlement, Order, OrderLineItem, Subscription
from partnerdesk.orders.schemas import OrderOut
from partnerdesk.orders.service import lines_of_orders
from partnerdesk.policies import service as policies
from partnerdesk.reservations import service as reservations
from partnerdesk.software import service as software

CANCELLED = presenters.CANCELLED
SUBSCRIPTION_DELETED = "deleted"
ENTITLEMENT_REVOKED = "revoked"


@dataclass(frozen=True)
class Cancellation:
    order: Order
    lines: list[OrderLineItem]  # every line of the order, as it stands after the cancellation
    cancelled: list[OrderLineItem]  # the lines this call cancelled: none when they all were already
    credit: Decimal  # what the partner was credited by this call, in the order's currency
    shown: OrderOut  # the order's API shape after the cancellation


def cancellation_window(db: Session) -> timedelta:
    """How long after it was made a purchase can be cancelled (rule R5): the policy in force."""
    return timedelta(days=policies.cancellation_window_days(db))


def cancellation_deadline(db: Session, order: Order) -> datetime:
    """The last moment the order can be cancelled (rule R5)."""
    return order.created_at + cancellation_window(db)


def order_shown(db: Session, order: Order, lines: Sequence[OrderLineItem], *, now: datetime) -> OrderOut:
    """The order's API shape as a reader sees it at `now`, with the time left to cancel it."""
    return presenters.order_out(order, lines, now=now, cancellation_window=cancellation_window(db))


def cancel_lines(
    db: Session, *, principal: Principal, customer_id: str, order_id: str, status: str,
    line_numbers: Sequence[int] | None, reason: str | None, now: datetime, request_id: str | None = None,
) -> Cancellation:
    """Cancels the lines numbered, or, with `line_numbers=None`, every line of the order not yet cancelled.

    An empty list names no line and is refused (a form sent with nothing selected).
    """
    if principal.role is not Role.admin_agent or principal.partner_id is None:
        raise CancellerRequired("Only an admin agent of the partner can cancel a purchase (rule R5).")
    if status.strip().casefold() != CANCELLED:
        raise UnsupportedOrderChange(
            f"status: '{status}' is not a change an order accepts; send \"cancelled\" with the lines to cancel.",
            ["status"],
        )
    customer = customers.get_customer_ref(db, principal=principal, customer_id=customer_id)
    order = db.scalar(select(Order).where(Order.id == order_id, Order.customer_id == customer.id)
                      .with_for_update())
    if order is None:
        raise OrderNotFound(f"Customer {customer_id} has no order {order_id}.", [order_id])
    lines = lines_of_orders(db, [order.id])[order.id]
    chosen = [line for line in _chosen_lines(order, lines, line_numbers) if line.status != CANCELLED]
    if not chosen:  # asked again: the answer is the order as it stands, and nothing more is credited
        return Cancellation(order=order, lines=lines, cancelled=[], credit=Decimal(0),
                            shown=order_shown(db, order, lines, now=now))
    _check_window(db, order, now)
    return _cancel_chosen(db, principal=principal, customer_id=customer.id, order=order, lines=lines, chosen=chosen,
                          reason=reason, now=now, request_id=request_id)


def cancel_for_refund(
    db: Session, *, principal: Principal, customer_id: str, order_id: str, line_numbers: Sequence[int] | None,
    amount: Decimal, override_reason: str | None, reason: str | None, now: datetime, request_id: str | None = None,
) -> Cancellation:
    """The operator's approval of a refund request (rule R6): cancels the lines as a direct cancel does, and
    credits `amount` (all or part of what the lines cost and was not yet credited) instead of their price.

    The window of rule R5 holds unless the operator gives `override_reason`, which the activity log keeps.
    Lines already cancelled are left as they are and nothing more is credited for them, so an approval
    racing a direct cancel of the same line credits once: both lock the order row first.
    """
    if not principal.is_operator:
        raise CancellerRequired("Only the operator approves a refund request (rule R6).")
    order = db.scalar(select(Order).where(Order.id == order_id, Order.customer_id == customer_id).with_for_update())
    if order is None:
        raise OrderNotFound(f"Customer {customer_id} has no order {order_id}.", [order_id])
    lines = lines_of_orders(db, [order.id])[order.id]
    chosen = [line for line in _chosen_lines(order, lines, line_numbers) if line.status != CANCELLED]
    if not chosen:
        return Cancellation(order=order, lines=lines, cancelled=[], credit=Decimal(0),
                            shown=order_shown(db, order, lines, now=now))
    if override_reason is None:
        _check_window(db, order, now)
    return _cancel_chosen(db, principal=principal, customer_id=customer_id, order=order, lines=lines, chosen=chosen,
                          reason=reason, now=now, request_id=request_id, amount=amount)


def refundable_amount(lines: Sequence[OrderLineItem]) -> Decimal:
    """What the lines cost and was not yet credited: the most a refund of them may credit."""
    return sum((line.total_price - line.credited_amount for line in lines if line.status != CANCELLED), Decimal(0))


def _check_window(db: Session, order: Order, now: datetime) -> None:
    deadline = cancellation_deadline(db, order)
    if now > deadline:
        raise CancellationWindowClosed(
            f"Order {order.id} was placed on {order.created_at:%Y-%m-%d %H:%M} UTC. A purchase can be cancelled "
            f"until {(deadline - order.created_at).days} days after it was made, so until "
            f"{deadline:%Y-%m-%d %H:%M} UTC (rule R5); it can no longer be cancelled.",
            [order.id, deadline.isoformat()],
        )


def _shares(chosen: Sequence[OrderLineItem], amount: Decimal | None,
            paid: dict[int, Decimal] | None = None) -> dict[int, Decimal]:
    """What each chosen line is credited: its whole unpaid-back price, or `amount` spread over the lines in
    order, each taking at most what it cost. `paid` is what was charged per line when more than its price
    (a monthly line charged again on its anniversaries)."""
    shares: dict[int, Decimal] = {}
    left = amount
    for line in chosen:
        owed = max(line.total_price, (paid or {}).get(line.line_item_number, Decimal(0))) - line.credited_amount
        shares[line.line_item_number] = owed if left is None else min(owed, left)
        if left is not None:
            left -= shares[line.line_item_number]
    return shares


def _cancel_chosen(
    db: Session, *, principal: Principal, customer_id: str, order: Order, lines: list[OrderLineItem],
    chosen: list[OrderLineItem], reason: str | None, now: datetime, request_id: str | None,
    amount: Decimal | None = None,
) -> Cancellation:
    paid = billing.paid_for_order_lines(db, partner_id=order.partner_id, order_id=order.id,
                                        line_numbers=[line.line_item_number for line in chosen])
    shares = _shares(chosen, amount, paid)
    for line in chosen:
        line.status = CANCELLED
        line.cancelled_at = now
        line.cancellation_reason = reason[:500] if reason else None
        line.credited_amount += shares[line.line_item_number]  # no cancellation fee
    if all(line.status == CANCELLED for line in lines):
        order.status = CANCELLED
    db.execute(update(Subscription).where(Subscription.id.in_([line.subscription_id for line in chosen]))
               .values(status=SUBSCRIPTION_DELETED).execution_options(synchronize_session="fetch"))
    entitlements = list(db.scalars(
        select(Entitlement).where(Entitlement.order_id == order.id,
                                  Entitlement.line_item_number.in_([line.line_item_number for line in chosen]))
        .order_by(Entitlement.line_item_number)
    ))
    for entitlement in entitlements:
        entitlement.status = ENTITLEMENT_REVOKED
    reservations.cancel_reservations(db, [entitlement.id for entitlement in entitlements])
    # Rule R5: the keys show as revoked and every link answers 410 from this transaction's commit on.
    software.revoke_purchases(db, [entitlement.id for entitlement in entitlements], now=now)
    numbers = [line.line_item_number for line in chosen]
    if amount is None:
        credit = billing.credit_order_lines(db, partner_id=order.partner_id, order_id=order.id,
                                            line_numbers=numbers, now=now)
    else:
        credit = billing.credit_order_line_amounts(db, partner_id=order.partner_id, order_id=order.id,
                                                   amounts=shares, now=now)
    db.flush()

    cancellation = Cancellation(order=order, lines=lines, cancelled=chosen, credit=credit,
                                shown=order_shown(db, order, lines, now=now))
    events.lines_cancelled(
        db, principal=principal, partner_id=order.partner_id, customer_id=customer_id,
        order=cancellation.shown.model_dump(mode="json"), line_numbers=numbers,
        credit=money_str(credit, order.currency), reason=reason, entitlements=entitlements, now=now,
        request_id=request_id,
    )
    return cancellation


def _chosen_lines(order: Order, lines: list[OrderLineItem],
                  line_numbers: Sequence[int] | None) -> list[OrderLineItem]:
    by_number = {line.line_item_number: line for line in lines}
    if line_numbers is None:
        return lines
    if not line_numbers:
        raise UnknownOrderLine(f"lineItems: name the lines of order {order.id} to cancel "
                               f"(its lines are {_numbers(sorted(by_number))}).", ["lineItems"])
    twice = sorted(number for number, count in Counter(line_numbers).items() if count > 1)
    if twice:
        raise UnknownOrderLine(f"lineItems: line {_numbers(twice)} is listed more than once.",
                               [str(number) for number in twice])
    unknown = sorted(set(line_numbers) - by_number.keys())
    if unknown:
        raise UnknownOrderLine(
            f"Order {order.id} has no line {_numbers(unknown)}; its lines are {_numbers(sorted(by_number))}.",
            [str(number) for number in unknown],
        )
    return [by_number[number] for number in sorted(line_numbers)]


def _numbers(numbers: Sequence[int]) -> str:
    return ", ".join(str(number) for number in numbers)
