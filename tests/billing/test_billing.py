"""The partner's billing: credit limits, monthly invoices and their lines, payments, reconciliation export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from partnerdesk.accounts.models import Role
from partnerdesk.cli import app as cli_app
from tests.orders.factories import OFFICE_US, software_line
from tests.orders.test_checkout import row_counts
from tests.webhooks.helpers import create_endpoint, partner_id_of


@pytest.fixture
def partner_id(shop) -> str:
    return _partner_of(shop)


def _partner_of(shop) -> str:
    customer = shop.customer("FR")
    return shop.buyer.get(f"/v1/customers/{customer}").json()["partnerId"]


@pytest.fixture
def cli(settings):
    runner = CliRunner()
    env = {"PARTNERDESK_DATABASE_URL": settings.database_url, "PARTNERDESK_DATA_DIR": str(settings.data_dir),
           "PARTNERDESK_SECRET_KEY": settings.secret_key}

    def invoke(*args: str):
        return runner.invoke(cli_app, list(args), env=env)

    return invoke


def test_a_purchase_past_the_credit_limit_is_refused_and_writes_nothing(shop, actors, desk, partner_id, clock):
    operator = actors(Role.operator)
    assert operator.put(f"/v1/partners/{partner_id}/creditlimits/EUR", json={"amount": "2000.00"}).status_code == 200
    customer = shop.customer("FR")
    shop.buy(customer, software_line())  # 1234.56 of 2000.00
    before = row_counts(desk)
    cart = shop.cart(customer, software_line()).json()
    refused = shop.checkout(customer, cart["id"])
    assert refused.status_code == 402, refused.text
    assert refused.json()["code"] == 4001
    assert refused.json()["data"] == ["EUR", "2000.00", "765.44"]
    assert row_counts(desk) == before
    assert shop.buyer.get(f"/v1/customers/{customer}/carts/{cart['id']}").json()["status"] == "Active"
    # Other currencies have no limit.
    us_customer = shop.customer("US")
    assert shop.buy(us_customer, software_line(OFFICE_US, quantity=5))["orders"][0]["totalPrice"] == "4999.95"

    profile = actors(Role.billing_admin).get("/v1/profiles/billing").json()
    assert profile["creditLimits"] == [{"currencyCode": "EUR", "amount": "2000.00", "unpaidBalance": "1234.56",
                                        "available": "765.44", "updatedAt": "2026-11-24T10:00:00Z",
                                        "updatedBy": operator.email}]
    # Once November is paid, the same cart goes through.
    clock.advance(timedelta(days=7))
    [invoice] = [i for i in operator.get(f"/v1/invoices?partnerId={partner_id}").json()["items"]
                 if i["currencyCode"] == "EUR"]
    assert invoice["status"] == "due"
    paid = operator.post(f"/v1/invoices/{invoice['id']}/payments")
    assert paid.status_code == 200 and paid.json()["status"] == "paid" and paid.json()["paidAmount"] == "1481.47"
    cart = shop.cart(customer, software_line()).json()
    assert shop.checkout(customer, cart["id"]).status_code == 201


def test_credit_limits_and_webhooks_are_the_customers_partners(shop, actors, desk, partner_id):
    """Another partner's tighter limit and its webhook endpoint play no part in this partner's checkout."""
    operator = actors(Role.operator)
    rival = actors(Role.admin_agent, "Rival")
    rival_partner = partner_id_of(desk, rival)
    operator.put(f"/v1/partners/{rival_partner}/creditlimits/EUR", json={"amount": "0.01"})
    rival_endpoint = create_endpoint(rival, "https://erp.rival.example/hooks")
    operator.put(f"/v1/partners/{partner_id}/creditlimits/EUR", json={"amount": "1000.00"})
    customer = shop.customer("FR")

    def checkout():
        cart = shop.cart(customer, software_line()).json()  # 1234.56 EUR
        return shop.checkout(customer, cart["id"])

    refused = checkout()
    assert refused.status_code == 402, refused.text
    assert refused.json()["data"] == ["EUR", "1000.00", "1000.00"]  # this partner's limit, not the rival's
    operator.put(f"/v1/partners/{partner_id}/creditlimits/EUR", json={"amount": "5000.00"})
    assert checkout().status_code == 201
    assert rival.get(f"/v1/webhooks/{rival_endpoint['id']}/deliveries").json()["totalCount"] == 0


def test_removing_a_credit_limit_lifts_it(shop, actors, partner_id):
    operator = actors(Role.operator)
    operator.put(f"/v1/partners/{partner_id}/creditlimits/EUR", json={"amount": "0"})
    customer = shop.customer("FR")
    cart = shop.cart(customer, software_line()).json()
    assert shop.checkout(customer, cart["id"]).status_code == 402
    assert operator.delete(f"/v1/partners/{partner_id}/creditlimits/eur").status_code == 204
    assert shop.checkout(customer, cart["id"]).status_code == 201


@pytest.mark.parametrize(("amount", "code"), [("12.345", 4002), ("-1", 4002), ("lots", 4002), ("1e400", 4002),
                                              (12.5, 1000)])
def test_credit_limits_are_exact_non_negative_amounts(actors, partner_id, amount, code):
    response = actors(Role.operator).put(f"/v1/partners/{partner_id}/creditlimits/EUR", json={"amount": amount})
    assert response.status_code == 400 and response.json()["code"] == code


def test_credit_limits_need_a_currency_and_a_partner(actors, partner_id):
    operator = actors(Role.operator)
    assert operator.put(f"/v1/partners/{partner_id}/creditlimits/XXQ", json={"amount": "1"}).json()["code"] == 4002
    missing = operator.put("/v1/partners/00000000-0000-0000-0000-000000000000/creditlimits/EUR", json={"amount": "1"})
    assert missing.status_code == 404 and missing.json()["code"] == 4004


def test_the_operator_sets_credit_limits_from_the_command_line(shop, actors, cli):
    _partner_of(shop)
    result = cli("billing", "credit-limit", "--partner", "Contoso Reseller", "--currency", "eur", "--amount", "750.5")
    assert result.exit_code == 0, result.output
    limits = actors(Role.billing_admin).get("/v1/profiles/billing").json()["creditLimits"]
    assert [(limit["currencyCode"], limit["amount"], limit["updatedBy"]) for limit in limits] == \
        [("EUR", "750.50", "cli")]
    assert cli("billing", "credit-limit", "--partner", "Nobody", "--currency", "EUR", "--amount", "1").exit_code == 1
    assert cli("billing", "credit-limit", "--partner", "Contoso Reseller", "--currency", "EUR",
               "--remove").exit_code == 0
    assert actors(Role.billing_admin).get("/v1/profiles/billing").json()["creditLimits"] == []


def test_charges_go_to_one_invoice_per_month_and_currency(shop, actors, clock):
    customer, us_customer = shop.customer("FR"), shop.customer("US")
    first = shop.buy(customer, software_line(quantity=2))["orders"][0]
    shop.buy(customer, software_line(quantity=1))
    shop.buy(us_customer, software_line(OFFICE_US))
    clock.advance(timedelta(days=10))  # 4 December
    december = shop.buy(customer, software_line(quantity=1))["orders"][0]
    billing = actors(Role.billing_admin)
    invoices = billing.get("/v1/invoices").json()["items"]
    summary = sorted((i["billingPeriod"], i["currencyCode"], i["totalCharges"], i["lineItemCount"], i["status"])
                     for i in invoices)
    assert summary == [("2026-11", "EUR", "3703.68", 2, "due"), ("2026-11", "USD", "999.99", 1, "due"),
                       ("2026-12", "EUR", "1234.56", 1, "open")]
    assert billing.get("/v1/invoices?period=2026-12").json()["totalCount"] == 1
    assert billing.get("/v1/invoices?period=December").json()["code"] == 4003
    [november_eur] = [i for i in invoices if i["billingPeriod"] == "2026-11" and i["currencyCode"] == "EUR"]
    lines = billing.get(f"/v1/invoices/{november_eur['id']}/lineitems").json()["items"]
    [line] = [line for line in lines if line["orderId"] == first["id"]]
    assert (line["quantity"], line["unitPrice"], line["subtotal"]) == (2, "1234.56", "2469.12")
    assert line["chargeType"] == "new"
    assert line["customerId"] == customer and line["customerCountry"] == "FR"
    assert line["subscriptionId"] == first["lineItems"][0]["subscriptionId"]
    fetched = billing.get(f"/v1/invoices/{november_eur['id']}").json()
    assert fetched["totalCharges"] == "3703.68" and fetched["billingPeriodEndDate"] == "2026-12-01T00:00:00Z"
    assert december["creationDate"] == "2026-12-04T10:00:00Z"
    unknown = billing.get("/v1/invoices/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404 and unknown.json()["code"] == 4000


def test_an_open_period_cannot_be_paid(shop, actors):
    shop.buy(shop.customer("FR"), software_line())
    operator = actors(Role.operator)
    [invoice] = operator.get("/v1/invoices").json()["items"]
    refused = operator.post(f"/v1/invoices/{invoice['id']}/payments")
    assert refused.status_code == 409 and refused.json()["code"] == 4005


def test_the_billing_admin_keeps_the_billing_profile(actors, shop):
    _partner_of(shop)
    billing = actors(Role.billing_admin)
    assert billing.get("/v1/profiles/billing").json()["companyName"] == "Contoso Reseller"
    updated = billing.put("/v1/profiles/billing",
                          json={"companyName": "Contoso Reseller SAS", "email": "AP@contoso.example", "country": "fr"})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["companyName"], updated.json()["email"], updated.json()["country"]) == \
        ("Contoso Reseller SAS", "ap@contoso.example", "FR")
    assert billing.put("/v1/profiles/billing", json={"companyName": " "}).json()["code"] == 4006
    assert actors(Role.operator).get("/v1/profiles/billing").json()["code"] == 4006


def test_the_reconciliation_export_lists_every_line_of_the_period(shop, actors, cli, clock):
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line(quantity=3))["orders"][0]
    rival = actors(Role.sales_agent, partner="Rival Reseller")
    rival_customer = rival.post("/v1/customers", json={
        "companyProfile": {"domain": "rival-client.example.com", "companyName": "Rival Client"},
        "billingProfile": {"companyName": "Rival Client", "email": "it@rival.example", "culture": "en-US",
                           "language": "en", "defaultAddress": {"country": "US"}}}).json()["id"]
    shop.buy(rival_customer, software_line(OFFICE_US, quantity=2), caller=rival)
    clock.advance(timedelta(days=10))
    shop.buy(customer, software_line())  # December: not in the November export

    everyone = cli("billing", "export", "--period", "2026-11")
    assert everyone.exit_code == 0, everyone.output
    rows = list(csv.DictReader(io.StringIO(everyone.stdout)))
    assert [(row["PartnerName"], row["Currency"], row["Subtotal"]) for row in rows] == \
        [("Contoso Reseller", "EUR", "3703.68"), ("Rival Reseller", "USD", "1999.98")]
    ours = rows[0]
    assert ours["OrderId"] == order["id"] and ours["CustomerId"] == customer
    assert (ours["ProductId"], ours["SkuId"], ours["AvailabilityId"]) == ("DG7GMGF0DVT5", "0001", "0002")
    assert (ours["UnitPrice"], ours["Quantity"], ours["ChargeType"], ours["BillingPeriod"]) == \
        ("1234.56", "3", "new", "2026-11")
    assert ours["OrderDate"] == "2026-11-24T10:00:00Z" and ours["TermAndBillingCycle"] == "perpetual one_time"

    one = cli("billing", "export", "--period", "2026-11", "--partner", "Rival Reseller")
    assert [row["CustomerId"] for row in csv.DictReader(io.StringIO(one.stdout))] == [rival_customer]
    empty = cli("billing", "export", "--period", "2025-01")
    assert empty.exit_code == 0 and empty.stdout.strip().split(",")[0] == "PartnerId"
    assert cli("billing", "export", "--period", "2026-13").exit_code == 1
    assert cli("billing", "export", "--period", "2026-11", "--partner", "Nobody").exit_code == 1


def test_a_cancellation_next_month_is_a_credit_in_that_months_export(shop, actors, cli, clock):
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line(quantity=3))["orders"][0]
    clock.advance(timedelta(days=10))  # 4 December
    cancelled = actors(Role.admin_agent).patch(f"/v1/customers/{customer}/orders/{order['id']}",
                                              json={"status": "cancelled", "lineItems": [{"lineItemNumber": 0}]})
    assert cancelled.status_code == 200, cancelled.text

    november = list(csv.DictReader(io.StringIO(cli("billing", "export", "--period", "2026-11").stdout)))
    december = list(csv.DictReader(io.StringIO(cli("billing", "export", "--period", "2026-12").stdout)))
    assert [(row["ChargeType"], row["Quantity"], row["Subtotal"]) for row in november] == [("new", "3", "3703.68")]
    [credit] = december
    assert (credit["ChargeType"], credit["UnitPrice"], credit["Quantity"], credit["Subtotal"]) == \
        ("cancel", "1234.56", "-3", "-3703.68")
    assert (credit["OrderId"], credit["OrderDate"]) == (order["id"], "2026-11-24T10:00:00Z")
    assert (credit["BillingPeriod"], credit["ChargeStartDate"]) == ("2026-12", "2026-12-04T10:00:00Z")
