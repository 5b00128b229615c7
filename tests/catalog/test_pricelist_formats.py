"""Price lists in Partner Center's layouts: each imports as Partner Center publishes it (hand-written files
in fixtures/pricelists/, and tens of thousands of generated rows), prices land where a customer reads
them, bad rows are reported by line, rows the desk does not sell are counted, and every layout
round-trips byte for byte through an empty desk."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from partnerdesk.accounts.models import Role
from partnerdesk.catalog import pricelist
from partnerdesk.catalog import pricelist_formats as formats
from partnerdesk.catalog.errors import InvalidPriceList
from partnerdesk.catalog.models import Availability, Product, Sku

pytestmark = pytest.mark.both_engines

FIXTURES = Path(__file__).parent / "fixtures" / "pricelists"
BOM = "\ufeff"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def import_text(desk, text: str, format: str | None = None) -> pricelist.ImportReport:
    with desk.database.session() as db:
        return pricelist.import_price_list(
            db, io.StringIO(text.removeprefix(BOM), newline=""), now=desk.clock.now(), source="t.csv", format=format
        )


def export_text(desk, format: str | None = None, market: str | None = None) -> str:
    out = io.StringIO(newline="")
    with desk.database.session(write=False) as db:
        pricelist.export_price_list(db, out, market=market, format=format)
    return out.getvalue()


def empty_the_catalog(desk) -> None:
    with desk.database.session() as db:
        for model in (Availability, Sku, Product):
            db.execute(delete(model))


def count(desk, model) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(model))


def assert_round_trip(desk, format: str) -> str:
    """Export in `format`, import that into an empty catalog, export again: the same bytes."""
    first = export_text(desk, format)
    empty_the_catalog(desk)
    import_text(desk, first, format)
    assert export_text(desk, format) == first
    return first


def availabilities(actors, product_id: str, sku_id: str, country: str) -> dict[str, dict]:
    response = actors(Role.sales_agent).get(
        f"/v1/products/{product_id}/skus/{sku_id}/availabilities", params={"country": country}
    )
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["items"]}


# --- Partner Center's software price list ------------------------------------------------------------


def test_the_software_price_list_imports_as_partner_center_publishes_it(desk, actors):
    report = import_text(desk, fixture("software.csv"))
    assert (report.format, report.rows, report.products, report.skus) == ("software", 8, 4, 4)
    assert report.markets == {"US", "FR", "DE"} and not report.skipped

    perpetual = availabilities(actors, "DG7GMGF0DVT5", "0001", "FR")
    commercial, education = perpetual["FRPPOC20211001"], perpetual["FRPPOE20220301"]
    # OneTime with a blank BillingPlan: perpetual, no term, paid once.
    assert commercial["terms"] == [] and commercial["billingPlan"] == "one_time"
    assert (commercial["unitPrice"], commercial["erpPrice"], commercial["currency"]) == ("903.96", "994.36", "EUR")
    assert commercial["effectiveStartDate"] == "2021-10-01T00:00:00Z"
    assert commercial["effectiveEndDate"] == "9999-11-30T23:59:59Z"
    assert (education["segment"], education["unitPrice"], education["erpPrice"]) == ("Education", "271.19", None)

    tiers = availabilities(actors, "DG7GMGF0D5SL", "0007", "US")
    assert {key: item["unitPrice"] for key, item in tiers.items()} == {
        "USPPOC20211001T1": "37.00", "USPPOC20211001T100": "35.15"}

    yearly = availabilities(actors, "DG7GMGF0FKZV", "0002", "US")
    assert yearly["US1YAC20221116"]["terms"][0]["duration"] == "P1Y"
    assert yearly["US1YAC20221116"]["billingPlan"] == "annual"
    assert yearly["US1YMC20221116"]["priceTerms"]["totalForTerm"] == "1859.04"
    three_years = availabilities(actors, "DG7GMGF0FKZW", "0001", "DE")["DE3YAN20221116"]
    # Partner Center's "Charity" is the NonProfit segment.
    assert (three_years["segment"], three_years["effectiveEndDate"]) == ("NonProfit", "2027-01-01T00:00:00Z")
    products = actors(Role.sales_agent).get("/v1/products", params={"country": "US", "targetView": "Software"})
    assert {item["id"] for item in products.json()["items"]} == {"DG7GMGF0DVT5", "DG7GMGF0D5SL", "DG7GMGF0FKZV"}


def test_the_software_list_round_trips_in_its_own_layout_and_in_partner_desks(desk):
    import_text(desk, fixture("software.csv"))
    exported = assert_round_trip(desk, "software")
    assert exported.startswith(BOM + ",".join(formats.SOFTWARE_COLUMNS) + "\n")
    lines = exported.splitlines()
    assert lines[1].startswith(",Windows Rights Management Services CAL 2022,DG7GMGF0D5SL,0007,")
    assert ",OneTime,,FR,EUR,903.96,,,2021-10-01T00:00:00.0000000Z,9999-11-30T23:59:59.0000000Z,,994.36," in exported
    assert ",P3Y,Annual,DE,EUR,1745.40,,,2022-11-16T00:00:00.0000000Z,2027-01-01T00:00:00.0000000Z,,,NonProfit," \
        in exported
    assert_round_trip(desk, "partner-desk")


def test_a_software_list_from_before_2026_has_no_change_columns_and_still_reads_as_software(desk):
    rows = list(csv.reader(io.StringIO(fixture("software.csv").removeprefix(BOM))))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(row[1:-1] for row in rows)
    report = import_text(desk, out.getvalue())
    assert (report.format, report.rows) == ("software", 8)


def test_bad_software_rows_are_reported_by_line_and_column_and_nothing_is_written(desk):
    lines = fixture("software.csv").splitlines(keepends=True)
    lines[2] = lines[2].replace("2021-10-01T00:00:00.0000000Z", "13/45/2021 12:00:00 AM")
    lines[6] = lines[6].replace(",P1Y,Annual,", ",P2Y,Annual,")
    lines[8] = lines[8].replace(",1745.40,", ",1745.40.1,")
    lines.append(lines[3])
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, "".join(lines))
    assert raised.value.data == [
        "line 3: EffectiveStartDate: '13/45/2021 12:00:00 AM' is not a date such as 2026-01-01, "
        "2026-01-01T00:00:00.0000000Z or 1/1/2026 12:00:00 AM.",
        "line 7: TermDuration: a subscription needs a term of P1M, P1Y, P3Y, not 'P2Y'.",
        "line 9: UnitPrice: '1745.40.1' is not an amount such as 1234.56.",
        "line 10: duplicate key DG7GMGF0DVT5:0001:FRPPOE20220301, first on line 4.",
    ]
    assert count(desk, Product) == count(desk, Availability) == 0


# --- Partner Center's Azure plan price sheet ---------------------------------------------------------


def test_the_azure_price_sheet_imports_its_reservations_and_counts_what_it_skips(desk, actors):
    report = import_text(desk, fixture("azure.csv"))
    assert (report.format, report.rows, report.products, report.skus) == ("azure", 4, 2, 3)
    assert report.skipped == {
        "Azure consumption meter": 3, "Azure reservation of another service": 1, "third-party Azure product": 1}

    west = availabilities(actors, "DZH318Z0BXQ7", "0001", "FR")
    one_year, three_years = west["FR1YOC20220301"], west["FR3YOC20220301"]
    assert (one_year["unitPrice"], one_year["currency"], one_year["billingPlan"]) == ("1234.56", "USD", "one_time")
    assert one_year["terms"][0]["duration"] == "P1Y" and three_years["terms"][0]["duration"] == "P3Y"
    # "3/1/2022 12:00:00 AM" is the first of March; "11/30/9999 11:59:59 PM" Partner Center's "no end".
    assert one_year["effectiveStartDate"] == "2022-03-01T00:00:00Z"
    assert one_year["effectiveEndDate"] == "9999-11-30T23:59:59Z"
    east = availabilities(actors, "DZH318Z0BXQ7", "0002", "US")["US1YOC20220301"]
    assert east["effectiveEndDate"] == "2027-01-01T00:00:00Z"

    # One SKU per region, with its VM size, as Partner Center sells Reserved Instances.
    for sku_id, region in (("0001", "westeurope"), ("0002", "eastus2")):
        sku = actors(Role.sales_agent).get(f"/v1/products/DZH318Z0BXQ7/skus/{sku_id}").json()
        assert sku["dynamicAttributes"]["regions"] == [region]
        assert sku["dynamicAttributes"]["armSkuName"] == "Standard_D4s_v5"
    sql = actors(Role.sales_agent).get("/v1/products/DZH318Z0BQ4L").json()
    assert sql["productType"]["subType"]["id"] == "SQL"
    with desk.database.session(write=False) as db:
        assert db.get(Sku, ("DZH318Z0BQ4L", "0003")).regions == ["eastus"]
        assert db.get(Sku, ("DZH318Z0BXQ7", "0001")).provisioning_variables == ["Scope", "SubscriptionId", "Duration"]


def test_the_azure_sheet_round_trips_in_its_own_quoted_layout(desk):
    import_text(desk, fixture("azure.csv"))
    exported = assert_round_trip(desk, "azure")
    header = BOM + ",".join(f'"{name}"' for name in formats.AZURE_COLUMNS)
    assert exported.splitlines()[0] == header
    assert ('"P3Y","FR","USD","2592.58","","","3/1/2022 12:00:00 AM","11/30/9999 11:59:59 PM","","1 Instance",'
            '"Azure;Reservations"') in exported
    assert len(exported.splitlines()) == 1 + 4


def test_an_arm_region_column_beside_the_azure_columns_wins_over_the_title(desk):
    text = fixture("azure.csv").removeprefix(BOM).splitlines()
    rows = [text[0] + ',"armRegionName","armSkuName"', text[3] + ',"francecentral","Standard_D4s_v5"']
    import_text(desk, "\n".join(rows) + "\n")
    with desk.database.session(write=False) as db:
        sku = db.get(Sku, ("DZH318Z0BXQ7", "0001"))
        assert (sku.regions, sku.arm_sku_name) == (["francecentral"], "Standard_D4s_v5")


def test_a_bad_azure_row_is_reported_and_a_good_file_after_it_still_imports(desk):
    lines = fixture("azure.csv").splitlines(keepends=True)
    lines[4] = lines[4].replace('"P3Y"', '"P2Y"')
    lines[6] = lines[6].replace('"1617.00"', '"-1617.00"')
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, "".join(lines))
    assert raised.value.data == [
        "line 5: TermDuration: a Reserved Instance is sold for a term of P1Y or P3Y (rule R8), not 'P2Y'.",
        "line 7: UnitPrice: '-1617.00' is negative; a price is zero or more.",
    ]
    assert count(desk, Availability) == 0
    assert import_text(desk, fixture("azure.csv")).rows == 4


# --- Partner Center's license-based lists: online services, which this desk does not sell ---------------


@pytest.mark.parametrize(
    ("name", "kind", "rows"),
    [
        ("new-commerce", "online services seat (new commerce)", 5),
        ("license-based", "online services offer (license-based)", 4),
    ],
)
def test_online_services_lists_are_read_and_counted_as_not_sold_here(desk, name, kind, rows):
    report = import_text(desk, fixture(f"{name}.csv"))
    assert (report.format, report.rows, report.skipped) == (name, 0, {kind: rows})
    assert count(desk, Availability) == 0
    # The desk has no online services to list: its file in that layout is the header alone.
    import_text(desk, fixture("software.csv"))
    exported = assert_round_trip(desk, name)
    columns = formats.NEW_COMMERCE_COLUMNS if name == "new-commerce" else formats.LICENSE_BASED_COLUMNS
    assert exported == BOM + ",".join(columns) + "\n"


def test_the_format_named_wins_over_the_header(desk):
    report = import_text(desk, fixture("software.csv"), format="NEW-COMMERCE")
    assert (report.format, report.rows) == ("new-commerce", 0)
    assert report.skipped == {"online services seat (new commerce)": 8}
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, fixture("azure.csv"), format="partner-desk")
    assert raised.value.description == (
        "The price list lacks column(s) BillingPlan, ERP Price, Segment of Partner Desk's round-trip price list "
        "(partner-desk); nothing was imported.")
    assert raised.value.data == [
        "line 1: missing column BillingPlan", "line 1: missing column ERP Price", "line 1: missing column Segment"]
    with pytest.raises(InvalidPriceList, match="'excel' is not a price-list format"):
        import_text(desk, fixture("software.csv"), format="excel")
    with pytest.raises(InvalidPriceList, match="'excel' is not a price-list format"):
        export_text(desk, format="excel")


# --- Partner Desk's own layout: its extra columns are optional ----------------------------------------


def test_partner_desks_layout_without_its_own_columns_derives_them(desk, actors):
    text = (
        ",".join(formats.PRICE_LIST_COLUMNS) + "\n"
        "Windows Server 2022,DG7GMGF0DVT5,0001,Windows Server 2022 Standard,Microsoft,,,,OneTime,FR,EUR,994.17,,,"
        "2026-01-01,,,,\n"
        '"Reserved VM Instance, Dsv5 Series",DZH318Z0BXQ7,0001,"Reserved VM Instance, Standard_D4s_v5, EU West",'
        "Microsoft,,,P1Y,Monthly,FR,EUR,102.88,,,2026-01-01,,Azure;Reservations,,\n"
    )
    report = import_text(desk, text, format="partner-desk")
    assert (report.format, report.rows) == ("partner-desk", 2)
    assert availabilities(actors, "DG7GMGF0DVT5", "0001", "FR")["FRPPOC20260101"]["unitPrice"] == "994.17"
    reserved = availabilities(actors, "DZH318Z0BXQ7", "0001", "FR")["FR1YMC20260101"]
    assert reserved["billingPlan"] == "monthly" and reserved["priceTerms"]["chargeCount"] == 12
    exported = export_text(desk)
    assert exported.splitlines()[0] == ",".join(formats.DESK_COLUMNS)
    assert exported.splitlines()[2].endswith(",FR1YMC20260101,Azure,VirtualMachines,westeurope,Standard_D4s_v5")


def test_blank_ids_and_types_in_partner_desks_layout_are_derived_too(desk, actors):
    row = (
        "Windows Server 2022,DG7GMGF0DVT5,0001,Windows Server 2022 Standard,Microsoft,,,,OneTime,FR,EUR,994.17,,,"
        "2026-01-01T00:00:00Z,,,,Education,,,,,"
    )
    report = import_text(desk, ",".join(formats.DESK_COLUMNS) + "\n" + row + "\n")
    assert (report.format, report.rows) == ("partner-desk", 1)
    price = availabilities(actors, "DG7GMGF0DVT5", "0001", "FR")["FRPPOE20260101"]
    assert (price["segment"], price["terms"], price["billingPlan"]) == ("Education", [], "one_time")


def test_a_reserved_instance_sold_in_several_regions_keeps_them_all(desk):
    row = (
        '"Reserved VM Instance, Dsv5 Series",DZH318Z0BXQ7,0001,D4s v5,Microsoft,,,P1Y,OneTime,FR,EUR,1234.56,,,'
        "2026-01-01T00:00:00Z,,,,Commercial,0003,Azure,VirtualMachines,westeurope;northeurope,Standard_D4s_v5"
    )
    text = ",".join(formats.DESK_COLUMNS) + "\n" + row + "\n"
    import_text(desk, text)
    assert export_text(desk) == text
    with desk.database.session(write=False) as db:
        assert db.get(Sku, ("DZH318Z0BXQ7", "0001")).regions == ["westeurope", "northeurope"]
    software_in_a_region = (
        "Windows Server 2022,DG7GMGF0DVT5,0001,Windows Server 2022 Standard,Microsoft,,,,OneTime,FR,EUR,994.17,,,"
        "2026-01-01T00:00:00Z,,,,Commercial,0001,Software,Perpetual,westeurope,"
    )
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, ",".join(formats.DESK_COLUMNS) + "\n" + software_in_a_region + "\n")
    assert raised.value.data == [
        "line 2: ArmRegionName and ArmSkuName are for Reserved Instances; software has neither."]


# --- Tens of thousands of rows, in each layout --------------------------------------------------------

MARKETS = (("US", "USD"), ("FR", "EUR"), ("DE", "EUR"), ("GB", "GBP"), ("JP", "JPY"), ("CA", "CAD"),
           ("AU", "AUD"), ("BR", "BRL"), ("IN", "INR"), ("ES", "EUR"))
REGIONS = ("EU West", "EU North", "US East", "US East 2", "US West 2", "AP Southeast", "JA East", "UK South",
           "FR Central", "AU East")


def _price(*numbers: int) -> str:
    seed = sum(number * weight for number, weight in zip(numbers, (7919, 104729, 1299709, 15485863), strict=False))
    return f"{seed % 4000 + 10}.{seed % 97:02d}"


def generated_software(products: int = 500) -> str:
    """Perpetual products (OneTime, blank plan) and one-year subscriptions (Annual and Monthly), 2 SKUs each,
    in 10 markets: 2 x 2 x 10 rows a product."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(formats.SOFTWARE_COLUMNS)
    for product in range(products):
        perpetual = product % 2 == 0
        for sku in range(1, 3):
            for market, currency in MARKETS:
                for variant in range(2):
                    term, plan = ("OneTime", "") if perpetual else ("P1Y", ("Annual", "Monthly")[variant])
                    segment = ("Commercial", "Education")[variant] if perpetual else "Commercial"
                    writer.writerow([
                        "Unchanged", f"Generated Software {product}", f"DG7G{product:08d}", f"{sku:04d}",
                        f"Generated Software {product} - SKU {sku}", "Microsoft", f"SKU {sku} of product {product}",
                        "", term, plan, market, currency, _price(product, sku, variant), "", "",
                        "2021-10-01T00:00:00.0000000Z", "9999-11-30T23:59:59.0000000Z", "", "", segment, "",
                    ])
    return out.getvalue()


