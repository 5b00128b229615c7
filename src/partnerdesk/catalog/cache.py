"""A process-wide cache of the product pages of a market: the customer's catalog is the hottest read.

An entry is used only while three things hold, so it is never stale:
- the catalog is unchanged: database triggers bump `catalog_state.version` on every write, from
  any process (API, CLI import, another app server), and each request reads it first;
- the time has not reached the next moment a price of that market starts or ends;
- the database is the same one (its URL and the epoch drawn when it was created).
Rule R1's policy is not cached: callers apply it before asking.

An entry also keeps its page's items as the JSON the API sends (made once, on first use): the rows of an
entry never change, so neither does their JSON, and building it was most of a catalog request's own work.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from partnerdesk.catalog import repository
from partnerdesk.catalog.vocabulary import TargetView


@dataclass(frozen=True)
class ProductsOnSale:
    """One page of products on sale (rows in `repository.PRODUCT_COLUMNS` order) and how many there are."""

    total: int
    rows: tuple[tuple, ...]
    # The JSON of `rows`, by the renderer that made it (one per API shape; a dict, so the frozen page can keep it).
    rendered: dict[Callable, bytes] = field(default_factory=dict, compare=False, repr=False)

    def json_items(self, render: Callable[[tuple[tuple, ...]], bytes]) -> bytes:
        """`render(rows)`, made once per page: two threads racing here both make the same bytes."""
        made = self.rendered.get(render)
        if made is None:
            made = self.rendered[render] = render(self.rows)
        return made


NOTHING_ON_SALE = ProductsOnSale(0, ())


@dataclass(frozen=True)
class _Entry:
    version: int
    computed_at: datetime
    valid_until: datetime | None
    products: ProductsOnSale

    def serves(self, version: int, now: datetime) -> bool:
        return (
            self.version == version
            and self.computed_at <= now
            and (self.valid_until is None or now < self.valid_until)
        )


class ProductPages:
    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def page(
        self, db: Session, *, view: TargetView, country: str, now: datetime, offset: int, size: int
    ) -> ProductsOnSale:
        """`repository.products_on_sale(...)`, from the cache when the entry still holds."""
        # The version is read before the catalog: an entry may then be older than its data, never newer.
        epoch, version = repository.catalog_stamp(db)
        key = (str(db.get_bind().engine.url), epoch, country, view.name, offset, size)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None and entry.serves(version, now):
            return entry.products
        total, rows = repository.products_on_sale(
            db, view=view, country=country, now=now, offset=offset, size=size
        )
        entry = _Entry(version, now, repository.next_price_change(db, country, now), ProductsOnSale(total, tuple(rows)))
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return entry.products

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


PRODUCT_PAGES = ProductPages()


Item = TypeVar("Item")


class CatalogItems:
    """Catalog items by (product, SKU, availability), kept while the catalog stamp is unchanged.

    Carts and checkouts resolve every line: one read of the stamp replaces the join and the
    decoding of the item. Items are stored as they are in the catalog, whatever the time: callers
    check the effective dates (and rule R1) against their own clock on every use.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple, tuple[int, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, db: Session, key: tuple[str, str, str], load: Callable[[], Item]) -> Item:
        # The version is read before the item: an entry may then be older than its data, never newer.
        epoch, version = repository.catalog_stamp(db)
        cache_key = (str(db.get_bind().engine.url), epoch, *key)
        with self._lock:
            entry = self._entries.get(cache_key)
        if entry is not None and entry[0] == version:
            return entry[1]  # type: ignore[return-value]
        item = load()
        with self._lock:
            self._entries[cache_key] = (version, item)
            self._entries.move_to_end(cache_key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return item

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CATALOG_ITEMS = CatalogItems()
