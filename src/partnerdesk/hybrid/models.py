"""Tables of the Hybrid Benefit calculator: the operator's VM rate table and the estimates kept on customers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, MoneyAmount, UTCDateTime, new_id


class VmRate(Base):
    """Hourly pay-as-you-go rates of one VM size in one region and currency, with and without Windows.

    Imported by the operator from a CSV file (never fetched at run time); an import replaces the rates
    of the sizes, regions and currencies it names and leaves the others.
    """

    __tablename__ = "hybrid_vm_rates"
    __table_args__ = (UniqueConstraint("size", "region", "currency"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    # The ARM name of the size ("Standard_D4s_v5"), the one the catalog's Reserved Instances carry.
    size: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    v_cpus: Mapped[int] = mapped_column(Integer)
    # Exact to 1/10,000 of the currency unit, as MoneyAmount stores.
    windows_rate_per_hour: Mapped[Decimal] = mapped_column(MoneyAmount())
    base_rate_per_hour: Mapped[Decimal] = mapped_column(MoneyAmount())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StoredEstimate(Base):
    """An estimate made for a customer and kept: the request as sent and the answer as computed then."""

    __tablename__ = "hybrid_estimates"
    __table_args__ = (Index("ix_hybrid_estimates_customer", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    # The two headline figures, so a list can show them without reading the JSON.
    pay_as_you_go: Mapped[Decimal] = mapped_column(MoneyAmount())
    saving: Mapped[Decimal] = mapped_column(MoneyAmount())
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(320))
