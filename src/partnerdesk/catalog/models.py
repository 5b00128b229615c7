"""Catalog tables, shaped like Partner Center's: product -> SKU -> availability (one market, one price).

Ids are Partner Center's own strings ("DZH318Z0BXQ7", "0001", "0003"); a SKU id is unique within its
product and an availability id within its SKU, so `productId:skuId:availabilityId` names one price.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, MoneyAmount, UTCDateTime


class Product(Base):
    __tablename__ = "catalog_products"
    __table_args__ = (
        # Browsing by target view: type, sub-type, then the order lists are shown in.
        Index("ix_catalog_products_type_title", "product_type_id", "sub_type_id", "title", "id"),
    )

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # "Software" or "Azure" (every Azure product here is a Reserved Instance), with a sub-type such as
    # "Perpetual", "Subscription", "VirtualMachines" or "SQL".
    product_type_id: Mapped[str] = mapped_column(String(20))
    sub_type_id: Mapped[str] = mapped_column(String(40))
    publisher: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Sku(Base):
    __tablename__ = "catalog_skus"

    product_id: Mapped[str] = mapped_column(ForeignKey("catalog_products.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    unit_of_measure: Mapped[str] = mapped_column(String(60), default="")
    min_quantity: Mapped[int] = mapped_column(Integer, default=1)
    max_quantity: Mapped[int] = mapped_column(Integer, default=1000)
    # Lists of words from `catalog.vocabulary` (billing cycles, prerequisites, provisioning variables).
    supported_billing_cycles: Mapped[list[str]] = mapped_column(JSON, default=list)
    purchase_prerequisites: Mapped[list[str]] = mapped_column(JSON, default=list)
    provisioning_variables: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Software: what an admin agent picks before getting keys and downloads (rule R3).
    versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    file_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Reserved Instances: the VM size and series, and the regions it can be reserved in (rule R8).
    arm_sku_name: Mapped[str] = mapped_column(String(80), default="")
    instance_series: Mapped[str] = mapped_column(String(80), default="")
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Availability(Base):
    """One price of one SKU in one market, in force from `effective_start` until `effective_end` excluded."""

    __tablename__ = "catalog_availabilities"
    __table_args__ = (
        ForeignKeyConstraint(["product_id", "sku_id"], ["catalog_skus.product_id", "catalog_skus.id"]),
        # The hot query: what is on sale in one market now, product by product. Covering, so the
        # EXISTS probe for each product of a target view never reads the table.
        Index(
            "ix_catalog_availabilities_market", "country", "product_id", "effective_start", "effective_end"
        ),
    )

    product_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    sku_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    segment: Mapped[str] = mapped_column(String(20), default="Commercial")
    # ISO 8601 duration ("P1Y", "P3Y", "P1M"); none for perpetual software.
    term_duration: Mapped[str | None] = mapped_column(String(8))
    # A billing cycle ("one_time", "monthly", "annual", "triennial"): `unit_price` is charged once per cycle.
    billing_plan: Mapped[str] = mapped_column(String(16))
    unit_price: Mapped[Decimal] = mapped_column(MoneyAmount())
    # The suggested retail price and the quantity tier, carried so price lists round-trip.
    erp_price: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    tier_min: Mapped[int | None] = mapped_column(Integer)
    tier_max: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[str] = mapped_column(String(200), default="")
    effective_start: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def catalog_item_id(self) -> str:
        return f"{self.product_id}:{self.sku_id}:{self.id}"


class CatalogState(Base):
    """One row whose `version` database triggers bump on every write to the catalog tables.

    Readers compare it to cache what they computed from the catalog; `epoch` is drawn when the
    database is created, so a new database never passes for an old one at the same version.
    """

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(BigInteger, default=0)
