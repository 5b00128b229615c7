"""Core statements compiled once per dialect and run straight on the driver's cursor.

For the hottest writes (carts and checkout) SQLAlchemy's per-execution work (cache key, execution
context, result wrapping) costs several times what the database does for a one-row statement. A
`Prepared` statement is still written with Core, so tables, columns and types stay the single
source of truth; it is compiled once per dialect, and each execution only converts the parameters
and result values with the columns' own type processors (money, UTC times, JSON, enums) and hands
the SQL to the driver on the session's connection, inside the session's transaction.

Write such a statement with explicit `bindparam`s; `insert_statement(table)` binds every column.

On PostgreSQL (psycopg) a request also pays one network round trip per statement, and the checkout
needs about twenty. Two tools cut them to a handful without changing what the statements mean:

- `together(db)`: statements sent in the block travel in one round trip (libpq's pipeline mode:
  psycopg's own on blocking connections, `core.wire` on the asyncio ones of the write units).
  `prefetch` sends a read there whose rows the same `first`/`all` call consumes later in the
  transaction; `send` runs a statement there and hands back its outcome once the block ends.
- `defer`: rows to INSERT that nothing reads back before the commit. They are sent just before the
  session's next statement of any kind, so they land exactly where they would have, or, by
  `commit`, in the same round trip as the COMMIT itself.

On SQLite (a library in this process, no round trips) `prefetch` does nothing, and `send` and
`defer` run at once.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import BindParameter, Table, bindparam, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert

from partnerdesk.core.wire import LeanConnection

Processor = Callable[[Any], Any] | None
_STATE_KEY = "partnerdesk.prepared.state"
_DEFERRED_KEY = "partnerdesk.prepared.deferred"


_NO_LITERAL = object()


def _literal_of(bind: BindParameter) -> Any:
    """The value a statement carries itself (`status == "Active"`), or _NO_LITERAL for a named parameter."""
    if bind.callable is not None:
        return bind.effective_value
    return bind.value if bind.value is not None else _NO_LITERAL


@dataclass(frozen=True)
class _Param:
    name: str
    process: Processor
    literal: Any


class _Binder:
    """Turns a row of named values into what the driver takes; runs for every row of every hot statement.

    The values are picked in one C call, then only the columns that need it are converted; the
    statement's own literals are converted once, here.
    """

    def __init__(self, params: Sequence[_Param], positional: bool) -> None:
        self.names = tuple(param.name for param in params)
        self.positional = positional
        picked = [name for name, param in zip(self.names, params, strict=True) if param.literal is _NO_LITERAL]
        self.pick = itemgetter(*picked) if picked else (lambda _values: ())
        self.single = len(picked) == 1
        self.slots = [index for index, param in enumerate(params) if param.literal is _NO_LITERAL]
        self.fixed = [(index, param.process(param.literal) if param.process else param.literal)
                      for index, param in enumerate(params) if param.literal is not _NO_LITERAL]
        self.processed = [(index, param.process) for index, param in enumerate(params)
                          if param.process is not None and param.literal is _NO_LITERAL]

    def __call__(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        picked = self.pick(values)
        if self.single:
            picked = (picked,)
        if self.fixed:
            out: list[Any] = [None] * len(self.names)
            for slot, value in zip(self.slots, picked, strict=True):
                out[slot] = value
            for index, value in self.fixed:
                out[index] = value
        else:
            out = list(picked)
        for index, process in self.processed:
            out[index] = process(out[index])
        return out if self.positional else dict(zip(self.names, out, strict=True))


@dataclass(frozen=True)
class _Plan:
    sql: str
    bind: _Binder
    results: tuple[Processor, ...]
    row_type: type[tuple]

    def row(self, raw: Sequence[Any]) -> tuple:
        return self.row_type._make([process(value) if process else value
                                    for process, value in zip(self.results, raw, strict=True)])


def _as_sqlalchemy_error(error: Exception, dialect: Dialect) -> Exception:
    """A driver error as SQLAlchemy's (IntegrityError ...), as any other statement raises it; others as they are."""
    dbapi = dialect.loaded_dbapi
    if isinstance(error, dbapi.Error):
        return DBAPIError.instance(None, None, error, dbapi.Error, dialect=dialect)
    return error


