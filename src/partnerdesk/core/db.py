"""Database engine, sessions and the column types shared by every domain.

SQLite and PostgreSQL run the same code. On SQLite a write transaction starts with
`BEGIN IMMEDIATE`, so concurrent writers queue on the busy timeout instead of failing
when a read lock cannot be upgraded; reads start a plain deferred transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> str:
    return str(uuid.uuid4())


def IdColumn() -> String:  # noqa: N802 - reads like a type in column declarations
    return String(36)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


MONEY_SCALE = Decimal("10000")


class MoneyAmount(TypeDecorator[Decimal]):
    """An exact amount, stored as an integer count of 1/10,000 units.

    SQLite has no exact decimal type (NUMERIC becomes a float), so amounts are scaled
    integers in the database on both engines: sums in SQL stay exact.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, not {type(value).__name__}")
        scaled = value * MONEY_SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"amount {value} has more than 4 decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / MONEY_SCALE).normalize() if value % 10000 else Decimal(value // 10000)


SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's begin event, not the driver, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = create_engine(
                url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20,
                max_overflow=20,
            )
            _configure_sqlite(self.engine)
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        else:
            self.engine = create_engine(url, echo=echo, pool_size=20, max_overflow=20, pool_pre_ping=True)
            self._write_engine = self.engine
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=self._write_engine, expire_on_commit=False)
        self._echo = echo
        self._async_engine: AsyncEngine | None = None

    @property
    def async_engine(self) -> AsyncEngine:
        """PostgreSQL through psycopg's asyncio connections, for the write units run on the event loop."""
        if self._async_engine is None:
            url = make_url(self.url).set(drivername="postgresql+psycopg_async")
            # No ping before each use: `core.units` runs a unit again when its connection was dead.
            self._async_engine = create_async_engine(url, echo=self._echo, pool_size=20, max_overflow=20)
        return self._async_engine

    def new_session(self, *, write: bool = True) -> Session:
        """A session the caller commits and closes itself (the request dependency does)."""
        return (self._write_sessions if write else self._read_sessions)()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back otherwise."""
        factory = self._write_sessions if write else self._read_sessions
        with factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def write_session_at_once(self) -> Iterator[Session]:
        """A write session on SQLite whose `BEGIN IMMEDIATE` has already run, without waiting for the lock.

        Raises WriterBusy, having done nothing, when another connection holds SQLite's write lock.
        The caller commits or rolls back; the session is closed when the block ends.
        """
        connection = self._write_engine.connect()
        driver = connection.connection.driver_connection
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                driver.execute("PRAGMA busy_timeout=0")
                try:
                    session.connection()  # the session begins the transaction, so its commit ends it
                except OperationalError as error:
                    if "locked" in str(error.orig) or "busy" in str(error.orig):
                        raise WriterBusy from None
                    raise
                finally:
                    driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                yield session
        finally:
            connection.close()

    async def dispose_async(self) -> None:
        """Closes the asyncio engine's connections (the app's shutdown, on the loop that used them)."""
        engine, self._async_engine = self._async_engine, None
        if engine is not None:
            await engine.dispose()

    def dispose(self) -> None:
        self.engine.dispose()
        engine, self._async_engine = self._async_engine, None
        if engine is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop runs in this thread: close the asyncio connections on a short one
            asyncio.run(engine.dispose())
        else:  # called from a running loop's thread: dropped from the pool, they close on collection
            engine.sync_engine.dispose(close=False)


class WriterBusy(Exception):
    """Another connection holds SQLite's write lock."""


def unpooled_engine(url: str) -> Engine:
    """An engine for one-off maintenance (migrations) that leaves no connections behind."""
    engine = create_engine(url, poolclass=NullPool)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    return engine
