"""Price lists: import (all or nothing) and export, in Partner Center's layouts and Partner Desk's own.

One row is one availability: a SKU's price in one market, for one term and billing plan, over an
effective period. The layouts (`catalog.pricelist_formats`) are Partner Center's software, new-commerce
and license-based price lists and its Azure plan price sheet, as it publishes them, and Partner Desk's
round-trip layout: Partner Center's columns plus `AvailabilityId`, `ProductType`, `ProductSubType`,
`ArmRegionName` and `ArmSkuName`, so that a file round-trips byte for byte. The import finds the layout
from the header (or is told it); rows for what this desk does not sell are counted, not imported.

The import streams the file once inside the caller's transaction: each good row is upserted in
batches with Core `executemany` (no ORM objects), each bad row adds a line to the report, and if
there is any bad row the whole import raises `InvalidPriceList` so the caller rolls everything back.
Rows upsert on their key (ProductId, SkuId, AvailabilityId); nothing absent from the file is removed.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.catalog import pricelist_formats as formats
from partnerdesk.catalog import validation
from partnerdesk.catalog.errors import InvalidCatalogEntry, InvalidPriceList
from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.catalog.vocabulary import (
    RESERVED_INSTANCE_PREREQUISITES,
    RESERVED_INSTANCE_PROVISIONING,
    is_reserved_instance,
    ordered_cycles,
)
from partnerdesk.core.csv_safe import restore, safe_writer
from partnerdesk.core.db import engine_insert
from partnerdesk.core.markets import normalise_country

# Partner Desk's own layout, the default of the export.
COLUMNS = formats.DESK_COLUMNS
BATCH_ROWS = 5000
# A report of a million bad rows helps nobody; past this many, the import stops reading.
MAX_REPORTED_ERRORS = 1000


@dataclass
class ImportReport:
    rows: int = 0
    products: int = 0
    skus: int = 0
    markets: set[str] = field(default_factory=set)
    format: str = formats.PARTNER_DESK
    # Rows for what this desk does not sell, by kind ("Azure consumption meter": 1200).
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class _Seen:
    """The first row that named a product or SKU, so later rows can be checked against it."""

    line: int
    values: tuple[str, ...]


def _whole(text: str, column: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise InvalidCatalogEntry(f"{column}: '{text}' is not a whole number.", [column])
    return int(text)


KEY_COLUMNS = ("ProductId", "SkuId", "AvailabilityId")


def _collector(reasons: list[str]) -> Callable[..., Any]:
    """A `check(function, *args)` that returns the function's value, or notes why not and returns None."""

    def check(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except InvalidCatalogEntry as error:
            reasons.append(error.description)
            return None

    return check


def _optional(check, function, text: str, column: str) -> Any:
    return check(function, text, column) if text.strip() else None


def _price(record: dict[str, str], kind: tuple[str, str] | None, check) -> dict[str, Any]:
    """The availability columns of one row, each checked (None where a check failed)."""
    price = {
        "country": check(validation.market, record["Market"], "Market"),
        "currency": check(validation.currency, record["Currency"], "Currency"),
        "unit_price": check(validation.price, record["UnitPrice"], "UnitPrice"),
        "erp_price": _optional(check, validation.price, record["ERP Price"], "ERP Price"),
        "billing_plan": check(validation.billing_plan, record["BillingPlan"], "BillingPlan"),
        "segment": check(validation.segment, record["Segment"] or "Commercial", "Segment"),
        "tier_min": check(_whole, record["PricingTierRangeMin"], "PricingTierRangeMin"),
        "tier_max": check(_whole, record["PricingTierRangeMax"], "PricingTierRangeMax"),
        "tags": check(validation.text, record["Tags"], "Tags", limit=200, required=False),
        "effective_start": check(formats.read_moment, record["EffectiveStartDate"], "EffectiveStartDate"),
        "effective_end": _optional(
            check, formats.read_moment, record["EffectiveEndDate"], "EffectiveEndDate"
        ),
        "term_duration": None,
    }
    if kind is not None:
        price["term_duration"] = check(_term_for_plan, kind, record["TermDuration"], price["billing_plan"])
    if price["effective_start"] is not None:
        check(validation.period, price["effective_start"], price["effective_end"], "EffectiveEndDate")
    if (
        price["tier_min"] is not None
        and price["tier_max"] is not None
        and price["tier_max"] < price["tier_min"]
    ):
        check(_refuse, "PricingTierRangeMax is below PricingTierRangeMin.")
    return price


def _term_for_plan(kind: tuple[str, str], text: str, plan: str | None) -> str | None:
    """The row's term, checked for its product type and, when the plan is readable, for its plan too."""
    term = validation.term(*kind, text, "TermDuration")
    if plan is not None:
        validation.plan_fits_term(plan, term, "BillingPlan")
    return term


def _refuse(reason: str) -> None:
    raise InvalidCatalogEntry(reason)


def _upsert(db: Session, table, rows: list[dict[str, Any]], keys: list[str], updated: list[str]) -> None:
    """Inserts `rows`, or updates the `updated` columns of those whose `keys` exist, in few statements.

    Not a plain `executemany`: the drivers run it as one statement per row, and the catalog's
    statement-level trigger (the cache's version) then updates its one row once per price; on
    PostgreSQL, 20,000 updates of one row in one transaction took a minute. PostgreSQL gets the rows by
    COPY into a temporary table and one INSERT ... SELECT; SQLite one INSERT per 1,000 rows
    (SQLAlchemy's "insertmanyvalues", which RETURNING turns on).
    """
    if not rows:
        return
    if db.get_bind().dialect.name == "postgresql":
        _upsert_by_copy(db, table, rows, keys, updated)
        return
    statement = engine_insert(db, table)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in updated}
    ).returning(table.c[keys[-1]])
    db.execute(statement, rows).all()


