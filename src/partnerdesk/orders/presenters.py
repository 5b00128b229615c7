"""Turning carts, orders, subscriptions and entitlements into their API shapes (money as exact strings)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import get_currency_symbol

from partnerdesk.catalog.price_terms import PriceTermsOut, price_terms
from partnerdesk.catalog.service import PurchasableItem
from partnerdesk.core.money import money_str
from partnerdesk.core.schemas import Link
from partnerdesk.orders.models import CartLineItem, Entitlement, Order, OrderLineItem, Subscription
from partnerdesk.orders.schemas import (
    CartLineItemOut,
    CartOut,
    EntitledArtifactOut,
    EntitlementOut,
    OrderOut,
    ReferenceOrderOut,
    ReservationOut,
    ReservedInstanceArtifactDetailsOut,
    SubscriptionOut,
)
from partnerdesk.orders.service import CartView, PlacedOrder
from partnerdesk.reservations.models import Reservation

CANCELLED = "cancelled"  # a line's and an order's status once cancelled (rule R5)
RESERVED_INSTANCE_ARTIFACT = "reservedinstance"  # Partner Center's spelling of the artifact type


def _customer_path(customer_id: str) -> str:
    return f"/v1/customers/{customer_id}"


# An order line's money strings and its priceTerms (a sentence Babel formats) depend on a few values
# only, and recomputing them for every line was most of the order list's time (a page of 50 orders) and
# a tenth of a checkout's (bench/README.md, "Checkout: profile"). Equal amounts give equal strings,
# whatever their Decimal exponent, so the caches are keyed by value; they are bounded, and what they
# hold is never changed by a caller.
@lru_cache(maxsize=8192)
def _money(amount: Decimal, currency: str) -> str:
    return money_str(amount, currency)


@lru_cache(maxsize=4096)
def _price_terms_out(amount: Decimal, currency: str, billing_cycle: str, term_duration: str | None) -> PriceTermsOut:
    return PriceTermsOut.of(price_terms(amount, currency, billing_cycle, term_duration))


@lru_cache(maxsize=4096)
def _price_terms_shape(amount: Decimal, currency: str, billing_cycle: str, term_duration: str | None) -> dict[str, Any]:
    return _price_terms_out(amount, currency, billing_cycle, term_duration).model_dump(mode="json")


@lru_cache(maxsize=512)
def _currency_symbol(currency: str) -> str:
    return get_currency_symbol(currency, locale="en_US")


def cart_out(view: CartView) -> CartOut:
    cart = view.cart
    groups = sorted({(line.currency, line.billing_cycle) for line in view.lines})
    group_of = {group: str(index) for index, group in enumerate(groups)}
    base = f"{_customer_path(cart.customer_id)}/carts/{cart.id}"
    return CartOut(
        id=cart.id,
        creation_timestamp=cart.created_at,
        last_modified_timestamp=cart.updated_at,
        expiration_timestamp=cart.expires_at,
        last_modified_user=cart.updated_by,
        status=cart.status,
        line_items=[_cart_line_out(line, group_of[(line.currency, line.billing_cycle)], view.items.get(line.id))
                    for line in view.lines],
        links={"self": Link(uri=base), "checkout": Link(uri=f"{base}/checkout", method="POST")},
    )


def _cart_line_terms(line: CartLineItem, item: PurchasableItem | None) -> PriceTermsOut | None:
    if item is None:
        return None
    return _price_terms_out(item.unit_price * line.quantity, item.currency, line.billing_cycle, line.term_duration)


def _cart_line_out(line: CartLineItem, group: str, item: PurchasableItem | None = None) -> CartLineItemOut:
    return CartLineItemOut(
        id=line.id, catalog_item_id=line.catalog_item_id, friendly_name=line.friendly_name, quantity=line.quantity,
        currency_code=line.currency, billing_cycle=line.billing_cycle, term_duration=line.term_duration,
        provisioning_context=line.provisioning_context, order_group=group, price_terms=_cart_line_terms(line, item),
    )


def _link(uri: str) -> dict[str, Any]:
    return {"uri": uri, "method": "GET", "headers": []}


def _line_shape(
    *, customer_id: str, number: int, catalog_item_id: str, product_id: str, sku_id: str, availability_id: str,
    friendly_name: str, quantity: int, term_duration: str | None, billing_cycle: str, subscription_id: str,
    provisioning_context: dict[str, str], unit_price: Decimal, total: Decimal, currency: str, status: str,
    credited: Decimal = Decimal(0),
) -> dict[str, Any]:
    """An `OrderLineItemOut` as its JSON object (camelCase, in the model's field order)."""
    return {
        "lineItemNumber": number, "offerId": catalog_item_id, "catalogItemId": catalog_item_id,
        "productId": product_id, "skuId": sku_id, "availabilityId": availability_id, "friendlyName": friendly_name,
        "quantity": quantity, "termDuration": term_duration, "billingCycle": billing_cycle,
        "subscriptionId": subscription_id, "provisioningContext": provisioning_context, "transactionType": "New",
        "unitPrice": _money(unit_price, currency), "totalPrice": _money(total, currency),
        "priceTerms": _price_terms_shape(total, currency, billing_cycle, term_duration), "currencyCode": currency,
        "status": status, "creditedAmount": _money(credited, currency),
        "links": {"subscription": _link(f"{_customer_path(customer_id)}/subscriptions/{subscription_id}")},
    }


def _order_shape(
    *, order_id: str, customer_id: str, billing_cycle: str, currency: str, total: Decimal, status: str,
    created_at: datetime, lines: list[dict[str, Any]], cancellable_until: datetime | None = None,
    days_left_to_cancel: int | None = None,
) -> dict[str, Any]:
    """An `OrderOut` as its JSON object, times left as `datetime` for the serialiser."""
    return {
        "id": order_id, "alternateId": order_id, "referenceCustomerId": customer_id, "billingCycle": billing_cycle,
        "currencyCode": currency, "currencySymbol": _currency_symbol(currency), "totalPrice": _money(total, currency),
        "status": status, "creationDate": created_at, "transactionType": "UserPurchase",
        "cancellableUntil": cancellable_until, "daysLeftToCancel": days_left_to_cancel, "lineItems": lines,
        "links": {"self": _link(f"{_customer_path(customer_id)}/orders/{order_id}")},
        "attributes": {"objectType": "Order"},
    }


def placed_order_out(order: PlacedOrder, customer_id: str, *, cancellation_window: timedelta | None = None) -> OrderOut:
    """A just-placed order, as the checkout answers it: the same shape `order_out` gives when it is read back."""
    lines = [
        _line_shape(
            customer_id=customer_id, number=placed.number, catalog_item_id=placed.line.item.catalog_item_id,
            product_id=placed.line.item.product_id, sku_id=placed.line.item.sku_id,
            availability_id=placed.line.item.availability_id, friendly_name=placed.line.friendly_name,
            quantity=placed.line.quantity, term_duration=placed.line.term_duration,
            billing_cycle=placed.line.billing_cycle, subscription_id=placed.subscription_id,
            provisioning_context=placed.line.provisioning_context, unit_price=placed.line.item.unit_price,
            total=placed.line.total, currency=order.currency, status="active",
        )
        for placed in order.lines
    ]
    until = order.created_at + cancellation_window if cancellation_window is not None else None
    return OrderOut.model_validate(_order_shape(
        order_id=order.id, customer_id=customer_id, billing_cycle=order.billing_cycle, currency=order.currency,
        total=order.total, status=order.status, created_at=order.created_at, lines=lines, cancellable_until=until,
        days_left_to_cancel=cancellation_window.days if cancellation_window is not None else None))


def order_shape(order: Order, lines: Sequence[OrderLineItem], *, now: datetime | None = None,
                cancellation_window: timedelta | None = None) -> dict[str, Any]:
    """The order as the API shows it, as its JSON object (`OrderOut`'s fields; times as `datetime`).

    Lists answer these objects as they are: a page of 50 orders built as models, validated and dumped
    again cost more than reading it (bench/README.md). `order_out` gives the same as a model.
    Given the reader's `now` and the policy's window (rule R5), it also says until when, and for how
    many whole days, its remaining lines can be cancelled. A cancelled line shows quantity 0, as Partner
    Center does; its price stays what was paid.
    """
    line_shapes = [
        _line_shape(
            customer_id=order.customer_id, number=line.line_item_number, catalog_item_id=line.catalog_item_id,
            product_id=line.product_id, sku_id=line.sku_id, availability_id=line.availability_id,
            friendly_name=line.friendly_name, quantity=0 if line.status == CANCELLED else line.quantity,
            term_duration=line.term_duration, billing_cycle=line.billing_cycle, subscription_id=line.subscription_id,
            provisioning_context=line.provisioning_context, unit_price=line.unit_price, total=line.total_price,
            currency=line.currency, status=line.status, credited=line.credited_amount or Decimal(0),
        )
        for line in lines
    ]
    until, days_left = None, None
    if now is not None and cancellation_window is not None and any(line.status != CANCELLED for line in lines):
        deadline = order.created_at + cancellation_window
        if now <= deadline:
            until, days_left = deadline, (deadline - now).days
    return _order_shape(order_id=order.id, customer_id=order.customer_id, billing_cycle=order.billing_cycle,
                        currency=order.currency, total=order.total_price, status=order.status,
                        created_at=order.created_at, lines=line_shapes, cancellable_until=until,
                        days_left_to_cancel=days_left)


def order_out(order: Order, lines: Sequence[OrderLineItem], *, now: datetime | None = None,
              cancellation_window: timedelta | None = None) -> OrderOut:
    """`order_shape` as the `OrderOut` model."""
    return OrderOut.model_validate(order_shape(order, lines, now=now, cancellation_window=cancellation_window))


def subscription_out(subscription: Subscription) -> SubscriptionOut:
    base = f"{_customer_path(subscription.customer_id)}"
    return SubscriptionOut(
        id=subscription.id, offer_id=subscription.offer_id, offer_name=subscription.offer_name,
        friendly_name=subscription.friendly_name, quantity=subscription.quantity, unit_type=subscription.unit_type,
        creation_date=subscription.created_at, effective_start_date=subscription.effective_start,
        commitment_end_date=subscription.commitment_end, status=subscription.status,
        auto_renew_enabled=bool(subscription.auto_renew_enabled),
        billing_cycle=subscription.billing_cycle, term_duration=subscription.term_duration,
        order_id=subscription.order_id,
        links={"self": Link(uri=f"{base}/subscriptions/{subscription.id}"),
               "order": Link(uri=f"{base}/orders/{subscription.order_id}")},
    )


def _reservation_out(reservation: Reservation) -> ReservationOut:
    return ReservationOut(
        reservation_id=reservation.id, reservation_order_id=reservation.reservation_order_id,
        scope_type=reservation.scope, display_name=reservation.display_name,
        applied_scopes=reservation.applied_scopes, billing_subscription_id=reservation.billing_subscription_id,
        region=reservation.region, quantity=reservation.quantity, effective_date_time=reservation.effective_date,
        expiry_date_time=reservation.expiry_date, provisioning_state=reservation.provisioning_state,
    )


def reserved_instance_artifact_path(customer_id: str, reservation_order_id: str) -> str:
    return f"{_customer_path(customer_id)}/artifacts/{RESERVED_INSTANCE_ARTIFACT}/{reservation_order_id}"


def reserved_instance_artifact_out(reservations: Sequence[Reservation]) -> ReservedInstanceArtifactDetailsOut:
    return ReservedInstanceArtifactDetailsOut(reservations=[_reservation_out(item) for item in reservations])


def entitlement_out(entitlement: Entitlement, reservations: Sequence[Reservation]) -> EntitlementOut:
    artifacts = [
        EntitledArtifactOut(
            artifact_type=RESERVED_INSTANCE_ARTIFACT, resource_id=reservation.reservation_order_id,
            link=Link(uri=reserved_instance_artifact_path(entitlement.customer_id, reservation.reservation_order_id)),
            dynamic_attributes={"reservationType": "virtualmachines", "armSkuName": reservation.arm_sku_name},
            reservations=[_reservation_out(reservation)],
        )
        for reservation in reservations
    ]
    return EntitlementOut(
        id=entitlement.id,
        reference_order=ReferenceOrderOut(id=entitlement.order_id, line_item_id=str(entitlement.line_item_number)),
        subscription_id=entitlement.subscription_id, product_id=entitlement.product_id, sku_id=entitlement.sku_id,
        quantity=entitlement.quantity, entitlement_type=entitlement.entitlement_type,
        fulfillment_state=entitlement.fulfillment_state, status=entitlement.status,
        creation_date=entitlement.created_at, expiry_date=entitlement.expiry_date, entitled_artifacts=artifacts,
    )
