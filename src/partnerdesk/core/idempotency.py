"""Retried writes do their work once: answers are remembered per partner and `MS-RequestId`.

The key is claimed inside the request's own transaction, so a first attempt that fails rolls back
its claim with everything else, and the retry really runs. Two ways, with the same outcome:

- `run_once` on ordinary routes claims the key before the work runs. A second request with the same
  key waits on the unique index (PostgreSQL) or on the write lock (SQLite's BEGIN IMMEDIATE) until
  the first one commits, then replays its answer.
- `run_once(..., in_unit=True)` in the hot write units of `core.units` (through `Caller.write`) looks the key up
  with the unit's first reads and writes the claim, answer included, with the unit's COMMIT: no
  round trip of its own. A concurrent request with the same key that committed first makes this
  claim fail on the unique index, which takes the whole transaction with it; `Caller.write` then
  runs the unit again, and it replays the winner's answer (`lost_claim`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Integer, String, UniqueConstraint, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime, new_id
from partnerdesk.core.errors import IdempotencyKeyReused
from partnerdesk.core.prepared import Prepared, insert_statement

REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "request_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    # The partner id (or the operator agent) the key belongs to: keys never collide across partners.
    scope: Mapped[str] = mapped_column(String(80))
    # Indexed alone too: the write units look a key up before they know whose it is (see prefetch_answer).
    request_id: Mapped[str] = mapped_column(String(36), index=True)
    operation: Mapped[str] = mapped_column(String(120))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def fingerprint(operation: str, payload: Any) -> str:
    canonical = json.dumps([operation, payload], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_RECORDS = IdempotencyRecord.__table__
# By the request id alone (its own index), whoever the caller: the scope is checked in Python, so the
# lookup can travel with the token check, before the caller is known.
_ANSWERS_OF_REQUEST = Prepared(
    select(_RECORDS.c.scope, _RECORDS.c.operation, _RECORDS.c.fingerprint, _RECORDS.c.status_code,
           _RECORDS.c.response_body).where(_RECORDS.c.request_id == bindparam("request_id"))
)
_CLAIM = Prepared(insert_statement(_RECORDS))
_CLAIM_CONSTRAINT = "uq_idempotency_records_scope_request_id"


def _find(db: Session, scope: str, request_id: str) -> Any | None:
    """The answer remembered for this scope and request id (lower-cased), or None."""
    rows = _ANSWERS_OF_REQUEST.all(db, {"request_id": request_id})
    return next((row for row in rows if row.scope == scope), None)


def prefetch_answer(db: Session, request_id: str | None) -> None:
    """Sends the request id's lookup ahead, inside `core.prepared.together`; `run_once` uses it.

    Send it after the reads that lock rows (a cart's FOR UPDATE): on PostgreSQL each statement reads
    what had committed when it started, so a retry that waited on the first attempt's lock then sees
    the first attempt's answer.
    """
    if request_id:
        _ANSWERS_OF_REQUEST.prefetch(db, {"request_id": request_id.lower()})


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
    in_unit: bool = False,
) -> JSONResponse:
    """Runs `work` (returning status and JSON body) unless this request id already did.

    `in_unit` (a hot write unit, see the module): the claim and its answer are written with the
    unit's commit. If a concurrent request with the same id commits first, the unit fails with an
    IntegrityError for which `lost_claim` is true, and nothing of it is kept: run it again to replay
    that answer.
    """
    if request_id is None:
        status, body = work()
        return JSONResponse(body, status_code=status)
    request_id = request_id.lower()
    digest = fingerprint(operation, payload)
    existing = _find(db, scope, request_id)
    if existing is not None:
        return _replay(existing, operation, digest, request_id)
    if in_unit:
        status, body = work()
        _CLAIM.defer(db, [{"id": new_id(), "scope": scope, "request_id": request_id, "operation": operation,
                           "fingerprint": digest, "status_code": status, "response_body": body, "created_at": now}])
        return JSONResponse(body, status_code=status)
    record = IdempotencyRecord(
        scope=scope, request_id=request_id, operation=operation, fingerprint=digest, created_at=now
    )
    try:
        with db.begin_nested():
            db.add(record)
            db.flush()
    except IntegrityError:
        existing = _find(db, scope, request_id)
        if existing is None:  # pragma: no cover - the winner rolled back; let the client retry
            raise
        return _replay(existing, operation, digest, request_id)
    status, body = work()
    record.status_code = status
    record.response_body = body
    db.flush()
    return JSONResponse(body, status_code=status)


def lost_claim(error: IntegrityError) -> bool:
    """Whether `error` is a request id's claim that a concurrent request with the same id won."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None:  # PostgreSQL names the constraint
        return diag.constraint_name == _CLAIM_CONSTRAINT
    message = str(error.orig)  # SQLite names the columns
    return "UNIQUE constraint failed" in message and f"{_RECORDS.name}.request_id" in message
