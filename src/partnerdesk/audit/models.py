"""The activity log table. Rows are only ever inserted (database triggers refuse the rest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime


class ActivityRecord(Base):
    __tablename__ = "activity_log"
    __table_args__ = (
        Index("ix_activity_log_partner_time", "partner_id", "occurred_at"),
        Index("ix_activity_log_customer", "customer_id"),
    )

    # SQLite auto-numbers only an INTEGER primary key, so the big integer is PostgreSQL's alone.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    partner_id: Mapped[str | None] = mapped_column(IdColumn())
    agent_id: Mapped[str | None] = mapped_column(IdColumn())
    agent_email: Mapped[str] = mapped_column(String(320), default="")
    # "operator", "agent" or "system": who acted, in Partner Center's operator-type sense.
    operator_type: Mapped[str] = mapped_column(String(16), default="agent")
    customer_id: Mapped[str | None] = mapped_column(IdColumn())
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80))
    request_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
