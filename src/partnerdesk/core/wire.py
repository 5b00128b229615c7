"""Statements sent straight through libpq on psycopg's asyncio connections, for the write units.

The write units on PostgreSQL (see `core.units`) run on the event loop. Through psycopg's own asyncio
cursors and pipelines, every statement cost an event-loop round of its own (a flush, a poll, a
generator driven through the loop), and the checkout's twenty statements cost the server process
more CPU than everything else in the request put together: measured at 16 concurrent units, a
checkout-shaped transaction (three round trips, nineteen statements) took 1,050 µs of CPU with
psycopg's pipeline and 230 µs this way.

`LeanConnection` gives the blocking-style driver interface `core.prepared` uses (`cursor()`,
`pipeline()`, `commit()`), from SQLAlchemy's greenlet, and does the minimum itself:

- The commands of a `pipeline()` block are kept in a list and sent together when it ends, in libpq's
  pipeline mode, then the process waits once on the event loop for their results. A command outside
  a block is a block of one. Nothing is sent for a block whose body raised.
- Each statement is prepared once per connection (a named statement, like psycopg's own) and then
  only executed: PostgreSQL plans it once.
- Parameters are dumped and rows loaded by psycopg's own adapters (`Transformer`), so values go and
  come back exactly as with psycopg's cursors; errors are psycopg's (`IntegrityError` ...).
- It opens the transaction as psycopg would (a `BEGIN` before the first command), so SQLAlchemy and
  psycopg carry on with the connection as if psycopg had sent everything itself.

A connection that fails midway through an exchange (the server went away, the task was cancelled)
cannot be trusted to be at a message boundary: it is closed, and the pool drops it.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, errors, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy.util import await_only

_STATUS = pq.ExecStatus
_FAILED = (_STATUS.FATAL_ERROR, _STATUS.BAD_RESPONSE, _STATUS.NONFATAL_ERROR)
_IDLE = pq.TransactionStatus.IDLE
_INFO_KEY = "partnerdesk.wire.lean"

# psycopg's placeholders as SQLAlchemy compiles them for it: %(name)s, %s, and %% for a literal %.
_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%s|%%")


@dataclass(frozen=True)
class _Query:
    """A statement with libpq's $n placeholders, and the names (or positions) its parameters come from."""

    sql: bytes
    names: tuple[str, ...] | None  # None: positional parameters, in order
    count: int


@functools.cache  # one entry per statement the desk runs: the same on every connection
def _to_libpq(sql: str) -> _Query:
    names: dict[str, int] = {}
    positional = 0

    def replace(match: re.Match) -> str:
        nonlocal positional
        text = match.group(0)
        if text == "%%":
            return "%"
        if text == "%s":
            positional += 1
            return f"${positional}"
        name = match.group(1)
        if name not in names:
            names[name] = len(names) + 1
        return f"${names[name]}"

    converted = _PLACEHOLDER.sub(replace, sql)
    if names and positional:
        raise ValueError("a statement mixes named and positional parameters")
    return _Query(converted.encode(), tuple(names) if names else None, len(names) or positional)


@dataclass(slots=True)
class _Command:
    sql: bytes
    values: list | None  # dumped parameters; None: a statement without any (BEGIN, SAVEPOINT ...), sent as it is
    types: tuple[int, ...] = ()
    formats: list | None = None
    cursor: LeanCursor | None = None


class LeanCursor:
    """What `core.prepared` needs of a cursor: execute, executemany, fetchall, rowcount, close."""

    __slots__ = ("_connection", "_result")

    def __init__(self, connection: LeanConnection) -> None:
        self._connection = connection
        self._result: pq.abc.PGresult | None = None

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> LeanCursor:
        self._connection.submit([self._connection.command(sql, params, self)])
        return self

    def executemany(self, sql: str, params_seq: Sequence[Mapping[str, Any] | Sequence[Any]]) -> None:
        connection = self._connection
        connection.submit([connection.command(sql, params, None) for params in params_seq])

    def fetchall(self) -> list[tuple]:
        result = self._result
        if result is None or result.status != _STATUS.TUPLES_OK:
            raise errors.ProgrammingError("the last operation didn't produce rows")
        return self._connection.load_rows(result)

    @property
    def rowcount(self) -> int:
        result = self._result
        count = result.command_tuples if result is not None else None
        return -1 if count is None else count

    def close(self) -> None:
        self._result = None


