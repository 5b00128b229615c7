"""The customers table: company profile, billing profile and address in one row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime, new_id


class Customer(Base):
    __tablename__ = "customers"
    # The customers list's keyset order (name, id), for a partner's agents and for the operator.
    __table_args__ = (Index("ix_customers_partner_list", "partner_id", "company_name_folded", "id"),
                      Index("ix_customers_list", "company_name_folded", "id"))

    # The tenant GUID; Partner Center uses it as the customer id too.
    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    company_name: Mapped[str] = mapped_column(String(200))
    # Lower-cased copy for case-insensitive search that can use an index on both engines.
    company_name_folded: Mapped[str] = mapped_column(String(200))
    billing_company_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    culture: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    phone_number: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(2), index=True)
    region: Mapped[str] = mapped_column(String(100), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
