"""Counting failures and requests over time windows: the one place the `limits` library is used.

Sign-in throttling (issue 17) and Partner Center's request-rate limits (issue 16) count with
`limits`' fixed-window strategy on one of two storages of the desk's own, chosen by the setting
`PARTNERDESK_THROTTLE_STORAGE`:

- `memory` (the default): counters in this process, for a desk served by one process;
- `database`: counters in the `throttle_counters` table, so several server processes share them
  and a restart forgets nothing.

Both are subclasses of `limits.storage.Storage`, the library's documented extension point, and both
read time from the desk's clock (not the system's), so a test moves it instead of sleeping.
Identifiers (an email, an IP address) are hashed before they become keys: the table names no one.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Integer, String, case, delete, literal, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.clock import Clock
from partnerdesk.core.db import Base, Database, UTCDateTime, engine_insert
from partnerdesk.core.errors import DeskError

StorageKind = Literal["memory", "database"]


class ThrottleCounter(Base):
    """One window's count for one key (`limits`' key, its identifiers hashed)."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def _timestamp(moment: datetime) -> float:
    return moment.timestamp()


class ClockedMemoryStorage(Storage):
    """Fixed-window counters in this process's memory, on the desk's clock."""

    STORAGE_SCHEME = None
    # Expired windows are dropped once this many keys are held, so memory stays bounded.
    _PURGE_ABOVE = 10_000

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return ()

    def _now(self) -> float:
        return _timestamp(self.clock.now())

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self._now()
        with self._lock:
            if len(self._windows) > self._PURGE_ABOVE:
                self._windows = {k: window for k, window in self._windows.items() if window[1] > now}
            hits, expires = self._windows.get(key, (0, 0.0))
            if expires <= now:
                hits, expires = 0, now + expiry
            hits += amount
            self._windows[key] = (hits, expires)
            return hits

    def get(self, key: str) -> int:
        hits, expires = self._windows.get(key, (0, 0.0))
        return hits if expires > self._now() else 0

    def get_expiry(self, key: str) -> float:
        now = self._now()
        _hits, expires = self._windows.get(key, (0, 0.0))
        return expires if expires > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._windows)
            self._windows.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


_counter = ThrottleCounter.__table__.c
_ASYNCHRONOUS_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