def _copy_value(value: Any) -> Any:
    """A JSON column's list as the JSON text COPY expects (the driver would write a PostgreSQL array)."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def _upsert_by_copy(db: Session, table, rows: list[dict[str, Any]], keys: list[str], updated: list[str]) -> None:
    connection = db.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    names = list(rows[0])
    # Each value as the column's type would bind it (scaled money, naive UTC times, JSON text).
    processors = [table.c[name].type.bind_processor(dialect) for name in names]
    columns = ", ".join(quote(name) for name in names)
    target, staging = quote(table.name), quote(f"staging_{table.name}")
    connection.execute(text(f"DROP TABLE IF EXISTS pg_temp.{staging}"))
    connection.execute(
        text(f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {columns} FROM {target} WITH NO DATA")
    )
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([
                    _copy_value(value if process is None else process(value))
                    for value, process in zip((row[name] for name in names), processors, strict=True)
                ])
    finally:
        cursor.close()
    changes = ", ".join(f"{quote(name)} = EXCLUDED.{quote(name)}" for name in updated)
    connection.execute(
        text(
            f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {staging} "
            f"ON CONFLICT ({', '.join(quote(key) for key in keys)}) DO UPDATE SET {changes}"
        )
    )


class _Importer:
    """One pass over the rows: checks each, batches the good ones, reports the bad ones by line."""

    def __init__(self, db: Session, now: datetime) -> None:
        self.db = db
        self.now = now
        self.errors: list[str] = []
        self.report = ImportReport()
        self.keys: dict[tuple[str, str, str], int] = {}
        self.products: dict[str, _Seen] = {}
        self.skus: dict[tuple[str, str], _Seen] = {}
        self.cycles: dict[tuple[str, str], set[str]] = {}
        self.pending_products: list[dict[str, Any]] = []
        self.pending_skus: list[dict[str, Any]] = []
        self.pending_placed_skus: list[dict[str, Any]] = []
        self.pending_prices: list[dict[str, Any]] = []
        self.catalog_types = {
            row.id: (row.product_type_id, row.sub_type_id)
            for row in db.execute(select(Product.id, Product.product_type_id, Product.sub_type_id))
        }

    def fail(self, line: int, reasons: list[str]) -> None:
        self.errors.append(f"line {line}: " + "; ".join(reasons))

    def row(self, line: int, record: dict[str, Any]) -> None:
        """Checks one desk row (see `pricelist_formats`), deriving what its file left out."""
        reasons: list[str] = []
        check = _collector(reasons)
        product_id = check(validation.catalog_id, record["ProductId"], "ProductId")
        sku_id = check(validation.catalog_id, record["SkuId"], "SkuId")
        given_id = record["AvailabilityId"]
        availability_id = check(validation.catalog_id, given_id, "AvailabilityId") if given_id is not None else None
        kind = self._kind(record, check)
        if isinstance(kind, formats.NotSoldHere):
            self.report.skipped[kind.kind] += 1
            return
        price = _price(record, kind, check)
        names = (
            check(validation.text, record["ProductTitle"], "ProductTitle", limit=200),
            check(validation.text, record["SkuTitle"], "SkuTitle", limit=200),
            check(validation.text, record["Publisher"], "Publisher", limit=200, required=False),
            check(validation.text, record["UnitOfMeasure"], "UnitOfMeasure", limit=60, required=False),
            check(validation.text, record["SkuDescription"], "SkuDescription", limit=4000, required=False,
                  multiline=True),
        )
        where = self._placement(record, kind, check)
        if given_id is None and not reasons:
            availability_id = check(formats.derived_availability_id, price)
        ids = (product_id, sku_id, availability_id)
        if all(ids):
            first = self.keys.setdefault(ids, line)
            if first != line:
                reasons.append(f"duplicate key {':'.join(ids)}, first on line {first}.")
        if not reasons:
            self._consistent(line, ids, kind, names, where, reasons)
        if reasons:
            self.fail(line, reasons)
        else:
            self.report.rows += 1
            self._accept(line, ids, kind, names, where, price)

    @staticmethod
    def _kind(record: dict[str, Any], check) -> tuple[str, str] | formats.NotSoldHere | None:
        """The row's (type, sub-type): its ProductType columns when it has them, else derived."""
        if record["ProductType"] is not None or record["ProductSubType"] is not None:
            return check(
                validation.product_type, record["ProductType"] or "", record["ProductSubType"] or "", "ProductType"
            )
        return formats.product_kind(record)

    @staticmethod
    def _placement(record: dict[str, Any], kind, check) -> tuple[list[str] | None, str | None]:
        """Where a Reserved Instance SKU is sold and its VM size; software has neither."""
        if kind is None:
            return None, None
        regions, size = formats.placement(record)
        if is_reserved_instance(kind[0]):
            if regions is not None:
                regions = [check(validation.text, region, "ArmRegionName", limit=60) for region in regions]
            if size is not None:
                size = check(validation.text, size, "ArmSkuName", limit=80, required=False)
            return regions, size
        if record["ArmRegionName"] or record["ArmSkuName"]:
            check(_refuse, "ArmRegionName and ArmSkuName are for Reserved Instances; software has neither.")
        return None, None

    def _consistent(self, line, ids, kind, names, where, reasons: list[str]) -> None:
        """Every row of a product (and of a SKU) must describe it the same way as its first row."""
        product_id, sku_id, _availability_id = ids
        product_values = (names[0], names[2], *kind)
        known = self.catalog_types.get(product_id)
        if known is not None and known[0] != kind[0]:
            reasons.append(
                f"product {product_id} is {known[0]} in the catalog; it cannot become {kind[0]}."
            )
        seen = self.products.setdefault(product_id, _Seen(line, product_values))
        if seen.values != product_values:
            reasons.append(
                f"ProductTitle, Publisher or ProductType of product {product_id} differ from "
                f"line {seen.line}."
            )
        sku_values = (names[1], names[4], names[3], tuple(where[0] or ()), where[1] or "")
        seen_sku = self.skus.setdefault((product_id, sku_id), _Seen(line, sku_values))
        if seen_sku.values != sku_values:
            reasons.append(
                f"SkuTitle, SkuDescription, UnitOfMeasure or region of SKU {product_id}:{sku_id} differ from "
                f"line {seen_sku.line}."
            )

    def _accept(self, line, key, kind, names, where, price) -> None:
        product_id, sku_id, availability_id = key
        now = self.now
        # A product and a SKU are written with the first row that names them.
        if self.products[product_id].line == line:
            self.pending_products.append(
                {
                    "id": product_id,
                    "title": names[0],
                    "description": "",
                    "publisher": names[2],
                    "product_type_id": kind[0],
                    "sub_type_id": kind[1],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if self.skus[(product_id, sku_id)].line == line:
            reserved = is_reserved_instance(kind[0])
            regions, size = where
            # A SKU whose file says where it is sold gets that on update too; one that does not keeps its own.
            pending = self.pending_skus if regions is None and size is None else self.pending_placed_skus
            pending.append(
                {
                    "product_id": product_id,
                    "id": sku_id,
                    "title": names[1],
                    "description": names[4],
                    "unit_of_measure": names[3],
                    "min_quantity": 1,
                    "max_quantity": 1000,
                    "supported_billing_cycles": [],
                    "purchase_prerequisites": list(RESERVED_INSTANCE_PREREQUISITES) if reserved else [],
                    "provisioning_variables": list(RESERVED_INSTANCE_PROVISIONING) if reserved else [],
                    "versions": [],
                    "languages": [],
                    "file_types": [],
                    "arm_sku_name": size or "",
                    "instance_series": "",
                    "regions": regions or [],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        self.cycles.setdefault((product_id, sku_id), set()).add(price["billing_plan"])
        self.pending_prices.append(
            {"product_id": product_id, "sku_id": sku_id, "id": availability_id, "updated_at": now, **price}
        )
        self.report.markets.add(price["country"])
        if len(self.pending_prices) >= BATCH_ROWS:
            self.write()

    def write(self) -> None:
        """Sends the batched rows; products and SKUs first, since prices refer to them."""
        _upsert(
            self.db,
            Product.__table__,
            self.pending_products,
            ["id"],
            ["title", "publisher", "product_type_id", "sub_type_id", "updated_at"],
        )
        sku_columns = ["title", "description", "unit_of_measure", "updated_at"]
        _upsert(self.db, Sku.__table__, self.pending_skus, ["product_id", "id"], sku_columns)
        _upsert(
            self.db, Sku.__table__, self.pending_placed_skus, ["product_id", "id"],
            [*sku_columns, "regions", "arm_sku_name"],
        )
        _upsert(
            self.db,
            Availability.__table__,
            self.pending_prices,
            ["product_id", "sku_id", "id"],
            [name for name in self.pending_prices[0] if name not in ("product_id", "sku_id", "id")]
            if self.pending_prices
            else [],
        )
        self.pending_products, self.pending_skus, self.pending_prices = [], [], []
        self.pending_placed_skus = []

    def finish(self) -> None:
        """Once every row is in: SKUs are billed in every cycle their prices use, old or new."""
        self.write()
        stored = {
            (row.product_id, row.id): row.supported_billing_cycles
            for row in self.db.execute(select(Sku.product_id, Sku.id, Sku.supported_billing_cycles))
            if (row.product_id, row.id) in self.cycles
        }
        changes = []
        for key, cycles in self.cycles.items():
            merged = ordered_cycles(set(stored.get(key, [])) | cycles)
            if merged != stored.get(key):
                changes.append({"key_product": key[0], "key_sku": key[1], "cycles": merged})
        if changes:
            self.db.execute(
                update(Sku.__table__)
                .where(Sku.product_id == bindparam("key_product"), Sku.id == bindparam("key_sku"))
                .values(supported_billing_cycles=bindparam("cycles")),
                changes,
            )
        self._check_sub_type_changes()
        self.report.products = len(self.products)
        self.report.skus = len(self.skus)

    def _check_sub_type_changes(self) -> None:
        """A product moved to another sub-type keeps prices outside the file: their terms must still fit."""
        for product_id, seen in self.products.items():
            known = self.catalog_types.get(product_id)
            type_id, sub_type_id = seen.values[2], seen.values[3]
            if known is None or known[1] == sub_type_id:
                continue
            terms = self.db.scalars(
                select(Availability.term_duration).where(Availability.product_id == product_id).distinct()
            )
            for term in terms:
                try:
                    validation.term(type_id, sub_type_id, term, "ProductSubType")
                except InvalidCatalogEntry as error:
                    self.fail(seen.line, [f"product {product_id}: {error.description}"])
                    break


def _read_rows(
    reader, fmt: formats.PriceListFormat, positions: dict[str, int], width: int, importer: _Importer,
    progress: Callable[[int], None] | None,
) -> None:
    read = 0
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        read += 1
        if len(values) != width:
            importer.fail(line, [f"{len(values)} fields where the header has {width}."])
        else:
            # A title our own export wrote as '=... (a formula neutralised) reads back as it was stored.
            record = {name: restore(values[index]) for name, index in positions.items()}
            desk_row = fmt.read(record)
            if isinstance(desk_row, formats.NotSoldHere):
                importer.report.skipped[desk_row.kind] += 1
            else:
                importer.row(line, desk_row)
        if progress is not None and read % 1000 == 0:
            progress(read)
        if len(importer.errors) >= MAX_REPORTED_ERRORS:
            importer.errors.append(f"stopped reading after {MAX_REPORTED_ERRORS} bad rows.")
            return


def _header(reader) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise InvalidPriceList(
            f"The price list's header is not readable as CSV ({error}).", ["line 1"]
        ) from None
    if header is None:
        raise InvalidPriceList("The price list is empty; it needs a header line.", ["line 1: no header"])
    return [name.strip().lstrip("\ufeff").strip() for name in header]


def import_price_list(
    db: Session,
    lines: Iterable[str],
    *,
    now: datetime,
    principal: Principal | None = None,
    source: str = "",
    progress: Callable[[int], None] | None = None,
    format: str | None = None,
) -> ImportReport:
    """Imports a price list (an iterable of CSV lines) in the caller's transaction.

    `format` names the layout (`pricelist_formats.FORMAT_NAMES`); without it, the header tells. Raises
    InvalidPriceList (400, 2300) listing every bad row as "line N: reason" when any row is bad; the
    caller must then roll back (the CLI's and the API's sessions do).
    """
    chosen = formats.named(format)
    reader = csv.reader(lines)
    header = _header(reader)
    fmt = chosen or formats.detect(header)
    positions, missing = formats.column_positions(fmt, header)
    if missing:
        raise InvalidPriceList(
            f"The price list lacks column(s) {', '.join(missing)} of {fmt.title} ({fmt.name}); nothing was "
            "imported.",
            [f"line 1: missing column {name}" for name in missing],
        )
    importer = _Importer(db, now)
    importer.report.format = fmt.name
    try:
        _read_rows(reader, fmt, positions, len(header), importer, progress)
    except csv.Error as error:
        # The csv module gives up on a line it cannot parse (a NUL byte, a field over its size limit).
        importer.fail(reader.line_num, [f"not readable as CSV ({error}); reading stopped here."])
    if not importer.errors:
        importer.finish()
    if importer.errors:
        bad = len(importer.errors)
        raise InvalidPriceList(
            f"The price list has {bad} bad row{'s' if bad != 1 else ''}; nothing was imported.",
            importer.errors,
        )
    report = importer.report
    audit.record(
        db,
        principal=principal,
        now=now,
        action="price_list.imported",
        object_type="price_list",
        object_id=source[:80] or None,
        details={
            "format": report.format,
            "rows": report.rows,
            "products": report.products,
            "skus": report.skus,
            "markets": sorted(report.markets),
            "skipped": dict(sorted(report.skipped.items())),
        },
    )
    return report


def export_rows(
    db: Session, *, market: str | None = None, format: str | None = None
) -> Iterator[list[Any]]:
    """The header, then one row per availability the layout holds, ordered by its key (so exports compare
    byte for byte). Prices and tiers are numbers (`Decimal`, `int`), everything else text, as
    `core.csv_safe` tells them apart."""
    fmt = formats.named(format) or formats.FORMATS[formats.PARTNER_DESK]
    # Checked before the header is given, so that a refused market leaves no half-written file.
    country = normalise_country(market, field="market") if market is not None else None
    yield list(fmt.columns)
    statement = (
        select(
            Product.title.label("product_title"),
            Product.publisher,
            Product.product_type_id,
            Product.sub_type_id,
            Sku.title.label("sku_title"),
            Sku.description.label("sku_description"),
            Sku.unit_of_measure,
            Sku.regions,
            Sku.arm_sku_name,
            Availability.__table__,
        )
        .select_from(Availability)
        .join(Sku, (Sku.product_id == Availability.product_id) & (Sku.id == Availability.sku_id))
        .join(Product, Product.id == Availability.product_id)
        .order_by(Availability.product_id, Availability.sku_id, Availability.id)
    )
    if country is not None:
        statement = statement.where(Availability.country == country)
    for row in db.execute(statement.execution_options(yield_per=5000)):
        written = fmt.write(row)
        if written is not None:
            yield written


def export_price_list(db: Session, out: TextIO, *, market: str | None = None, format: str | None = None) -> int:
    """Writes the price list (one market, or all) in the layout asked (Partner Desk's by default) as CSV
    to `out`; returns the number of price rows written.

    Through `core.csv_safe`: a title such as `=HYPERLINK(...)` or `+cmd|...` is written as text, never as a
    formula a spreadsheet would run, and control characters are left out. Partner Center's layouts start
    with a byte order mark, as its own files do.
    """
    fmt = formats.named(format) or formats.FORMATS[formats.PARTNER_DESK]
    rows = export_rows(db, market=market, format=fmt.name)
    header = next(rows)  # checks the market before anything is written
    if fmt.byte_order_mark:
        out.write("\ufeff")
    writer = safe_writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL if fmt.quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count