def _as_sqlalchemy_errors(function: Callable) -> Callable:
    """Decorates a function taking a session: its driver errors come out as SQLAlchemy's."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as error:
            db = next(arg for arg in args if isinstance(arg, Session))
            translated = _as_sqlalchemy_error(error, db.get_bind().dialect)
            if translated is error:
                raise
            raise translated from error

    return wrapper


def _driver_of(connection: Connection) -> Any:
    """The driver's connection of a SQLAlchemy connection, blocking-style whichever engine it belongs to.

    On the asyncio engine (psycopg's asyncio connections, driven from SQLAlchemy's greenlet) that is
    the lean libpq path of `core.wire`.
    """
    driver = connection.connection.driver_connection
    return LeanConnection.of(driver, connection.info) if connection.dialect.is_async else driver


class _TransactionState:
    """What the statements of one session transaction share: the driver connection and what waits to be sent."""

    def __init__(self, transaction: Any, connection: Connection) -> None:
        self.transaction = transaction
        self.dialect = connection.dialect
        self.driver = _driver_of(connection)
        # The deferred rows live with the connection, so its events (next statement, commit, rollback) see them.
        self.connection_info = connection.info
        self.pipelines = self.dialect.name == "postgresql" and self.dialect.driver == "psycopg"
        self.in_pipeline = False
        self.ahead: dict[tuple, Sent] = {}


def _state(db: Session) -> _TransactionState:
    # Asking the session for its connection costs more than a one-row statement: remember it for the
    # session's current transaction (a new transaction may get another connection).
    transaction = db.get_transaction()
    if db.get_nested_transaction() is not None:
        db.connection()  # SQLAlchemy emits a nested transaction's SAVEPOINT only when asked for the connection
    state = db.info.get(_STATE_KEY)
    if transaction is None or state is None or state.transaction is not transaction:
        connection = db.connection()
        state = db.info[_STATE_KEY] = _TransactionState(db.get_transaction(), connection)
    return state


def _ready_cursor(state: _TransactionState):
    """A driver cursor to run a statement on, once the deferred rows that must go first are on their way."""
    _send_deferred(state.connection_info, state.driver, in_pipeline=state.in_pipeline)
    return state.driver.cursor()


def _send_deferred(connection_info: dict, driver: Any, *, in_pipeline: bool = False) -> None:
    """Writes the connection's deferred rows, if any, in the order they were deferred, in one round trip."""
    deferred = connection_info.pop(_DEFERRED_KEY, None)
    if not deferred:
        return
    if in_pipeline or (len(deferred) == 1 and len(deferred[0][1]) == 1):
        _write_rows(driver, deferred)
        return
    with driver.pipeline():
        _write_rows(driver, deferred)


def _write_rows(driver: Any, deferred: list[tuple[str, list]]) -> None:
    cursor = driver.cursor()
    try:
        for sql, rows in deferred:
            cursor.executemany(sql, rows)
    finally:
        cursor.close()


@event.listens_for(Engine, "before_cursor_execute")
def _deferred_rows_go_first(connection, _cursor, _statement, _parameters, _context, _executemany) -> None:
    # Any statement SQLAlchemy runs (ORM, Core, SAVEPOINT, ...) sees the deferred rows already written.
    if _DEFERRED_KEY in connection.info:
        _send_deferred(connection.info, _driver_of(connection))


@event.listens_for(Engine, "commit")
def _deferred_rows_before_commit(connection) -> None:
    if _DEFERRED_KEY in connection.info:
        _send_deferred(connection.info, _driver_of(connection))


@event.listens_for(Engine, "rollback")
def _deferred_rows_dropped(connection) -> None:
    connection.info.pop(_DEFERRED_KEY, None)


@event.listens_for(Pool, "checkin")
def _nothing_deferred_in_the_pool(_driver, record) -> None:
    if record is not None:
        record.info.pop(_DEFERRED_KEY, None)


class Sent:
    """A statement sent inside `together`: its rows and row count are there once the block has ended."""

    def __init__(self, plan: _Plan, cursor: Any) -> None:
        self._plan = plan
        self._cursor = cursor

    def rows(self) -> list[tuple]:
        try:
            return [self._plan.row(raw) for raw in self._cursor.fetchall()]
        finally:
            self._cursor.close()

    @property
    def rowcount(self) -> int:
        count = self._cursor.rowcount
        self._cursor.close()
        return count


@contextmanager
def together(db: Session) -> Iterator[None]:
    """Statements sent in the block reach PostgreSQL in one round trip; results are read when it ends.

    Only `Prepared` statements belong inside: SQLAlchemy's own statements expect their results at once.
    An error of any statement in the block comes out at its end, and the transaction is then lost.
    """
    state = _state(db)
    if not state.pipelines or state.in_pipeline:
        yield
        return
    try:
        with state.driver.pipeline():
            state.in_pipeline = True
            try:
                _send_deferred(state.connection_info, state.driver, in_pipeline=True)
                yield
            finally:
                state.in_pipeline = False
    except state.dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(error, state.dialect) from error


@_as_sqlalchemy_errors
def commit(db: Session) -> None:
    """Commits the session; on PostgreSQL the deferred rows travel in the COMMIT's own round trip.

    On the asyncio engine the COMMIT always goes the lean way (`core.wire`), deferred rows or not.
    """
    db.flush()  # the ORM's pending writes first: they go after the rows deferred before them
    state = db.info.get(_STATE_KEY)
    if (state is None or not state.pipelines or state.transaction is not db.get_transaction()
            or not (state.connection_info.get(_DEFERRED_KEY) or isinstance(state.driver, LeanConnection))):
        db.commit()
        return
    with state.driver.pipeline():
        _send_deferred(state.connection_info, state.driver, in_pipeline=True)
        state.driver.commit()
    # The driver has committed; the session only closes its books (and hands the connection back).
    db.commit()


