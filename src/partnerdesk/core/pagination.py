"""One helper for every list endpoint: stable order, paging, `links.next`.

Two ways to page, the same pages: `offset`/`size` as Partner Desk always had them, and Partner Center's
seek paging, where the SDKs follow `links.next` by sending `seekOperation=Next` with the link's
`MS-ContinuationToken` header (also given as the collection's `continuationToken`, and in the link's
own query as `continuationToken`, so following the plain URI works too).

Lists that may grow without bound (customers, orders, subscriptions, entitlements, service requests,
invoices and their lines) page by **keyset**: their query is ordered by a `SortKey` (a unique order),
and the token of `links.next` holds the sort key of the page's last row, so the next page starts with an
index seek (`WHERE (created_at, id) after (...)`) and page 10,000 costs what page 1 costs. `offset`
still works everywhere, but the database walks past every skipped row: deep offsets grow slower.

The tokens are signed (HMAC with a key derived from the server's secret): a token is only ever one this
server gave for the same list. They also carry the list's `totalCount` from the first page, so the
following pages do not count again.

`totalCount` of a keyset list is exact up to `EXACT_COUNT_LIMIT` rows (an index-only count that stops
there); past it, on PostgreSQL, it is the planner's estimate of the rows the filter matches (from the
table's statistics, at least `EXACT_COUNT_LIMIT + 1`): counting a million rows exactly would cost more than
the page itself. SQLite always counts exactly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Header, Query, Request
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement, ColumnElement, Executable

from partnerdesk.core.db import UTCDateTime
from partnerdesk.core.errors import DeskError
from partnerdesk.core.schemas import Collection, Link

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
# Beyond any real list, and within the 64-bit integers both databases accept for OFFSET.
MAX_OFFSET = 2**31 - 1
CONTINUATION_HEADER = "MS-ContinuationToken"
CONTINUATION_QUERY = "continuationToken"
SEEK_OPERATIONS = ("First", "Next", "Previous")
# Counting stops here; above it PostgreSQL's estimate is given (see the module's docstring).
EXACT_COUNT_LIMIT = 10_000
_TOKEN_PREFIX = "offset:"
_KEYSET_VERSION = "k1"
_SIGNATURE_BYTES = 12
_MAX_TOKEN_LENGTH = 2048
ASC, DESC = "asc", "desc"


class InvalidPaging(DeskError):
    status_code = 400
    code = 1700


def _refused_token() -> InvalidPaging:
    return InvalidPaging(f"The {CONTINUATION_HEADER} header is not a token this server gave for this list; "
                         f"follow links.next.", [CONTINUATION_HEADER])


# --- the order of a list ---------------------------------------------------------------------------

class SortKey:
    """A list's unique order, column by column (the last one a unique id): what a keyset page starts after.

    `name` ties a token to its list: a token of the customers list is refused by the orders list.
    """

    def __init__(self, name: str, *columns: tuple[Any, str]) -> None:
        self.name = name
        self.columns = tuple(columns)

    def clauses(self) -> list[ColumnElement]:
        """The ORDER BY of the list (the service orders its query with these)."""
        return [column.desc() if direction == DESC else column.asc() for column, direction in self.columns]

    def values_of(self, row: Any) -> list[Any]:
        return [getattr(row, column.key) for column, _direction in self.columns]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after `values` in this order: `a > x OR (a = x AND b > y) OR ...`, with the
        directions of each column, and a bound on the first column alone so the index scan starts there."""
        alternatives = []
        for position, (column, direction) in enumerate(self.columns):
            equal = [self.columns[before][0] == values[before] for before in range(position)]
            beyond = column < values[position] if direction == DESC else column > values[position]
            alternatives.append(and_(*equal, beyond))
        first, direction = self.columns[0]
        start = first <= values[0] if direction == DESC else first >= values[0]
        return and_(start, or_(*alternatives))

    def to_json(self, values: Sequence[Any]) -> list[Any]:
        return [value.isoformat() if isinstance(value, datetime) else value for value in values]

    def from_json(self, values: Any) -> list[Any]:
        """The token's values back in the columns' types; anything else is a token this list never gave."""
        if not isinstance(values, list) or len(values) != len(self.columns):
            raise _refused_token()
        typed = []
        for value, (column, _direction) in zip(values, self.columns, strict=True):
            kind = datetime if isinstance(column.type, UTCDateTime) else column.type.python_type
            if kind is datetime and isinstance(value, str):
                try:
                    typed.append(datetime.fromisoformat(value))
                except ValueError:
                    raise _refused_token() from None
            elif kind in (str, int) and type(value) is kind:
                typed.append(value)
            else:
                raise _refused_token()
        return typed


