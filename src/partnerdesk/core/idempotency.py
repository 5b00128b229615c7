"""Retried writes do their work once: answers are remembered per partner and `MS-RequestId`.

The key is claimed inside the request's own transaction, before the work runs, so a first attempt
that fails rolls back its claim with everything else and the retry really runs. A second request
with the same key waits on the unique index (PostgreSQL, `INSERT ... ON CONFLICT DO NOTHING`) or on
the write lock (SQLite's BEGIN IMMEDIATE) until the first one ends, then replays its answer.
Request ids arrive here in their canonical lowercase form (`core.middleware.RequestIdMiddleware`),
however the client spelled them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Integer, Row, String, UniqueConstraint, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime, insert_ignoring_duplicates, new_id
from partnerdesk.core.errors import IdempotencyKeyReused

REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "request_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    # The partner id (or the operator agent) the key belongs to: keys never collide across partners.
    scope: Mapped[str] = mapped_column(String(80))
    request_id: Mapped[str] = mapped_column(String(36))
    operation: Mapped[str] = mapped_column(String(120))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def fingerprint(operation: str, payload: Any) -> str:
    canonical = json.dumps([operation, payload], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_record = IdempotencyRecord.__table__.c
_ANSWER = select(_record.operation, _record.fingerprint, _record.status_code, _record.response_body).where(
    _record.scope == bindparam("scope"), _record.request_id == bindparam("request_id"))
_SAVE_ANSWER = (update(IdempotencyRecord.__table__).where(_record.id == bindparam("record_id"))
                .values(status_code=bindparam("status_code"), response_body=bindparam("response_body")))


def _find(db: Session, scope: str, request_id: str) -> Row | None:
    """The answer remembered for this scope and request id, or None."""
    return db.execute(_ANSWER, {"scope": scope, "request_id": request_id}).first()


def _replay(record: Any, operation: str, digest: str, request_id: str) -> JSONResponse:
    if record.operation != operation or record.fingerprint != digest:
        raise IdempotencyKeyReused(
            f"MS-RequestId {request_id} was already used for a different request; send a new one.",
            [request_id],
        )
    return JSONResponse(record.response_body, status_code=record.status_code or 200, headers={REPLAY_HEADER: "true"})


def run_once(
    db: Session,
    *,
    scope: str,
    request_id: str | None,
    operation: str,
    payload: Any,
    now: datetime,
    work: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    """Runs `work` (returning status and JSON body) unless this request id already did."""
    if request_id is None:
        status, body = work()
        return JSONResponse(body, status_code=status)
    digest = fingerprint(operation, payload)
    existing = _find(db, scope, request_id)
    if existing is not None:
        return _replay(existing, operation, digest, request_id)
    record_id = new_id()
    claim = {"id": record_id, "scope": scope, "request_id": request_id, "operation": operation,
             "fingerprint": digest, "created_at": now}
    # A concurrent request with the same key makes this wait until it ends: if it committed, nothing
    # is written here and its answer is replayed; if it rolled back, this claim is written.
    claimed = db.execute(insert_ignoring_duplicates(db, IdempotencyRecord.__table__).returning(_record.id), claim)
    if claimed.first() is None:
        existing = _find(db, scope, request_id)
        if existing is None:  # pragma: no cover - cannot happen: the key exists, committed
            raise RuntimeError(f"request id {request_id} is claimed but not readable")
        return _replay(existing, operation, digest, request_id)
    status, body = work()
    db.execute(_SAVE_ANSWER, {"record_id": record_id, "status_code": status, "response_body": body})
    return JSONResponse(body, status_code=status)