def _values_key(values: Mapping[str, Any]) -> tuple | None:
    try:
        key = tuple(sorted(values.items()))
        hash(key)
    except TypeError:
        return None
    return key


class Prepared:
    """One statement, compiled on first use for each dialect."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = compiled.binds  # compiled name -> BindParameter
            order = compiled.positiontup if compiled.positional else list(binds)
            params = tuple(_Param(name, binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                                  _literal_of(binds[name])) for name in order)
            columns = getattr(self.statement, "selected_columns", None)
            keys = list(columns.keys()) if columns is not None else []
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                            for column in (columns or ()))
            # Rows read like SQLAlchemy's: by position or by column name.
            row_type = namedtuple("Row", keys, rename=True)  # noqa: PYI024
            plan = self._plans[dialect.name] = _Plan(compiled.string, _Binder(params, bool(compiled.positional)),
                                                     results, row_type)
        return plan

    @_as_sqlalchemy_errors
    def all(self, db: Session, values: Mapping[str, Any] | None = None) -> list[tuple]:
        values = values or {}
        state = _state(db)
        if state.ahead:
            key = _values_key(values)
            sent = state.ahead.pop((id(self), key), None) if key is not None else None
            if sent is not None:
                return sent.rows()
        plan = self._plan(state.dialect)
        cursor = _ready_cursor(state)
        try:
            cursor.execute(plan.sql, plan.bind(values))
            return [plan.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, db: Session, values: Mapping[str, Any] | None = None) -> tuple | None:
        rows = self.all(db, values)
        return rows[0] if rows else None

    @_as_sqlalchemy_errors
    def run(self, db: Session, values: Mapping[str, Any] | None = None) -> int:
        """Executes an INSERT, UPDATE or DELETE; returns the number of rows it touched."""
        state = _state(db)
        plan = self._plan(state.dialect)
        cursor = _ready_cursor(state)
        try:
            cursor.execute(plan.sql, plan.bind(values or {}))
            return cursor.rowcount
        finally:
            cursor.close()

    @_as_sqlalchemy_errors
    def run_many(self, db: Session, rows: Iterable[Mapping[str, Any]]) -> None:
        """Executes the statement once per row, in one call to the driver."""
        state = _state(db)
        plan = self._plan(state.dialect)
        bound = [plan.bind(row) for row in rows]
        if not bound:
            return
        cursor = _ready_cursor(state)
        try:
            cursor.executemany(plan.sql, bound)
        finally:
            cursor.close()

    @_as_sqlalchemy_errors
    def defer(self, db: Session, rows: Iterable[Mapping[str, Any]]) -> None:
        """`run_many` for rows nothing reads back before the commit: sent with the next statement (see above)."""
        state = _state(db)
        if not state.pipelines:
            self.run_many(db, rows)
            return
        plan = self._plan(state.dialect)
        bound = [plan.bind(row) for row in rows]
        if bound:
            state.connection_info.setdefault(_DEFERRED_KEY, []).append((plan.sql, bound))

    @_as_sqlalchemy_errors
    def send(self, db: Session, values: Mapping[str, Any] | None = None) -> Sent:
        """Runs the statement; inside `together`, its outcome is there once the block ends."""
        state = _state(db)
        plan = self._plan(state.dialect)
        cursor = _ready_cursor(state)
        cursor.execute(plan.sql, plan.bind(values or {}))
        return Sent(plan, cursor)

    @_as_sqlalchemy_errors
    def prefetch(self, db: Session, values: Mapping[str, Any] | None = None) -> None:
        """Inside `together` on PostgreSQL, sends this read now; the next `all`/`first` with the same values
        in this transaction takes its rows instead of asking again. Elsewhere it does nothing.

        Prefetch only what the transaction does not change before reading it. A read already sent
        ahead, and not yet taken, is not sent twice.
        """
        values = values or {}
        state = _state(db)
        key = _values_key(values)
        if state.in_pipeline and key is not None and (id(self), key) not in state.ahead:
            state.ahead[(id(self), key)] = self.send(db, values)


@_as_sqlalchemy_errors
def run_on_driver(db: Session, sql: str) -> None:
    """Runs a statement with no parameters and no rows (SAVEPOINT, RELEASE ...) in the session's transaction."""
    cursor = _ready_cursor(_state(db))
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def insert_statement(table: Table, *, leave_out: Sequence[str] = ()) -> Insert:
    """An INSERT binding every column of `table` by its name but `leave_out` (each row gives them all)."""
    return table.insert().values({column.name: bindparam(column.name) for column in table.columns
                                  if column.name not in leave_out})