# --- what the caller asked for ---------------------------------------------------------------------

@dataclass(frozen=True)
class KeysetPosition:
    """Where a keyset page starts: after the row whose sort key is `values` (in list `segment` of a
    list made of several), `offset` rows into the list, which counted `total` rows on its first page."""

    list_name: str
    offset: int
    total: int
    estimated: bool
    segment: int
    values: list[Any]


@dataclass(frozen=True)
class PageRequest:
    offset: int
    size: int
    after: KeysetPosition | None = None
    # The key the tokens of this server are signed with (derived from its secret).
    signing_key: bytes = b""
    token: str | None = None


def continuation_token(offset: int) -> str:
    """The opaque token that names a page's start (it holds nothing a caller could not ask for by offset)."""
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode().rstrip("=")


def _unpadded_b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def keyset_token(key: bytes, position: KeysetPosition) -> str:
    payload = [_KEYSET_VERSION, position.list_name, position.offset, position.total, position.estimated,
               position.segment, position.values]
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{body}.{_signature(key, body)}"


def _keyset_position(key: bytes, token: str) -> KeysetPosition:
    body, _dot, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(key, body).encode()):
        raise _refused_token()
    try:
        version, list_name, offset, total, estimated, segment, values = json.loads(_unpadded_b64decode(body))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _refused_token() from None
    numbers = (offset, total, segment)
    if version != _KEYSET_VERSION or not isinstance(list_name, str) or not isinstance(estimated, bool) \
            or not all(type(number) is int and 0 <= number <= MAX_OFFSET for number in numbers):
        raise _refused_token()
    return KeysetPosition(list_name, offset, total, estimated, segment, values)


def _offset_of(token: str) -> int:
    try:
        text = _unpadded_b64decode(token).decode()
        offset = int(text.removeprefix(_TOKEN_PREFIX)) if text.startswith(_TOKEN_PREFIX) else -1
    except (ValueError, binascii.Error, UnicodeDecodeError):
        offset = -1
    if not 0 <= offset <= MAX_OFFSET:
        raise _refused_token()
    return offset


def _signing_key(request: Request) -> bytes:
    desk = getattr(request.app.state, "desk", None)
    return desk.keyring.derive("continuation tokens") if desk is not None else b""


def _page_at(token: str, *, size: int, key: bytes, operation: str) -> PageRequest:
    token = token.strip()
    if len(token) > _MAX_TOKEN_LENGTH:
        raise _refused_token()
    if "." not in token:
        return PageRequest(offset=_offset_of(token), size=size, signing_key=key)
    if operation == "Previous":
        # links.previous always carries an offset token; a keyset token only goes forward.
        raise InvalidPaging("seekOperation=Previous takes the token of links.previous.", [CONTINUATION_HEADER])
    position = _keyset_position(key, token)
    return PageRequest(offset=position.offset, size=size, after=position, signing_key=key, token=token)


