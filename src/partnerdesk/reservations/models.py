"""Tables for customers' Azure subscriptions (under their Azure plan) and the reservations bought for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime, new_id

AZURE_PLAN_OFFER_ID = "DZH318Z0BPS6:0001"
AZURE_PLAN_OFFER_NAME = "Azure plan"
CAPACITY_PROVIDER = "Microsoft.Capacity"


class AzureSubscription(Base):
    """An Azure subscription of a customer, the one a Reserved Instance is billed to or applied to."""

    __tablename__ = "azure_subscriptions"
    __table_args__ = (Index("ix_azure_subscriptions_customer", "customer_id", "created_at"),)

    # The Azure subscription GUID: what `provisioningContext.subscriptionId` names.
    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    friendly_name: Mapped[str] = mapped_column(String(200))
    offer_id: Mapped[str] = mapped_column(String(64), default=AZURE_PLAN_OFFER_ID)
    # "active" or "suspended": only an active one can carry a reservation.
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Registration of the Microsoft.Capacity resource provider, which reservations need:
    # "NotRegistered" or "Registered" (registration completes at once here).
    capacity_registration: Mapped[str] = mapped_column(String(16), default="NotRegistered")
    capacity_registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reservation(Base):
    """The artifact of a Reserved Instance entitlement: one Azure reservation of `quantity` VMs."""

    __tablename__ = "reservations"
    __table_args__ = (
        Index("ix_reservations_entitlement", "entitlement_id"),
        Index("ix_reservations_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    reservation_order_id: Mapped[str] = mapped_column(IdColumn())
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str] = mapped_column(IdColumn())
    line_item_number: Mapped[int] = mapped_column(Integer)
    entitlement_id: Mapped[str] = mapped_column(IdColumn())
    product_id: Mapped[str] = mapped_column(String(20))
    sku_id: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(200))
    arm_sku_name: Mapped[str] = mapped_column(String(80), default="")
    region: Mapped[str] = mapped_column(String(60))
    # "Shared" or "Single"; a Single reservation applies to `applied_scopes` only.
    scope: Mapped[str] = mapped_column(String(8))
    billing_subscription_id: Mapped[str] = mapped_column(ForeignKey("azure_subscriptions.id"))
    applied_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    quantity: Mapped[int] = mapped_column(Integer)
    term_duration: Mapped[str] = mapped_column(String(8))
    effective_date: Mapped[datetime] = mapped_column(UTCDateTime())
    expiry_date: Mapped[datetime] = mapped_column(UTCDateTime())
    # "Succeeded" once provisioned; "Cancelled" when the purchase is cancelled (rule R5).
    provisioning_state: Mapped[str] = mapped_column(String(16), default="Succeeded")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
