"""Writing and reading the activity log. Callers must never put secrets in `details`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.core.errors import Forbidden
from partnerdesk.core.pagination import DESC, SortKey

# Most writes of the desk append a record; the id is the database's own counter.
_INSERT_RECORD = insert(ActivityRecord.__table__)


def entry(
    *,
    principal: Principal | None,
    now: datetime,
    action: str,
    object_type: str,
    object_id: str | None = None,
    partner_id: str | None = None,
    customer_id: str | None = None,
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One record, not yet written (see `append`). `partner_id` defaults to the acting agent's partner."""
    operator_type = "system" if principal is None else "operator" if principal.is_operator else "agent"
    return {
        "occurred_at": now,
        "partner_id": partner_id if partner_id is not None else (principal.partner_id if principal else None),
        "agent_id": principal.agent_id if principal else None,
        "agent_email": principal.email if principal else "",
        "operator_type": operator_type,
        "customer_id": customer_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "request_id": request_id,
        "details": details or {},
    }


def append(db: Session, entries: list[dict[str, Any]]) -> None:
    """Writes records made by `entry`, in order."""
    if entries:
        db.execute(_INSERT_RECORD, entries)


def record(db: Session, **fields: Any) -> None:
    """Appends one record at once; takes the arguments of `entry`."""
    db.execute(_INSERT_RECORD, [entry(**fields)])


@dataclass(frozen=True)
class ActivityFilter:
    partner_id: str | None = None
    customer_id: str | None = None
    action: str | None = None
    agent_email: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    # Records about any of these customers, e.g. those whose name matches a search (a select of ids).
    customer_ids: Select | None = None


def _readable(principal: Principal) -> Select:
    statement = select(ActivityRecord)
    return statement if principal.is_operator else statement.where(ActivityRecord.partner_id == principal.partner_id)


def recorded_actions(db: Session, principal: Principal) -> list[str]:
    """The actions found in the records `principal` may read, for a filter to offer only those."""
    readable = _readable(principal).subquery()
    return list(db.scalars(select(readable.c.action).distinct().order_by(readable.c.action)))


# The order of the activity lists, newest first: the keys their keyset pages start after (`core.pagination`).
# Two names, so that a continuation token of one list is refused by the other.
ACTIVITY_ORDER = SortKey("activity", (ActivityRecord.occurred_at, DESC), (ActivityRecord.id, DESC))
AUDIT_RECORD_ORDER = SortKey("auditrecords", *ACTIVITY_ORDER.columns)


def query(principal: Principal, filters: ActivityFilter) -> Select:
    """The records `principal` may read, newest first; agents see only their partner's."""
    statement = select(ActivityRecord)
    if principal.is_operator:
        if filters.partner_id:
            statement = statement.where(ActivityRecord.partner_id == filters.partner_id)
    else:
        if filters.partner_id and filters.partner_id != principal.partner_id:
            raise Forbidden("An agent may read only its own partner's activity.", [filters.partner_id])
        statement = statement.where(ActivityRecord.partner_id == principal.partner_id)
    if filters.customer_id:
        statement = statement.where(ActivityRecord.customer_id == filters.customer_id)
    if filters.customer_ids is not None:
        statement = statement.where(ActivityRecord.customer_id.in_(filters.customer_ids))
    if filters.action:
        statement = statement.where(ActivityRecord.action == filters.action)
    if filters.agent_email:
        statement = statement.where(ActivityRecord.agent_email == filters.agent_email.strip().lower())
    if filters.start:
        statement = statement.where(ActivityRecord.occurred_at >= filters.start)
    if filters.end:
        statement = statement.where(ActivityRecord.occurred_at < filters.end)
    return statement.order_by(*ACTIVITY_ORDER.clauses())
