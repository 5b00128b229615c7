"""API shape of one activity record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from partnerdesk.core.schemas import ResponseModel


class ActivityRecordOut(ResponseModel):
    id: int
    occurred_at: datetime
    partner_id: str | None
    agent_id: str | None
    agent_email: str
    operator_type: str
    customer_id: str | None
    action: str
    object_type: str
    object_id: str | None
    request_id: str | None
    details: dict[str, Any]
