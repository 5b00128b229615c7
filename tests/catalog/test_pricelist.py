"""Price lists: export, import (all or nothing, each bad row reported by line), byte-identical round trips."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from partnerdesk.catalog import demo, pricelist, service
from partnerdesk.catalog.errors import InvalidPriceList
from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.core.errors import UnknownCountry

HEADER = ",".join(pricelist.COLUMNS)
GOOD_ROWS = [
    "Windows Server 2022,DG7GMGF0DVT5,0001,Windows Server 2022 Standard,Microsoft Corporation,16 cores,"
    "16 Core License Pack,,OneTime,FR,EUR,994.17,,,2026-01-01T00:00:00Z,,,1100.00,Commercial,0001,"
    "Software,Perpetual,,",
    "Windows Server 2022,DG7GMGF0DVT5,0001,Windows Server 2022 Standard,Microsoft Corporation,16 cores,"
    "16 Core License Pack,,OneTime,JP,JPY,160350,1,10,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,Promo,,"
    "Commercial,0002,Software,Perpetual,,",
    '"Reserved VM Instance, Dsv5 Series",DZH318Z0BXQ7,0001,D4s v5,Microsoft Corporation,"D4s v5, 4 vCPU",'
    "1 instance,P1Y,OneTime,FR,EUR,1234.56,,,2026-01-01T00:00:00Z,,,,Commercial,0003,Azure,VirtualMachines,,",
    '"Reserved VM Instance, Dsv5 Series",DZH318Z0BXQ7,0001,D4s v5,Microsoft Corporation,"D4s v5, 4 vCPU",'
    "1 instance,P3Y,Monthly,BR,BRL,310.4567,,,2026-01-01T00:00:00Z,,,,Commercial,0004,Azure,VirtualMachines,,",
]
GOOD_FILE = "\n".join([HEADER, *GOOD_ROWS]) + "\n"


def import_text(desk, text: str):
    with desk.database.session() as db:
        return pricelist.import_price_list(
            db, io.StringIO(text, newline=""), now=desk.clock.now(), source="t.csv"
        )


def export_text(desk, market: str | None = None) -> str:
    out = io.StringIO(newline="")
    with desk.database.session(write=False) as db:
        pricelist.export_price_list(db, out, market=market)
    return out.getvalue()


def count(desk, model) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(model))


def empty_the_catalog(desk) -> None:
    with desk.database.session() as db:
        for model in (Availability, Sku, Product):
            db.execute(delete(model))


def test_a_canonical_file_imports_and_exports_unchanged(desk):
    report = import_text(desk, GOOD_FILE)
    assert (report.rows, report.products, report.skus, report.markets) == (4, 2, 2, {"FR", "JP", "BR"})
    assert export_text(desk) == GOOD_FILE
    with desk.database.session(write=False) as db:
        item = service.resolve_purchasable(
            db, catalog_item_id="DZH318Z0BXQ7:0001:0003", country="FR", now=desk.clock.now()
        )
        sku = db.get(Sku, ("DZH318Z0BXQ7", "0001"))
        assert sku.supported_billing_cycles == ["one_time", "monthly"]
        assert sku.provisioning_variables == ["Scope", "SubscriptionId", "Duration"]
    assert item.unit_price == Decimal("1234.56") and item.title.endswith("D4s v5, 1 year")


def test_the_demo_catalog_round_trips_byte_for_byte_through_an_empty_catalog(desk):
    with desk.database.session() as db:
        demo.load(db, desk.clock.now(), lambda _message: None)
    first = export_text(desk)
    assert first.count("\n") == 1 + count(desk, Availability)
    empty_the_catalog(desk)
    assert count(desk, Product) == 0
    import_text(desk, first)
    assert export_text(desk) == first


def test_export_of_one_market(desk):
    import_text(desk, GOOD_FILE)
    lines = export_text(desk, market="fr").splitlines()
    assert lines[0] == HEADER and len(lines) == 3
    assert all(",FR,EUR," in line for line in lines[1:])
    with pytest.raises(UnknownCountry):
        export_text(desk, market="QQ")


def test_importing_again_updates_prices_in_place(desk):
    import_text(desk, GOOD_FILE)
    import_text(desk, GOOD_FILE.replace(",1234.56,", ",1199.00,"))
    assert count(desk, Availability) == 4
    assert ",1199.00," in export_text(desk, market="FR")


BAD_ROWS = {
    "unknown market": (GOOD_ROWS[0].replace(",FR,EUR,", ",XX,EUR,"), "Market: 'XX' is not a market"),
    "bad currency": (
        GOOD_ROWS[0].replace(",FR,EUR,", ",FR,EURO,").replace(",0001,Software", ",0011,Software"),
        "Currency: 'EURO' is not a currency",
    ),
    "negative price": (
        GOOD_ROWS[2].replace(",1234.56,", ",-1234.56,").replace(",0003,Azure", ",0013,Azure"),
        "UnitPrice: '-1234.56' is negative",
    ),
    "bad date": (
        GOOD_ROWS[2].replace("2026-01-01T00:00:00Z", "2026-13-45").replace(",0003,Azure", ",0023,Azure"),
        "EffectiveStartDate: '2026-13-45' is not a date",
    ),
    "duplicate key": (GOOD_ROWS[1], "duplicate key DG7GMGF0DVT5:0001:0002, first on line 3"),
    "RI without term": (
        GOOD_ROWS[3].replace(",P3Y,", ",,").replace(",0004,Azure", ",0014,Azure"),
        "P1Y or P3Y (rule R8)",
    ),
    "end before start": (
        GOOD_ROWS[1].replace("2027-01-01T00:00:00Z", "2025-01-01").replace(",0002,Soft", ",0012,Soft"),
        "the end must come after the start",
    ),
    "short row": ("Windows Server 2022,DG7GMGF0DVT5,0001", "3 fields where the header has 24"),
}


def test_every_kind_of_bad_row_is_reported_with_its_line_and_nothing_is_written(desk):
    rows = [*GOOD_ROWS]
    expected = {}
    for reason_kind, (row, reason) in BAD_ROWS.items():
        rows.append(row)
        expected[len(rows) + 1] = (reason_kind, reason)  # +1: the header is line 1
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, "\n".join([HEADER, *rows]) + "\n")
    error = raised.value
    assert error.status_code == 400 and error.code == 2300
    assert error.description == f"The price list has {len(BAD_ROWS)} bad rows; nothing was imported."
    assert len(error.data) == len(BAD_ROWS)
    for line, (reason_kind, reason) in expected.items():
        matching = [entry for entry in error.data if entry.startswith(f"line {line}: ")]
        assert len(matching) == 1 and reason in matching[0], (reason_kind, error.data)
    assert count(desk, Product) == count(desk, Sku) == count(desk, Availability) == 0


def test_one_bad_row_among_many_good_ones_leaves_the_existing_catalog_untouched(desk):
    import_text(desk, GOOD_FILE)
    before = export_text(desk)
    changed = (
        GOOD_FILE.replace(",1234.56,", ",1.00,")
        + GOOD_ROWS[0].replace(",0001,Software", ",0005,Software").replace(",994.17,", ",abc,")
        + "\n"
    )
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, changed)
    assert raised.value.data == ["line 6: UnitPrice: 'abc' is not an amount such as 1234.56."]
    assert export_text(desk) == before


def test_a_missing_column_is_reported_and_nothing_read(desk):
    rows = list(csv.reader(io.StringIO(GOOD_FILE)))
    drop = rows[0].index("Currency")
    text = "\n".join(",".join(f'"{v}"' for i, v in enumerate(row) if i != drop) for row in rows)
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, text)
    assert "lacks column(s) Currency" in raised.value.description
    assert raised.value.data == ["line 1: missing column Currency"]
    assert count(desk, Availability) == 0


def test_an_empty_file_is_refused(desk):
    with pytest.raises(InvalidPriceList, match="empty"):
        import_text(desk, "")


def test_rows_of_one_product_must_agree_and_types_cannot_change(desk):
    import_text(desk, GOOD_FILE)
    retitled = (
        GOOD_ROWS[0]
        .replace("Windows Server 2022,DG7", "Windows Server 2025,DG7")
        .replace(",0001,Soft", ",0009,Soft")
    )
    as_azure = GOOD_ROWS[2].replace("DZH318Z0BXQ7", "DG7GMGF0DVT5").replace(",0003,Azure", ",0008,Azure")
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, "\n".join([HEADER, GOOD_ROWS[0], retitled, as_azure]) + "\n")
    assert "differ from line 2" in raised.value.data[0] and raised.value.data[0].startswith("line 3: ")
    assert (
        raised.value.data[1].startswith("line 4: ") and "is Software in the catalog" in raised.value.data[1]
    )


def test_lines_the_csv_reader_cannot_parse_are_reported_not_crashed_on(desk):
    huge = GOOD_ROWS[0].replace("16 cores", "x" * 200_000)
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, "\n".join([HEADER, GOOD_ROWS[2], huge]) + "\n")
    assert raised.value.data[0].startswith("line 3: not readable as CSV")
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, HEADER + "\n" + GOOD_ROWS[0].replace("16 cores", "16\0cores") + "\n")
    assert raised.value.data == ["line 2: SkuDescription must not contain NUL characters."]
    assert count(desk, Availability) == 0
