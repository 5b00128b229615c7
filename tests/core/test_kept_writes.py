"""A refusal may keep a record (an alert for the operator) while everything else of its request is undone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from partnerdesk.audit import service as audit
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.core.errors import Conflict


def _actions(desk) -> list[str]:
    with desk.database.session(write=False) as db:
        return list(db.scalars(select(ActivityRecord.action).order_by(ActivityRecord.id)))


def _record(action: str, now):
    return lambda db: audit.record(db, principal=None, now=now, action=action, object_type="test")


def test_the_kept_write_is_committed_and_the_rest_rolled_back(desk):
    now = desk.clock.now()
    with pytest.raises(Conflict), desk.database.session() as db:
        audit.record(db, principal=None, now=now, action="undone", object_type="test")
        raise Conflict("refused", kept=[_record("alert", now)])
    assert _actions(desk) == ["alert"]


def test_a_kept_write_that_fails_leaves_the_callers_error_and_writes_nothing(desk):
    now = desk.clock.now()

    def broken(db):
        audit.record(db, principal=None, now=now, action="half", object_type="test")
        raise RuntimeError("disk full")

    with pytest.raises(Conflict, match="refused"), desk.database.session() as db:
        raise Conflict("refused", kept=[broken])
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(ActivityRecord)) == 0
