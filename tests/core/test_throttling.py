"""The desk's two storages for `limits`: the same fixed windows on the desk's clock, in memory or in the
`throttle_counters` table (which expired windows leave)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import func, select

from partnerdesk.core.throttling import DatabaseStorage, Limit, ThrottleCounter, new_throttle

pytestmark = pytest.mark.both_engines


@pytest.fixture(params=["memory", "database"])
def throttle(request, desk, clock):
    return new_throttle(desk.database, clock, request.param)


def test_a_window_counts_up_to_its_limit_then_refuses_until_it_ends(throttle, clock):
    limit = Limit("test", 3, 60)
    assert [throttle.count(limit, "a").allowed for _ in range(4)] == [True, True, True, False]
    assert throttle.wait(limit, "a") == 60
    assert throttle.wait(limit, "b") is None and throttle.count(limit, "b").allowed
    clock.advance(timedelta(seconds=59, milliseconds=500))
    assert throttle.wait(limit, "a") == 1
    clock.advance(timedelta(milliseconds=500))
    assert throttle.wait(limit, "a") is None
    counted = throttle.count(limit, "a")
    assert counted.allowed and not counted.used_up and counted.retry_after_seconds == 60


def test_used_up_says_when_the_last_event_of_the_window_was_counted(throttle):
    limit = Limit("test", 2, 900)
    assert not throttle.count(limit, "x").used_up
    assert throttle.count(limit, "x").used_up
    throttle.forget(limit, "x")
    assert throttle.wait(limit, "x") is None


def test_the_storages_keep_limits_storage_contract(throttle, clock):
    storage = throttle.storage
    start = clock.now().timestamp()
    assert storage.check() and storage.get("k") == 0 and storage.get_expiry("k") == start
    assert storage.incr("k", 10) == 1 and storage.incr("k", 10, amount=4) == 5
    assert storage.get("k") == 5 and storage.get_expiry("k") == start + 10
    clock.advance(timedelta(seconds=10))
    assert storage.get("k") == 0 and storage.incr("k", 10) == 1
    storage.clear("k")
    assert storage.get("k") == 0
    storage.incr("a", 10)
    storage.incr("b", 10)
    assert storage.reset() == 2 and storage.get("a") == 0
    # limits' own strategy drives them unchanged.
    limiter = FixedWindowRateLimiter(storage)
    item = Limit("strategy", 2, 30).item
    assert [limiter.hit(item, "z") for _ in range(3)] == [True, True, False]
    assert limiter.get_window_stats(item, "z").remaining == 0


def test_the_table_holds_no_identifier_and_expired_windows_are_deleted(desk, clock):
    storage = DatabaseStorage(desk.database, clock)
    throttle = new_throttle(desk.database, clock, "database")
    throttle.count(Limit("signin-account", 5, 60), "someone@example.com")
    with desk.database.session(write=False) as db:
        [key] = db.scalars(select(ThrottleCounter.key))
    assert "someone" not in key and "example" not in key
    clock.advance(timedelta(minutes=2))
    for number in range(DatabaseStorage.PURGE_EVERY):
        storage.incr(f"fresh-{number}", 60)
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).where(ThrottleCounter.key == key)) == 0
        assert db.scalar(select(func.count()).select_from(ThrottleCounter)) == DatabaseStorage.PURGE_EVERY
