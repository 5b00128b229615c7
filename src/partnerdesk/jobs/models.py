"""The jobs table: one row per unit of background work, from enqueued to succeeded or dead."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime, new_id


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    dead = "dead"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    # Names the handler (see `partnerdesk.domains.JOB_HANDLERS`), e.g. "webhook.deliver".
    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(Enum(JobStatus, native_enum=False, length=16))
    # Attempts started so far, counted when a worker claims the job (so a crashed attempt counts too).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime())
    # While running: the lease. Past it, the worker is presumed dead and another one may claim the job.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # New on every claim, so a worker whose lease ran out cannot report on an attempt it no longer owns.
    lease_token: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