class LeanConnection:
    """One psycopg asyncio connection driven through libpq, with the blocking connection's methods."""

    __slots__ = ("connection", "_pgconn", "_transformer", "_statements", "_queue", "_named")

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self._pgconn = connection.pgconn
        self._pgconn.nonblocking = 1
        self._transformer = Transformer(connection)
        self._statements: dict[tuple[bytes, tuple[int, ...]], bytes] = {}  # prepared on this connection
        self._queue: list[_Command] | None = None  # the commands of the open pipeline() block
        self._named = 0

    @classmethod
    def of(cls, connection: AsyncConnection, info: dict) -> LeanConnection:
        """The lean side of `connection`, kept with it (`info` lives as long as the driver's connection)."""
        lean = info.get(_INFO_KEY)
        if lean is None or lean.connection is not connection:
            lean = info[_INFO_KEY] = cls(connection)
        return lean

    # The blocking connection's interface.

    def cursor(self) -> LeanCursor:
        return LeanCursor(self)

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        if self._queue is not None:  # nested: the outer block sends everything
            yield
            return
        self._queue = []
        try:
            yield
        except BaseException:
            self._queue = None  # nothing of it was sent: the transaction is as it was before the block
            raise
        queue, self._queue = self._queue, None
        if queue:
            self._exchange(queue)

    def commit(self) -> None:
        if self._queue is None and self._pgconn.transaction_status == _IDLE:
            return
        self.submit([_Command(b"COMMIT", None)])

    # Commands.

    def command(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None,
                cursor: LeanCursor | None) -> _Command:
        if params is None:  # a statement without parameters (SAVEPOINT ...): sent as it is
            return _Command(sql.encode(), None, cursor=cursor)
        query = _to_libpq(sql)
        if query.names is not None:
            values = [params[name] for name in query.names]
        else:
            values = list(params)
            if len(values) != query.count:
                raise errors.ProgrammingError(f"the query has {query.count} placeholders but {len(values)} values")
        transformer = self._transformer
        dumped = transformer.dump_sequence(values, [PyFormat.AUTO] * len(values))
        return _Command(query.sql, dumped, tuple(transformer.types), list(transformer.formats), cursor)

    def submit(self, commands: list[_Command]) -> None:
        if self._queue is not None:
            self._queue.extend(commands)
        else:
            self._exchange(commands)

    def load_rows(self, result: pq.abc.PGresult) -> list[tuple]:
        transformer = self._transformer
        transformer.set_pgresult(result)
        try:
            return transformer.load_rows(0, result.ntuples, tuple)
        finally:
            transformer.set_pgresult(None)

    # The exchange with the server.

    def _exchange(self, commands: list[_Command]) -> None:
        """Sends the commands in one pipeline, waits for all their results, then raises the first error."""
        try:
            error = await_only(self._round_trip(commands))
        except BaseException:
            self._abandon()
            raise
        if error is not None:
            raise error

    def _begin_command(self) -> bytes:
        connection = self.connection
        parts = [b"BEGIN"]
        if connection.isolation_level is not None:
            parts.append(b"ISOLATION LEVEL " + connection.isolation_level.name.replace("_", " ").encode())
        if connection.read_only is not None:
            parts.append(b"READ ONLY" if connection.read_only else b"READ WRITE")
        if connection.deferrable is not None:
            parts.append(b"DEFERRABLE" if connection.deferrable else b"NOT DEFERRABLE")
        return b" ".join(parts)

    def _send(self, commands: list[_Command]) -> list[tuple[str, Any]]:
        """Queues the commands in libpq's output buffer; returns what each result to come belongs to."""
        pgconn = self._pgconn
        expected: list[tuple[str, Any]] = []
        if not self.connection.autocommit and pgconn.transaction_status == _IDLE:
            pgconn.send_query_params(self._begin_command(), None)
            expected.append(("begin", None))
        preparing: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        for command in commands:
            if command.values is None:
                pgconn.send_query_params(command.sql, None)
                expected.append(("command", command))
                continue
            key = (command.sql, command.types)
            name = self._statements.get(key) or preparing.get(key)
            if name is None:
                self._named += 1
                name = preparing[key] = b"partnerdesk_%d" % self._named
                pgconn.send_prepare(name, command.sql, command.types)
                expected.append(("prepare", (key, name)))
            pgconn.send_query_prepared(name, command.values, command.formats)
            expected.append(("command", command))
        pgconn.pipeline_sync()
        return expected

    async def _round_trip(self, commands: list[_Command]) -> Exception | None:
        pgconn = self._pgconn
        pgconn.enter_pipeline_mode()
        expected = iter(self._send(commands))
        loop = asyncio.get_running_loop()
        socket = pgconn.socket
        while pgconn.flush():  # 1: libpq could not send everything yet
            await _ready(loop, socket, write=True)
        error: Exception | None = None
        while True:
            pgconn.consume_input()
            while not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:  # the end of one command's results
                    continue
                status = result.status
                if status == _STATUS.PIPELINE_SYNC:
                    pgconn.exit_pipeline_mode()
                    return error
                kind, target = next(expected)
                if status in _FAILED:
                    if error is None:
                        error = errors.error_from_result(result, encoding=self.connection.info.encoding)
                    continue
                if status == _STATUS.PIPELINE_ABORTED:  # after the error above: it did not run
                    continue
                if kind == "prepare":
                    key, name = target
                    self._statements[key] = name
                elif kind == "command" and target.cursor is not None:
                    target.cursor._result = result
            await _ready(loop, socket)

    def _abandon(self) -> None:
        """Closes a connection left in the middle of an exchange; SQLAlchemy then sees it is gone."""
        self._statements.clear()
        self._queue = None
        self._pgconn.finish()


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


async def _ready(loop: asyncio.AbstractEventLoop, socket: int, *, write: bool = False) -> None:
    """Waits until the connection's socket can be read (or written) without blocking."""
    future = loop.create_future()
    if write:
        loop.add_writer(socket, _wake, future)
    else:
        loop.add_reader(socket, _wake, future)
    try:
        await future
    finally:
        if write:
            loop.remove_writer(socket)
        else:
            loop.remove_reader(socket)
