"""Database engine, sessions and the column types shared by every domain.

SQLite and PostgreSQL run the same code. On SQLite a write transaction starts with
`BEGIN IMMEDIATE`, so concurrent writers queue on the busy timeout instead of failing
when a read lock cannot be upgraded; reads start a plain deferred transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, MetaData, String, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator

from partnerdesk.core.errors import write_kept

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


DEFAULT_POOL_SIZE = 20
# How long a request waits for a free connection before it gets a 503 (code 1600) to retry.
POOL_TIMEOUT_SECONDS = 30


class Database:
    """Owns the process's one engine (one connection pool) and hands out sessions.

    The pool holds at most `pool_size` connections and never overflows, so a deployment's
    connection budget is simply processes x pool_size. A connection goes back to the pool rolled
    back, whatever its request did; on PostgreSQL it is pinged before being lent, so one the server
    dropped is replaced instead of failing a request.
    """

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE, prepared_statements: bool = True,
                 echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.pool_size = pool_size
        pool = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT_SECONDS}
        if self.is_sqlite:
            self.engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30},
                                        **pool)
            _configure_sqlite(self.engine)
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        else:
            # psycopg prepares a statement on the server once it has run 5 times on a connection
            # (its own cache, kept right across rollbacks); None turns that off for poolers that
            # cannot carry prepared statements between transactions.
            connect_args = {} if prepared_statements else {"prepare_threshold": None}
            self.engine = create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args, **pool)
            self._write_engine = self.engine
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=self._write_engine, expire_on_commit=False)

    def new_session(self, *, write: bool = True) -> Session:
        """A session the caller commits and closes itself (the request dependency does)."""
        return (self._write_sessions if write else self._read_sessions)()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back otherwise (keeping what the
        error asks to keep, as a request does)."""
        factory = self._write_sessions if write else self._read_sessions
        with factory() as session:
            try:
                yield session
                session.commit()
            except BaseException as failure:
                session.rollback()
                write_kept(session, failure)
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def engine_insert(db: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The INSERT of `db`'s engine, which offers `on_conflict_do_nothing` / `on_conflict_do_update`."""
    module = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


def insert_ignoring_duplicates(db: Session, table: Table) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` on either engine: a row whose unique key exists is skipped
    (on PostgreSQL after the transaction writing that key has ended). Add `.returning(...)` to learn
    which rows were written."""
    return engine_insert(db, table).on_conflict_do_nothing()


def unpooled_engine(url: str) -> Engine:
    """An engine for one-off maintenance (migrations) that leaves no connections behind."""
    engine = create_engine(url, poolclass=NullPool)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    return engine