def generated_azure(series: int = 100) -> str:
    """Per series: one Reserved Instance SKU per region, 1 and 3 years, in 10 markets (20,000 rows for 100),
    and a consumption meter per region and market (skipped)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(formats.AZURE_COLUMNS)
    for number in range(series):
        size = f"Standard_D{number + 2}s_v5"
        for index, region in enumerate(REGIONS):
            for market, _currency in MARKETS:
                for term in ("P1Y", "P3Y"):
                    writer.writerow([
                        f"Reserved VM Instance, Series {number}", f"DZH3{number:08d}", f"{index + 1:04d}",
                        f"Reserved VM Instance, {size}, {region}", "Microsoft", f"{size}, reserved", "1 Instance",
                        term, market, "USD", _price(number, index, int(term[1])), "", "", "3/1/2022 12:00:00 AM",
                        "11/30/9999 11:59:59 PM", "", "1 Instance", "Azure;Reservations",
                    ])
                if number % 10 == 0:
                    writer.writerow([
                        f"Virtual Machines Series {number}", f"DZH9{number:08d}", f"{index + 1:04d}",
                        f"Virtual Machines Series {number} - {region}", "Microsoft", "", "1 Hour", "payG-1", market,
                        "USD", "0.2300", "0", "", "3/1/2022 12:00:00 AM", "11/30/9999 11:59:59 PM",
                        f"{number:08d}-0000-4000-8000-{index:012d}", "1 Hour", "Azure",
                    ])
    return out.getvalue()


def generated_online_services(name: str, rows: int = 20_000) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if name == "new-commerce":
        writer.writerow(formats.NEW_COMMERCE_COLUMNS)
        for number in range(rows):
            writer.writerow(["Unchanged", f"Microsoft 365 Plan {number}", f"CFQ7{number:08d}", "0001",
                             f"Microsoft 365 Plan {number}", "Microsoft Corporation", "", "", "P1Y", "Annual", "US",
                             "USD", _price(number), "", "", "2023-02-01T00:00:00.0000000Z",
                             "9999-11-30T23:59:59.0000000Z", "License", "", "Commercial"])
    else:
        writer.writerow(formats.LICENSE_BASED_COLUMNS)
        for number in range(rows):
            writer.writerow(["UNC", "12/1/2019", "", f"Office 365 Plan {number}",
                             f"{number:08X}-613C-4E24-A17C-EBA730D49C02", "Corporate", "1 Month", "Non-specific",
                             "Cloud Reseller Corporate", _price(number), ""])
    return out.getvalue()


def test_twenty_thousand_software_rows_import_and_round_trip(desk, actors):
    text = generated_software()
    report = import_text(desk, text)
    assert (report.format, report.rows, report.products, report.skus) == ("software", 20_000, 500, 1000)
    assert len(report.markets) == 10
    education = availabilities(actors, "DG7G00000498", "0002", "JP")["JPPPOE20211001"]
    assert Decimal(education["unitPrice"]) == Decimal(_price(498, 2, 1)) and education["segment"] == "Education"
    monthly = availabilities(actors, "DG7G00000499", "0001", "BR")["BR1YMC20211001"]
    assert Decimal(monthly["unitPrice"]) == Decimal(_price(499, 1, 1)) and monthly["priceTerms"]["chargeCount"] == 12
    assert_round_trip(desk, "software")


def test_twenty_thousand_azure_reservations_import_and_round_trip(desk, actors):
    report = import_text(desk, generated_azure())
    assert (report.format, report.rows, report.products, report.skus) == ("azure", 20_000, 100, 1000)
    assert report.skipped == {"Azure consumption meter": 1000}
    three_years = availabilities(actors, "DZH300000049", "0009", "ES")["ES3YOC20220301"]
    assert Decimal(three_years["unitPrice"]) == Decimal(_price(49, 8, 3))
    with desk.database.session(write=False) as db:
        sku = db.get(Sku, ("DZH300000049", "0009"))
        assert (sku.regions, sku.arm_sku_name) == (["francecentral"], "Standard_D51s_v5")
    assert_round_trip(desk, "azure")
    assert_round_trip(desk, "partner-desk")


@pytest.mark.parametrize("name", ["new-commerce", "license-based"])
def test_twenty_thousand_online_services_rows_are_all_counted(desk, name):
    report = import_text(desk, generated_online_services(name))
    assert report.rows == 0 and report.skipped.total() == 20_000 and report.format == name


# --- The operator's API -----------------------------------------------------------------------------

PRICELISTS = "/v1/pricelists"


def post_price_list(caller, text: str, **params):
    return caller.post(PRICELISTS, content=text.encode("utf-8"), params=params,
                       headers={"Content-Type": "text/csv"})


def test_the_operator_imports_and_exports_each_layout_through_the_api(actors):
    operator = actors(Role.operator)
    imported = post_price_list(operator, BOM + fixture("azure.csv").removeprefix(BOM))
    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "format": "azure", "rows": 4, "products": 2, "skus": 3, "markets": ["FR", "US"],
        "skipped": [{"kind": "Azure consumption meter", "rows": 3},
                    {"kind": "Azure reservation of another service", "rows": 1},
                    {"kind": "third-party Azure product", "rows": 1}]}
    assert post_price_list(operator, fixture("software.csv"), format="software").json()["rows"] == 8
    exported = operator.get(PRICELISTS, params={"format": "azure"})
    assert exported.status_code == 200 and exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="pricelist-azure.csv"' in exported.headers["content-disposition"]
    assert exported.content.startswith(BOM.encode() + b'"ProductTitle","ProductId"')
    french = operator.get(PRICELISTS, params={"market": "fr"})
    assert french.text.splitlines()[0] == ",".join(formats.DESK_COLUMNS)
    assert len(french.text.splitlines()) == 1 + 4 and "pricelist-partner-desk-FR.csv" in french.headers[
        "content-disposition"]


def test_bad_input_to_the_api_is_a_400_naming_what_is_wrong(actors):
    operator = actors(Role.operator)
    lines = fixture("software.csv").splitlines(keepends=True)
    lines[4] = lines[4].replace(",US,USD,", ",QQ,USD,")
    refused = post_price_list(operator, "".join(lines))
    assert refused.status_code == 400
    assert refused.json()["code"] == 2300
    assert refused.json()["data"] == [
        "line 5: Market: 'QQ' is not a market; use an ISO 3166-1 alpha-2 code such as FR."]
    unknown = operator.get(PRICELISTS, params={"format": "xlsx"})
    assert unknown.status_code == 400 and unknown.json()["code"] == 2300
    not_text = operator.post(PRICELISTS, content=b"\xff\xfe\x00", headers={"Content-Type": "text/csv"})
    assert not_text.status_code == 400 and not_text.json()["code"] == 2300
    assert operator.get(PRICELISTS, params={"market": "QQ"}).status_code == 400
    assert operator.get(PRICELISTS).text == ",".join(formats.DESK_COLUMNS) + "\n"


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.operator])
def test_only_the_operator_reads_or_writes_price_lists(actors, role):
    assert post_price_list(actors(role), fixture("azure.csv")).status_code == 403
    assert actors(role).get(PRICELISTS).status_code == 403
    assert actors(role).get(PRICELISTS, params={"format": "software"}).status_code == 403
    assert actors(Role.operator).get(PRICELISTS).text == ",".join(formats.DESK_COLUMNS) + "\n"
