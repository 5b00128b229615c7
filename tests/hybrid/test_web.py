"""The calculator pages: on their own and as a customer's tab, in English and French, without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.customers.api import READERS
from tests.support.portal import Page, signed_in

# Two 8-vCPU VMs on own rates, three D4s v5 from the rate table, 16 Standard cores with SA, a 1-year term.
FLEET = {"vm0_name": "web", "vm0_count": "2", "vm0_vcpus": "8", "vm0_windows": "0.20", "vm0_base": "0,12",
         "vm1_name": "app", "vm1_count": "3", "vm1_size": "Standard_D4s_v5@westeurope",
         "lic0_edition": "Standard", "lic0_cores": "16", "lic0_sa": "yes", "term": "P1Y", "calculate": "1"}


def _query(**changes: str) -> str:
    return urlencode({**FLEET, **changes})


@pytest.mark.parametrize("role", list(Role))
def test_every_role_opens_the_calculator_and_sees_the_chart(app, desk, market, role):
    page = signed_in(app, desk, role).page(f"/hybridbenefit?{_query()}")
    assert page.status_code == 200
    assert page.h1 == "Hybrid Benefit calculator"
    # web: 2 × 730 × 0.20 = 292.00; app: 3 × 730 × 0.354 = 775.26; together 1,067.26 pay-as-you-go.
    # 16 cores go to app first (12.96 a core against 7.30): 2 of its 3 VMs at 0.212, saving 207.32.
    assert page.shows("Hybrid Benefit saves €207.32 a month (19.4%).")
    svg = re.search(r"<svg.*?</svg>", page.html, re.S).group(0)
    assert svg.count("<rect") == 4
    drawn = " ".join(re.sub(r"<desc.*?</desc>|<[^>]+>", " ", svg, flags=re.S).split())
    for label, amount in (("Pay-as-you-go", "€1,067.26"), ("With Hybrid Benefit", "€859.94"),
                          ("With reservation", "€911.62"), ("Hybrid Benefit and reservation", "€704.30")):
        assert f"{amount} {label}" in drawn
    assert 'role="img"' in svg and "<title id=\"chart-title\">Monthly cost compared</title>" in svg
    assert page.shows("Covered in turn 1 (saves €12.96 a month per core licence)")
    assert page.shows("Reserved for 1 year: 33.5% off the base compute rate")
    assert "Add products with these suggestions" not in page.html  # only from a customer's page


def test_the_page_is_french_with_french_numbers(app, desk, market):
    page = signed_in(app, desk, Role.sales_agent, accept_language="fr").page(f"/hybridbenefit?{_query()}")
    assert page.h1 == "Calculateur Azure Hybrid Benefit"
    assert page.shows("Azure Hybrid Benefit économise 207,32 € par mois (19,4 %).")
    svg = re.search(r"<svg.*?</svg>", page.html, re.S).group(0)
    assert "1\u202f067,26\xa0€" in svg and "Paiement à l’usage" in svg
    assert page.shows("Réservé pour 1 an : 33,5 % de remise sur le tarif de base")


def test_a_signed_out_visitor_is_sent_to_sign_in(app, desk):
    from tests.support.portal import PortalBrowser
    response = PortalBrowser.open(app).get("/hybridbenefit")
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def test_a_blank_calculator_shows_the_form_and_no_result(app, desk, market):
    page = signed_in(app, desk, Role.billing_admin).page("/hybridbenefit")
    assert page.status_code == 200
    assert 'name="vm2_name"' in page.html and 'name="lic1_cores"' in page.html
    assert "<svg" not in page.html
    more = signed_in(app, desk, Role.billing_admin).page("/hybridbenefit?vms=3&add=vm")
    assert 'name="vm3_name"' in more.html


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"vm0_vcpus": "0"}, "vm0_vcpus", "Enter the vCPUs of each VM"),
    ({"vm0_count": "two"}, "vm0_count", "Enter a whole number."),
    ({"vm0_windows": "0.10"}, "vm0_windows", "not below the base rate"),
    ({"vm0_base": "abc"}, "vm0_base", "Enter a rate such as 0.354."),
    ({"lic0_cores": "-1"}, "lic0_cores", "Enter a whole number of core licences"),
    ({"hours": "800"}, "hours", "from 1 to 744"),
    ({"vm1_name": "a" * 101}, "vm1_name", "Give the line a name of at most 100 characters."),
])
def test_a_refused_value_is_shown_next_to_its_field(app, desk, market, changes, field, message):
    page = signed_in(app, desk, Role.sales_agent).page(f"/hybridbenefit?{_query(**changes)}")
    assert page.status_code == 400
    assert message in page.field_errors[field]
    assert "There is a problem" in page.text
    assert "<svg" not in page.html


def test_a_size_missing_from_the_rate_table_in_that_currency_is_named(app, desk, market):
    # The demo table has D4s v5 in westeurope in EUR only.
    page = signed_in(app, desk, Role.sales_agent).page(f"/hybridbenefit?{_query(currency='USD')}")
    assert page.status_code == 400
    assert page.field_errors["vm1_size"] == "The rate table has no rate for this size and region in this currency."


@pytest.mark.parametrize("role", list(Role))
def test_the_customer_tab_follows_the_customer_pages_roles(app, desk, market, role):
    customer = market.customer("FR")
    page = signed_in(app, desk, role).page(f"/customers/{customer}/hybridbenefit?{_query()}")
    if role in READERS:
        assert page.status_code == 200
        assert f'href="/customers/{customer}/hybridbenefit"' in page.html
        assert page.shows("Reserved VM Instance, Dsv5 Series, D4s v5, 1 year")
        may_buy = role in (Role.admin_agent, Role.sales_agent)
        assert ("Add products with these suggestions" in page.html) is may_buy
    else:
        assert page.status_code == 403


def test_another_partners_customer_is_not_found(app, desk, market):
    customer = market.customer("FR")
    rival = signed_in(app, desk, Role.admin_agent, partner="Rival Reseller")
    assert rival.get(f"/customers/{customer}/hybridbenefit").status_code == 404
    assert rival.post(f"/customers/{customer}/hybridbenefit/cart", FLEET).status_code == 404
    assert rival.post(f"/customers/{customer}/hybridbenefit/estimates", FLEET).status_code == 404


def test_keeping_an_estimate_stores_it_and_reopens_it(app, desk, market, actors):
    customer = market.customer("FR")
    browser = signed_in(app, desk, Role.helpdesk_agent)
    response = browser.post(f"/customers/{customer}/hybridbenefit/estimates", FLEET)
    assert response.status_code == 303
    page = browser.follow(response)
    assert page.shows("The estimate was kept on this customer.")
    assert 'value="web"' in page.html and page.shows("Hybrid Benefit saves €207.32 a month")
    kept = actors(Role.operator).get(f"/v1/customers/{customer}/hybridbenefit/estimates").json()
    assert kept["totalCount"] == 1
    assert kept["items"][0]["estimate"]["totals"]["saving"] == "207.32"
    assert kept["items"][0]["request"]["vms"][1] == {"name": "app", "count": 3, "size": "Standard_D4s_v5",
                                                    "region": "westeurope"}
    assert page.shows("Kept estimates")


def test_add_products_makes_a_cart_with_the_suggestions(app, desk, market, actors):
    customer = market.customer("FR")
    market.azure_subscription(customer)
    browser = signed_in(app, desk, Role.sales_agent)
    response = browser.post(f"/customers/{customer}/hybridbenefit/cart", FLEET)
    assert response.status_code == 303, Page.of(response).text[:2000]
    cart_url = response.headers["location"]
    found = re.fullmatch(rf"/customers/{customer}/carts/([0-9a-f-]+)", cart_url)
    assert found
    cart = actors(Role.sales_agent).get(f"/v1/customers/{customer}/carts/{found[1]}").json()
    lines = {line["catalogItemId"]: line for line in cart["lineItems"]}
    # The reserved line "app": 3 × D4s v5 for one year in FR (DZH318Z0BXQ7:0001:0003), in westeurope.
    reserved = lines["DZH318Z0BXQ7:0001:0003"]
    assert (reserved["quantity"], reserved["termDuration"]) == (3, "P1Y")
    assert reserved["provisioningContext"]["region"] == "westeurope"
    assert reserved["provisioningContext"]["scope"] == "Shared"
    # Uncovered: web's 2 VMs × 8 + app's third VM × 8 = 24 core licences → 2 packs of 16 of Windows Server 2022
    # Standard in FR (DG7GMGF0DVT5:0001:0002).
    assert lines["DG7GMGF0DVT5:0001:0002"]["quantity"] == 2
    assert len(lines) == 2
    page = browser.follow(response)
    assert page.shows("A cart was made with the suggested products")


def test_a_cart_the_orders_service_refuses_is_explained_and_not_made(app, desk, market, actors):
    customer = market.customer("FR")  # no Azure subscription: a Reserved Instance cannot be in a cart
    response = signed_in(app, desk, Role.admin_agent).post(f"/customers/{customer}/hybridbenefit/cart", FLEET)
    assert response.status_code == 400
    assert Page.of(response).shows("The cart could not be made: This customer has no active Azure subscription")


def test_nothing_to_suggest_makes_no_cart(app, desk, market):
    customer = market.customer("FR")
    covered = {**FLEET, "vm1_name": "", "vm1_count": "", "vm1_size": "", "term": ""}
    response = signed_in(app, desk, Role.admin_agent).post(f"/customers/{customer}/hybridbenefit/cart", covered)
    assert response.status_code == 400
    assert Page.of(response).shows("This estimate suggests nothing to buy")


def test_helpdesk_agents_cannot_make_carts(app, desk, market):
    customer = market.customer("FR")
    response = signed_in(app, desk, Role.helpdesk_agent).post(f"/customers/{customer}/hybridbenefit/cart", FLEET)
    assert response.status_code == 403


def test_the_stylesheet_holds_the_print_rules(app, desk):
    response = signed_in(app, desk, Role.billing_admin).get("/hybridbenefit/calculator.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert "@media print" in response.text


def test_agents_find_the_calculator_from_a_customer(app, desk, market):
    customer = market.customer("FR")
    sales = signed_in(app, desk, Role.sales_agent)
    details = sales.page(f"/customers/{customer}")
    assert f'href="/customers/{customer}/hybridbenefit"' in details.html
    tab = sales.page(f"/customers/{customer}/hybridbenefit")
    assert 'href="/hybridbenefit"' in tab.html and tab.shows("Open the calculator without a customer")
