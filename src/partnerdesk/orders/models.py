"""Tables for carts, orders and what an order line makes: a subscription and an entitlement.

Order lines carry a status and what was credited, so a later cancellation (rule R5) can cancel one
line and credit exactly what was paid for it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, MoneyAmount, UTCDateTime, new_id


class Cart(Base):
    __tablename__ = "carts"
    __table_args__ = (Index("ix_carts_customer", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    # "Active" until checked out, then "Ordered" (the guard that makes a cart order once).
    status: Mapped[str] = mapped_column(String(16), default="Active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CartLineItem(Base):
    __tablename__ = "cart_line_items"

    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id"), primary_key=True)
    # The client's own line id (0, 1, ...), unique within the cart.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    catalog_item_id: Mapped[str] = mapped_column(String(64))
    friendly_name: Mapped[str] = mapped_column(String(200), default="")
    # The currency of the price when the line was added; checkout charges the price in force then.
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    billing_cycle: Mapped[str] = mapped_column(String(16))
    term_duration: Mapped[str | None] = mapped_column(String(8))
    provisioning_context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    cart_id: Mapped[str | None] = mapped_column(IdColumn())
    billing_cycle: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    total_price: Mapped[Decimal] = mapped_column(MoneyAmount())
    # "pending", "completed" or "cancelled".
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(320))


# The orders list's keyset order (newest first, then id); declared out here to name the column's direction.
Index("ix_orders_customer_list", Order.customer_id, Order.created_at.desc(), Order.id)


class OrderLineItem(Base):
    __tablename__ = "order_line_items"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_item_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    catalog_item_id: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[str] = mapped_column(String(20))
    sku_id: Mapped[str] = mapped_column(String(20))
    availability_id: Mapped[str] = mapped_column(String(20))
    product_type_id: Mapped[str] = mapped_column(String(20))
    friendly_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    billing_cycle: Mapped[str] = mapped_column(String(16))
    term_duration: Mapped[str | None] = mapped_column(String(8))
    provisioning_context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal] = mapped_column(MoneyAmount())
    total_price: Mapped[Decimal] = mapped_column(MoneyAmount())
    subscription_id: Mapped[str] = mapped_column(IdColumn())
    transaction_type: Mapped[str] = mapped_column(String(16), default="New")
    # "active", later "cancelled" (rule R5), with the amount credited back for the line.
    status: Mapped[str] = mapped_column(String(16), default="active")
    credited_amount: Mapped[Decimal] = mapped_column(MoneyAmount(), default=Decimal(0))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the agent typed when cancelling (rule R5), or the refund request that cancelled the line (R6).
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))


class Subscription(Base):
    """What the customer holds because of one order line."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(["order_id", "line_item_number"],
                             ["order_line_items.order_id", "order_line_items.line_item_number"]),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str] = mapped_column(IdColumn())
    line_item_number: Mapped[int] = mapped_column(Integer)
    offer_id: Mapped[str] = mapped_column(String(64))
    offer_name: Mapped[str] = mapped_column(String(200))
    product_type_id: Mapped[str] = mapped_column(String(20))
    friendly_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_type: Mapped[str] = mapped_column(String(60), default="")
    # "active", "suspended", "deleted" (cancelled) or "expired" (its term ended without renewal).
    status: Mapped[str] = mapped_column(String(16), default="active")
    billing_cycle: Mapped[str] = mapped_column(String(16))
    term_duration: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_start: Mapped[datetime] = mapped_column(UTCDateTime())
    # The end of the term; none for perpetual software.
    commitment_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Partner Center's `autoRenewEnabled`: at the end of its term the subscription renews for another
    # term at the price in force then, instead of expiring.
    auto_renew_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# The subscriptions list's keyset order (newest first, then id).
Index("ix_subscriptions_customer_list", Subscription.customer_id, Subscription.created_at.desc(), Subscription.id)


class Entitlement(Base):
    """The customer's right to use a product because of one order line: software or a Reserved Instance."""

    __tablename__ = "entitlements"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str] = mapped_column(IdColumn())
    line_item_number: Mapped[int] = mapped_column(Integer)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    product_id: Mapped[str] = mapped_column(String(20))
    sku_id: Mapped[str] = mapped_column(String(20))
    # "software" or "reservedInstance".
    entitlement_type: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    # "active"; "revoked" once its purchase is cancelled (rule R5).
    status: Mapped[str] = mapped_column(String(16), default="active")
    fulfillment_state: Mapped[str] = mapped_column(String(16), default="fulfilled")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expiry_date: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The entitlements list's keyset order (newest first, then id), of every type and of one type.
Index("ix_entitlements_customer_list", Entitlement.customer_id, Entitlement.created_at.desc(), Entitlement.id)
Index("ix_entitlements_customer_type_list", Entitlement.customer_id, Entitlement.entitlement_type,
      Entitlement.created_at.desc(), Entitlement.id)
