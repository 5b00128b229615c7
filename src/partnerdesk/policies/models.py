"""The policies table: one row per policy the operator has changed; absent keys take the seed's default."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, UTCDateTime


class PolicySetting(Base):
    __tablename__ = "policies"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The email of the agent who set it, or "cli" for the operator's command line.
    updated_by: Mapped[str] = mapped_column(String(320))
