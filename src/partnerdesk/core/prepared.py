"""Core statements compiled once per dialect and run straight on the driver's cursor.

For the hottest writes (carts and checkout) SQLAlchemy's per-execution work (cache key, execution
context, result wrapping) costs several times what the database does for a one-row statement. A
`Prepared` statement is still written with Core, so tables, columns and types stay the single
source of truth; it is compiled once per dialect, and each execution only converts the parameters
and result values with the columns' own type processors (money, UTC times, JSON, enums) and hands
the SQL to the driver on the session's connection, inside the session's transaction.

Write such a statement with explicit `bindparam`s; `insert_statement(table)` binds every column.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import BindParameter, Table, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert

Processor = Callable[[Any], Any] | None
_DRIVER_KEY = "partnerdesk.prepared.driver"


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

    @staticmethod
    def _cursor(db: Session):
        # Asking the session for its connection costs more than a one-row statement: remember the
        # driver connection for the session's current transaction (a new transaction may get another).
        transaction = db.get_transaction()
        remembered = db.info.get(_DRIVER_KEY)
        if transaction is None or remembered is None or remembered[0] is not transaction:
            connection = db.connection()
            remembered = db.info[_DRIVER_KEY] = (db.get_transaction(), connection.dialect,
                                                 connection.connection.driver_connection)
        return remembered[1], remembered[2].cursor()

    def all(self, db: Session, values: Mapping[str, Any] | None = None) -> list[tuple]:
        dialect, cursor = self._cursor(db)
        plan = self._plan(dialect)
        try:
            cursor.execute(plan.sql, plan.bind(values or {}))
            return [plan.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, db: Session, values: Mapping[str, Any] | None = None) -> tuple | None:
        rows = self.all(db, values)
        return rows[0] if rows else None

    def run(self, db: Session, values: Mapping[str, Any] | None = None) -> int:
        """Executes an INSERT, UPDATE or DELETE; returns the number of rows it touched."""
        dialect, cursor = self._cursor(db)
        plan = self._plan(dialect)
        try:
            cursor.execute(plan.sql, plan.bind(values or {}))
            return cursor.rowcount
        finally:
            cursor.close()

    def run_many(self, db: Session, rows: Iterable[Mapping[str, Any]]) -> None:
        """Executes the statement once per row, in one call to the driver."""
        dialect, cursor = self._cursor(db)
        plan = self._plan(dialect)
        bound = [plan.bind(row) for row in rows]
        if not bound:
            return
        try:
            cursor.executemany(plan.sql, bound)
        finally:
            cursor.close()


def run_on_driver(db: Session, sql: str) -> None:
    """Runs a statement with no parameters and no rows (SAVEPOINT, RELEASE ...) in the session's transaction."""
    _dialect, cursor = Prepared._cursor(db)
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def insert_statement(table: Table, *, leave_out: Sequence[str] = ()) -> Insert:
    """An INSERT binding every column of `table` by its name but `leave_out` (each row gives them all)."""
    return table.insert().values({column.name: bindparam(column.name) for column in table.columns
                                  if column.name not in leave_out})