# `async`: it does no I/O (a token's signature is checked in microseconds), and FastAPI would send a plain
# `def` dependency to a worker thread of its own, a trip that costs more than its work.
async def page_params(
    request: Request,
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="How many items to skip (deep offsets are slower "
                        "than following links.next)."),
    size: int = Query(DEFAULT_PAGE_SIZE, ge=0, le=MAX_PAGE_SIZE,
                      description=f"How many items to return; 0 (as Partner Center's examples send it) means "
                      f"the default, {DEFAULT_PAGE_SIZE}."),
    seek_operation: str | None = Query(
        None, alias="seekOperation", json_schema_extra={"enum": list(SEEK_OPERATIONS)},
        description="Partner Center's seek paging: Next or Previous with the MS-ContinuationToken header of "
        "links.next or links.previous; First: the first page."),
    token: str | None = Header(None, alias=CONTINUATION_HEADER, description="The token of links.next or "
                               "links.previous, with seekOperation."),
    query_token: str | None = Query(None, alias=CONTINUATION_QUERY, max_length=_MAX_TOKEN_LENGTH,
                                    description="The token of links.next, as its URI carries it (the "
                                    "MS-ContinuationToken header wins when both are sent)."),
) -> PageRequest:
    size = size or DEFAULT_PAGE_SIZE
    key = _signing_key(request)
    if seek_operation is None:
        if query_token is not None:
            return _page_at(query_token, size=size, key=key, operation="Next")
        return PageRequest(offset=offset, size=size, signing_key=key)
    operation = {name.casefold(): name for name in SEEK_OPERATIONS}.get(seek_operation.strip().casefold())
    if operation is None:
        raise InvalidPaging(f"seekOperation: '{seek_operation[:40]}' is not one of {', '.join(SEEK_OPERATIONS)}.",
                            ["seekOperation"])
    if operation == "First":
        return PageRequest(offset=0, size=size, signing_key=key)
    token = token if token is not None else query_token
    if token is None:
        # The SDKs put the token in the header; a plain link carries the offset itself.
        return PageRequest(offset=offset, size=size, signing_key=key)
    return _page_at(token, size=size, key=key, operation=operation)


# --- running a page --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    total_count: int
    rows: Sequence[Any]
    offset: int
    size: int
    # Keyset lists: the token of the next page (None on the last page), and the token this page was read with.
    next_token: str | None = None
    token: str | None = None
    keyset: bool = False


