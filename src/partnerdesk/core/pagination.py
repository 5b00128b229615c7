"""One helper for every list endpoint: stable order, offset/size paging, `links.next`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from partnerdesk.core.schemas import Collection, Link

T = TypeVar("T")

MAX_PAGE_SIZE = 500
# Beyond any real list, and within the 64-bit integers both databases accept for OFFSET.
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True)
class PageRequest:
    offset: int
    size: int


def page_params(
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="How many items to skip."),
    size: int = Query(100, ge=1, le=MAX_PAGE_SIZE, description="How many items to return."),
) -> PageRequest:
    return PageRequest(offset=offset, size=size)


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


def to_collection(page: Page, path: str, query: dict[str, Any], convert: Callable[[Any], T]) -> Collection[T]:
    links: dict[str, Link] = {}
    base_query = {key: value for key, value in query.items() if value is not None and key not in ("offset", "size")}
    links["self"] = Link(uri=f"{path}?{urlencode({**base_query, 'offset': page.offset, 'size': page.size})}")
    if page.offset + len(page.rows) < page.total_count:
        next_query = {**base_query, "offset": page.offset + page.size, "size": page.size}
        links["next"] = Link(uri=f"{path}?{urlencode(next_query)}")
    return Collection[T](total_count=page.total_count, items=[convert(row) for row in page.rows], links=links)