class DatabaseStorage(Storage):
    """Fixed-window counters in the `throttle_counters` table, on the desk's clock.

    Each call is a short transaction of its own (an upsert for `incr`), committed at once: counts are
    shared by every process on the database, outlive a restart, and are never held up, nor rolled back,
    by the request that made them. Callers must not hold a transaction of their own on SQLite meanwhile
    (its write lock is the whole file): `accounts.auth` ends the request's read before counting.
    """

    STORAGE_SCHEME = None
    # Expired rows are deleted by one increment in this many (per process).
    PURGE_EVERY = 500

    def __init__(self, database: Database, clock: Clock) -> None:
        super().__init__()
        self.database = database
        self.clock = clock
        self._increments = 0

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return (SQLAlchemyError,)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.clock.now()
        new_expiry = now + timedelta(seconds=expiry)
        self._increments += 1
        with self.database.session() as db:
            if not self.database.is_sqlite:
                # A count lost in a crash costs nothing; waiting for the WAL flush costs every request.
                db.execute(_ASYNCHRONOUS_COMMIT)
            if self._increments % self.PURGE_EVERY == 0:
                db.execute(delete(ThrottleCounter.__table__).where(_counter.expires_at <= now))
            expired = _counter.expires_at <= literal(now, UTCDateTime())
            statement = (
                engine_insert(db, ThrottleCounter.__table__)
                .values(key=key, hits=amount, expires_at=new_expiry)
                .on_conflict_do_update(
                    index_elements=[_counter.key],
                    set_={
                        "hits": case((expired, literal(amount)), else_=_counter.hits + amount),
                        "expires_at": case((expired, literal(new_expiry, UTCDateTime())),
                                           else_=_counter.expires_at),
                    },
                )
                .returning(_counter.hits)
            )
            return int(db.execute(statement).scalar_one())

    def _window(self, key: str) -> tuple[int, datetime] | None:
        with self.database.session(write=False) as db:
            row = db.execute(select(_counter.hits, _counter.expires_at).where(_counter.key == key)).first()
        if row is None or row.expires_at <= self.clock.now():
            return None
        return int(row.hits), row.expires_at

    def get(self, key: str) -> int:
        window = self._window(key)
        return window[0] if window else 0

    def get_expiry(self, key: str) -> float:
        window = self._window(key)
        return _timestamp(window[1] if window else self.clock.now())

    def check(self) -> bool:
        with self.database.session(write=False) as db:
            db.execute(select(literal(1)))
        return True

    def reset(self) -> int | None:
        with self.database.session() as db:
            return db.execute(delete(ThrottleCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        with self.database.session() as db:
            db.execute(delete(ThrottleCounter.__table__).where(_counter.key == key))


@dataclass(frozen=True)
class Limit:
    """`amount` events per `seconds` for one kind of key (`scope`, such as "signin-account")."""

    scope: str
    amount: int
    seconds: int

    @property
    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.amount, self.seconds, namespace="PD")


def _hashed(identifier: str) -> str:
    # 32 hex characters of SHA-256: keys stay short and the table holds no email or address.
    return hashlib.sha256(identifier.encode()).hexdigest()[:32]


class Throttle:
    """Fixed windows over one storage: `count` an event, ask how long to `wait`, `forget` a key."""

    def __init__(self, storage: Storage, clock: Clock, kind: StorageKind) -> None:
        self.storage = storage
        self.clock = clock
        self.kind = kind
        self.limiter = FixedWindowRateLimiter(storage)

    @property
    def shares_database(self) -> bool:
        """Whether counting opens transactions on the desk's database (see `DatabaseStorage`)."""
        return self.kind == "database"

    def seconds_until(self, reset_at: float) -> int:
        return max(1, math.ceil(reset_at - _timestamp(self.clock.now())))

    def wait(self, limit: Limit, identifier: str) -> int | None:
        """Seconds until `identifier` may try again, or None if its limit is not used up."""
        key = (limit.scope, _hashed(identifier))
        if self.limiter.test(limit.item, *key):
            return None
        return self.seconds_until(self.limiter.get_window_stats(limit.item, *key).reset_time)

    def count(self, limit: Limit, identifier: str) -> Counted:
        """Counts one event and says whether it was within the limit (one write; more is read only if asked)."""
        key = (limit.scope, _hashed(identifier))
        return Counted(self, limit, key, allowed=self.limiter.hit(limit.item, *key))

    def forget(self, limit: Limit, identifier: str) -> None:
        self.limiter.clear(limit.item, limit.scope, _hashed(identifier))


class Counted:
    """One counted event. Most callers only ask `allowed`; what else they ask is read from the storage then
    (on the database storage each read is a query, so the common case costs one statement)."""

    def __init__(self, throttle: Throttle, limit: Limit, key: tuple[str, str], *, allowed: bool) -> None:
        self.throttle, self.limit, self.key, self.allowed = throttle, limit, key, allowed

    @property
    def used_up(self) -> bool:
        """The limit has no event left in this window: the next one is refused."""
        return not self.throttle.limiter.test(self.limit.item, *self.key)

    @property
    def retry_after_seconds(self) -> int:
        """Seconds until this window ends."""
        stats = self.throttle.limiter.get_window_stats(self.limit.item, *self.key)
        return self.throttle.seconds_until(stats.reset_time)


def new_throttle(database: Database, clock: Clock, kind: StorageKind) -> Throttle:
    storage: Storage = DatabaseStorage(database, clock) if kind == "database" else ClockedMemoryStorage(clock)
    return Throttle(storage, clock, kind)


# Errors 18xx: throttling and sessions.
class Throttled(DeskError):
    """A refusal that says when to come back (`Retry-After`)."""

    status_code = 429
    code = 1801

    def __init__(self, description: str, retry_after_seconds: int, data: list[Any] | None = None) -> None:
        super().__init__(description, data if data is not None else [retry_after_seconds])
        self.retry_after_seconds = retry_after_seconds


class RateLimitExceeded(Throttled):
    """Partner Center's answer to a partner over its request rate, in Partner Center's own body."""

    code = 1800
    MESSAGE: ClassVar[str] = "Rate limit is exceeded. Try again in {seconds} seconds."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(self.MESSAGE.format(seconds=retry_after_seconds), retry_after_seconds)

    def body(self) -> dict[str, Any]:
        return {"statusCode": 429, "message": self.description}


class TooManyFailedSignIns(Throttled):
    code = 1801


def install_throttling(app: FastAPI, throttle: Throttle) -> None:
    """Keeps the app's throttle (`app.state.throttle`) and answers its refusals with `Retry-After`."""
    app.state.throttle = throttle

    async def throttled(_request: Request, error: Throttled) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status_code,
                            headers={"Retry-After": str(error.retry_after_seconds)})

    app.add_exception_handler(Throttled, throttled)


def throttle_of(request: Request) -> Throttle:
    return request.app.state.throttle
