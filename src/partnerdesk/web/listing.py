"""Paged lists on portal pages (`?page=2`), on top of the API's one pagination helper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy import Select
from sqlalchemy.orm import Session

from partnerdesk.core.pagination import PageRequest, paginate

DEFAULT_PAGE_SIZE = 25
_MAX_PAGE_NUMBER = 1_000_000


@dataclass(frozen=True)
class ListPage:
    rows: Sequence[Any]
    total_count: int
    number: int
    size: int
    path: str
    query: tuple[tuple[str, str], ...]

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total_count // self.size))

    @property
    def first_row_number(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last_row_number(self) -> int:
        return (self.number - 1) * self.size + len(self.rows)

    def url(self, number: int) -> str:
        """This list's address at page `number`, keeping the other query parameters (the search)."""
        query = [(key, value) for key, value in self.query if key != "page"]
        if number > 1:
            query.append(("page", str(number)))
        return f"{self.path}?{urlencode(query)}" if query else self.path

    @property
    def previous_url(self) -> str | None:
        return self.url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.number + 1) if self.number < self.page_count else None


def requested_page_number(request: Request) -> int:
    """`?page=N`; anything that is not a positive whole number means the first page."""
    raw = request.query_params.get("page", "1").strip()
    if not raw.isdecimal() or len(raw) > 7:
        return 1
    return min(max(int(raw), 1), _MAX_PAGE_NUMBER)


def list_page(db: Session, statement: Select, request: Request, *, size: int = DEFAULT_PAGE_SIZE) -> ListPage:
    """One page of `statement` (ordered by a unique key) for the `?page=` of `request`.

    A page number past the end shows the last page rather than an empty one.
    """
    number = requested_page_number(request)
    result = paginate(db, statement, PageRequest(offset=(number - 1) * size, size=size))
    last = max(1, -(-result.total_count // size))
    if number > last:
        number = last
        result = paginate(db, statement, PageRequest(offset=(number - 1) * size, size=size))
    return ListPage(rows=result.rows, total_count=result.total_count, number=number, size=size,
                    path=request.url.path, query=tuple(request.query_params.multi_items()))
