"""One helper for every list endpoint: stable order, offset/size paging, `links.next`.

Two ways to page, the same pages: `offset`/`size` as Partner Desk always had them, and Partner Center's
seek paging, where the SDKs follow `links.next` by sending `seekOperation=Next` with the link's
`MS-ContinuationToken` header (also given as the collection's `continuationToken`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Header, Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from partnerdesk.core.errors import DeskError
from partnerdesk.core.schemas import Collection, Link

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
# Beyond any real list, and within the 64-bit integers both databases accept for OFFSET.
MAX_OFFSET = 2**31 - 1
CONTINUATION_HEADER = "MS-ContinuationToken"
SEEK_OPERATIONS = ("First", "Next", "Previous")
_TOKEN_PREFIX = "offset:"


class InvalidPaging(DeskError):
    status_code = 400
    code = 1700


@dataclass(frozen=True)
class PageRequest:
    offset: int
    size: int


def continuation_token(offset: int) -> str:
    """The opaque token that names a page's start (it holds nothing a caller could not ask for by offset)."""
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode().rstrip("=")


def _offset_of(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.strip() + "=" * (-len(token.strip()) % 4)).decode()
        offset = int(text.removeprefix(_TOKEN_PREFIX)) if text.startswith(_TOKEN_PREFIX) else -1
    except (ValueError, binascii.Error, UnicodeDecodeError):
        offset = -1
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidPaging(f"The {CONTINUATION_HEADER} header is not a token this server gave; follow links.next.",
                            [CONTINUATION_HEADER])
    return offset


def page_params(
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="How many items to skip."),
    size: int = Query(DEFAULT_PAGE_SIZE, ge=0, le=MAX_PAGE_SIZE,
                      description=f"How many items to return; 0 (as Partner Center's examples send it) means "
                      f"the default, {DEFAULT_PAGE_SIZE}."),
    seek_operation: str | None = Query(
        None, alias="seekOperation",
        description="Partner Center's seek paging: Next or Previous with the MS-ContinuationToken header of "
        "links.next or links.previous; First: the first page."),
    token: str | None = Header(None, alias=CONTINUATION_HEADER, description="The token of links.next or "
                               "links.previous, with seekOperation."),
) -> PageRequest:
    size = size or DEFAULT_PAGE_SIZE
    if seek_operation is None:
        return PageRequest(offset=offset, size=size)
    operation = {name.casefold(): name for name in SEEK_OPERATIONS}.get(seek_operation.strip().casefold())
    if operation is None:
        raise InvalidPaging(f"seekOperation: '{seek_operation[:40]}' is not one of {', '.join(SEEK_OPERATIONS)}.",
                            ["seekOperation"])
    if operation == "First":
        return PageRequest(offset=0, size=size)
    if token is None:
        # The SDKs put the token in the header; a plain link carries the offset itself.
        return PageRequest(offset=offset, size=size)
    return PageRequest(offset=_offset_of(token), size=size)


@dataclass(frozen=True)
class Page:
    total_count: int
    rows: Sequence[Any]
    offset: int
    size: int


def paginate(session: Session, statement: Select, page: PageRequest) -> Page:
    """Run `statement` (already ordered by a unique key, so pages never overlap) for one page."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = session.scalars(statement.offset(page.offset).limit(page.size)).all()
    return Page(total_count=total, rows=rows, offset=page.offset, size=page.size)


def paginate_many(session: Session, statements: Sequence[Select], page: PageRequest) -> Page:
    """One page of several ordered lists shown one after the other (each ordered by a unique key)."""
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


def _seek_link(path: str, base_query: dict[str, Any], *, offset: int, size: int, operation: str) -> Link:
    query = {**base_query, "offset": offset, "size": size, "seekOperation": operation}
    return Link(uri=f"{path}?{urlencode(query)}",
                headers=[{"key": CONTINUATION_HEADER, "value": continuation_token(offset)}])


def to_collection(page: Page, path: str, query: dict[str, Any], convert: Callable[[Any], T]) -> Collection[T]:
    links: dict[str, Link] = {}
    paging = {"offset", "size", "seekoperation"}
    base_query = {key: value for key, value in query.items() if value is not None and key.casefold() not in paging}
    links["self"] = Link(uri=f"{path}?{urlencode({**base_query, 'offset': page.offset, 'size': page.size})}")
    token = None
    if page.offset + len(page.rows) < page.total_count:
        following = page.offset + page.size
        links["next"] = _seek_link(path, base_query, offset=following, size=page.size, operation="Next")
        token = continuation_token(following)
    if page.offset > 0:
        links["previous"] = _seek_link(path, base_query, offset=max(page.offset - page.size, 0), size=page.size,
                                       operation="Previous")
    return Collection[T](total_count=page.total_count, items=[convert(row) for row in page.rows], links=links,
                         continuation_token=token)
