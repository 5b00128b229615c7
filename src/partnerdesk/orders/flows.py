"""Checkout: turns a cart into orders, subscriptions, entitlements, reservations and invoice lines.

Everything happens in the caller's one transaction, in this order: lock the cart and check it is
open, check every line against the catalog as it stands now (and rule R8 for Reserved Instances),
check the partner's credit, then write, the cart's flip to Ordered included. Any failure before the
commit leaves nothing behind. The cart's row lock is the guard against a second checkout.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.billing import service as billing
from partnerdesk.customers import service as customers
from partnerdesk.customers.service import CustomerRef
from partnerdesk.orders import events, presenters
from partnerdesk.orders import service as orders
from partnerdesk.orders.schemas import CheckoutOut
from partnerdesk.policies import service as policies
from partnerdesk.reservations import service as reservations


def checkout(
    db: Session, *, principal: Principal, customer_id: str, cart_id: str, now: datetime,
    request_id: str | None = None,
) -> CheckoutOut:
    partner_id = orders.require_buyer(principal)
    customer = customers.get_customer_ref(db, principal=principal, customer_id=customer_id)
    view = orders.lock_open_cart(db, customer=customer, cart_id=cart_id, now=now)
    checked = orders.check_lines(db, customer=customer, lines=view.lines, now=now)
    groups = orders.order_groups(checked)
    purchase: dict[str, Decimal] = {}
    for (currency, _cycle), lines in groups.items():
        purchase[currency] = purchase.get(currency, Decimal(0)) + sum((line.total for line in lines), Decimal(0))
    orders.mark_ordered(db, cart_id=cart_id, now=now)
    billing.check_credit(db, partner_id=partner_id, purchase=purchase)
    placed = orders.place_orders(db, principal=principal, customer=customer, cart_id=cart_id, groups=groups, now=now)
    _provision_reservations(db, customer=customer, placed=placed, now=now)
    billing.charge(db, partner_id=partner_id, charges=_charges(customer, placed), now=now)
    # Rule R5: the answer says until when the orders can be cancelled, as reading them back does.
    window = timedelta(days=policies.cancellation_window_days(db))
    result = CheckoutOut(orders=[presenters.placed_order_out(order, customer.id, cancellation_window=window)
                                 for order in placed],
                         order_errors=[])
    _announce(db, principal=principal, customer=customer, placed=placed, result=result, now=now,
              request_id=request_id)
    return result


def _provision_reservations(db: Session, *, customer: CustomerRef, placed: list[orders.PlacedOrder],
                            now: datetime) -> None:
    wanted = [
        reservations.ReservationToProvision(
            plan=line.line.reservation, partner_id=customer.partner_id, customer_id=customer.id, order_id=order.id,
            line_item_number=line.number, entitlement_id=line.entitlement_id, product_id=line.line.item.product_id,
            sku_id=line.line.item.sku_id, display_name=line.line.friendly_name,
            arm_sku_name=line.line.item.arm_sku_name, quantity=line.line.quantity,
            effective_date=line.effective_start, expiry_date=line.commitment_end,
        )
        for order in placed for line in order.lines
        if line.line.reservation is not None and line.commitment_end is not None
    ]
    reservations.provision(db, wanted, now=now)


def _charges(customer: CustomerRef, placed: list[orders.PlacedOrder]) -> list[billing.Charge]:
    return [
        billing.Charge(
            customer_id=customer.id, customer_name=customer.company_name, customer_domain=customer.domain,
            customer_country=customer.country, order_id=order.id, order_line_number=line.number,
            subscription_id=line.subscription_id, product_id=line.line.item.product_id,
            sku_id=line.line.item.sku_id, availability_id=line.line.item.availability_id,
            product_name=line.line.item.product_title, sku_name=line.line.item.sku_title,
            unit_price=line.line.item.unit_price, quantity=line.line.quantity, currency=order.currency,
            billing_cycle=line.line.billing_cycle, term_duration=line.line.term_duration,
            charge_start=line.effective_start, charge_end=line.commitment_end,
        )
        for order in placed for line in order.lines
    ]


# What an order's `order.created` event and activity record tell of it (field names of OrderOut).
_ORDER_SUMMARY_FIELDS = {"id", "status", "billing_cycle", "currency_code", "total_price", "creation_date"}


def _announce(db: Session, *, principal: Principal, customer: CustomerRef, placed: list[orders.PlacedOrder],
              result: CheckoutOut, now: datetime, request_id: str | None) -> None:
    events.orders_placed(
        db, principal=principal, partner_id=customer.partner_id, customer_id=customer.id,
        orders=[{**shape.model_dump(mode="json", include=_ORDER_SUMMARY_FIELDS), "lineItemCount": len(order.lines)}
                for order, shape in zip(placed, result.orders, strict=True)],
        entitlements=[
            events.EntitlementMade(entitlement_id=line.entitlement_id,
                                   entitlement_type=orders.entitlement_type_of(line.line), order_id=order.id,
                                   line_item_number=line.number)
            for order in placed for line in order.lines
        ],
        now=now, request_id=request_id,
    )