class EstimatedRows(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON)` of a query: PostgreSQL's estimate of the rows it returns, without running it."""

    inherit_cache = False

    def __init__(self, statement: Select) -> None:
        self.statement = statement


@compiles(EstimatedRows, "postgresql")
def _compile_estimated_rows(element: EstimatedRows, compiler, **kw) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


@dataclass(frozen=True)
class Count:
    rows: int
    estimated: bool


def count_rows(session: Session, statement: Select, sort: SortKey) -> Count:
    """Exact up to EXACT_COUNT_LIMIT (an index-only scan that stops there), else PostgreSQL's estimate."""
    matching = statement.order_by(None).with_only_columns(sort.columns[-1][0])
    counted = session.scalar(select(func.count()).select_from(matching.limit(EXACT_COUNT_LIMIT + 1).subquery()))
    if counted <= EXACT_COUNT_LIMIT:
        return Count(counted, estimated=False)
    if session.get_bind().dialect.name != "postgresql":
        return Count(session.scalar(select(func.count()).select_from(matching.subquery())) or 0, estimated=False)
    plan = session.connection().execute(EstimatedRows(matching)).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return Count(max(int(plan[0]["Plan"]["Plan Rows"]), EXACT_COUNT_LIMIT + 1), estimated=True)


def paginate(session: Session, statement: Select, page: PageRequest, *, sort: SortKey | None = None) -> Page:
    """Run `statement` (already ordered by a unique key, so pages never overlap) for one page.

    With `sort` (the key the statement is ordered by), the page is a keyset page (see the module's docstring).
    """
    if sort is not None:
        return paginate_many(session, [(statement, sort)], page)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = session.scalars(statement.offset(page.offset).limit(page.size)).all()
    return Page(total_count=total, rows=rows, offset=page.offset, size=page.size)


def paginate_many(session: Session, statements: Sequence[Select] | Sequence[tuple[Select, SortKey]],
                  page: PageRequest) -> Page:
    """One page of several ordered lists shown one after the other (each ordered by a unique key).

    Given as `(statement, sort_key)` pairs, the lists page by keyset (see the module's docstring).
    """
    if statements and isinstance(statements[0], tuple):
        return _keyset_page(session, statements, page)
    rows: list[Any] = []
    total = 0
    for statement in statements:
        count = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
        start = max(page.offset - total, 0)
        wanted = page.size - len(rows)
        if wanted > 0 and start < count:
            rows.extend(session.scalars(statement.offset(start).limit(wanted)).all())
        total += count
    return Page(total_count=total, rows=rows, offset=page.offset, size=page.size)


def _list_name(lists: Sequence[tuple[Select, SortKey]]) -> str:
    return "+".join(sort.name for _statement, sort in lists)


def _keyset_page(session: Session, lists: Sequence[tuple[Select, SortKey]], page: PageRequest) -> Page:
    """Reads `size + 1` rows after the token's position (or from `offset` on a first page), list after list;
    the extra row says whether there is a next page, so nothing is counted past the first page."""
    position = page.after
    name = _list_name(lists)
    if position is not None and (position.list_name != name or position.segment >= len(lists)):
        raise _refused_token()
    if position is None:
        counts = [count_rows(session, statement, sort) for statement, sort in lists]
        total, estimated = sum(count.rows for count in counts), any(count.estimated for count in counts)
        offset, first_segment = page.offset, 0
    else:
        counts = []
        total, estimated = position.total, position.estimated
        offset, first_segment = position.offset, position.segment
    found: list[tuple[int, Any]] = []  # (which list, row)
    skipped_before = 0
    for segment in range(first_segment, len(lists)):
        wanted = page.size + 1 - len(found)
        if wanted <= 0:
            break
        statement, sort = lists[segment]
        if position is not None and segment == position.segment:
            statement = statement.where(sort.after(sort.from_json(position.values)))
        skip = 0
        if position is None:
            skip = max(offset - skipped_before, 0)
            skipped_before += counts[segment].rows
            if skip >= counts[segment].rows and not counts[segment].estimated:
                continue
        if skip:
            statement = statement.offset(skip)
        found += [(segment, row) for row in session.scalars(statement.limit(wanted)).all()]
    more = len(found) > page.size
    found = found[:page.size]
    rows = [row for _segment, row in found]
    if not more and (estimated or offset + len(rows) > total):
        # The last page knows the exact size of the list.
        total, estimated = offset + len(rows), False
    next_token = None
    if more:
        segment, last = found[-1]
        sort = lists[segment][1]
        following = KeysetPosition(name, offset + len(rows), total, estimated, segment,
                                   sort.to_json(sort.values_of(last)))
        next_token = keyset_token(page.signing_key, following)
    return Page(total_count=total, rows=rows, offset=offset, size=page.size, next_token=next_token,
                token=page.token, keyset=True)


def _seek_link(path: str, base_query: dict[str, Any], *, offset: int, size: int, operation: str) -> Link:
    query = {**base_query, "offset": offset, "size": size, "seekOperation": operation}
    return Link(uri=f"{path}?{urlencode(query)}",
                headers=[{"key": CONTINUATION_HEADER, "value": continuation_token(offset)}])


def _keyset_link(path: str, base_query: dict[str, Any], *, token: str, size: int) -> Link:
    query = {**base_query, "size": size, "seekOperation": "Next", CONTINUATION_QUERY: token}
    return Link(uri=f"{path}?{urlencode(query)}", headers=[{"key": CONTINUATION_HEADER, "value": token}])


def to_collection(page: Page, path: str, query: dict[str, Any], convert: Callable[[Any], T]) -> Collection[T]:
    links: dict[str, Link] = {}
    paging = {"offset", "size", "seekoperation", CONTINUATION_QUERY.casefold()}
    base_query = {key: value for key, value in query.items() if value is not None and key.casefold() not in paging}
    if page.token is not None:
        links["self"] = _keyset_link(path, base_query, token=page.token, size=page.size)
    else:
        links["self"] = Link(uri=f"{path}?{urlencode({**base_query, 'offset': page.offset, 'size': page.size})}")
    token = None
    if page.keyset:
        if page.next_token is not None:
            links["next"] = _keyset_link(path, base_query, token=page.next_token, size=page.size)
            token = page.next_token
    elif page.offset + len(page.rows) < page.total_count:
        following = page.offset + page.size
        links["next"] = _seek_link(path, base_query, offset=following, size=page.size, operation="Next")
        token = continuation_token(following)
    if page.offset > 0:
        links["previous"] = _seek_link(path, base_query, offset=max(page.offset - page.size, 0), size=page.size,
                                       operation="Previous")
    return Collection[T](total_count=page.total_count, items=[convert(row) for row in page.rows], links=links,
                         continuation_token=token)
