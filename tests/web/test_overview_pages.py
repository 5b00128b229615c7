"""The Orders and Subscriptions views across customers, for the roles that read purchases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.web.listing import DEFAULT_PAGE_SIZE
from tests.orders.factories import OFFICE_FR, VISIO_FR_ANNUAL, Shop, load_catalog, software_line
from tests.support.actors import customer_body
from tests.support.portal import signed_in

READERS = [Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent]


def add_customer(caller, company: str) -> str:
    response = caller.post("/v1/customers", json=customer_body(company_name=company))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def annual_line() -> dict:
    return software_line(VISIO_FR_ANNUAL, billingCycle="annual", termDuration="P1Y")


@pytest.fixture
def purchases(desk, actors, clock):
    """Contoso buys for Fabrikam, a day later for Northwind; Rival buys for its own customer."""
    load_catalog(desk)
    sales, rival = actors(Role.sales_agent), actors(Role.sales_agent, "Rival")
    shop = Shop(desk=desk, buyer=sales)
    fabrikam, northwind = add_customer(sales, "Fabrikam"), add_customer(sales, "Northwind Traders")
    first = shop.buy(fabrikam, software_line(OFFICE_FR))["orders"][0]["id"]
    clock.advance(timedelta(days=1))
    second = shop.buy(northwind, annual_line())["orders"][0]["id"]
    rival_client = add_customer(rival, "Rival Client")
    theirs = Shop(desk=desk, buyer=rival).buy(rival_client, software_line(OFFICE_FR))
    return {"shop": shop, "fabrikam": fabrikam, "northwind": northwind, "first": first, "second": second,
            "theirs": theirs["orders"][0]["id"], "rival_client": rival_client}


@pytest.mark.parametrize("role", [Role.admin_agent, Role.sales_agent, Role.helpdesk_agent])
def test_an_agent_sees_every_order_and_subscription_of_its_partner(app, desk, purchases, role):
    browser = signed_in(app, desk, role)
    orders = browser.page("/orders")
    assert orders.status_code == 200 and orders.h1 == "Orders"
    assert orders.shows("2 orders")
    assert orders.html.index(purchases["second"]) < orders.html.index(purchases["first"])  # newest first
    assert f'href="/customers/{purchases["fabrikam"]}/orders/{purchases["first"]}"' in orders.html
    assert orders.shows("Northwind Traders") and orders.shows("Fabrikam")
    assert purchases["theirs"] not in orders.html and not orders.shows("Rival Client")
    assert orders.shows("Completed") and orders.shows("€")
    subscriptions = browser.page("/subscriptions")
    assert subscriptions.status_code == 200 and subscriptions.h1 == "Subscriptions"
    assert subscriptions.shows("2 subscriptions") and not subscriptions.shows("Rival Client")
    assert subscriptions.shows("In force") and subscriptions.shows("Annual")
    assert 'href="/orders"' in orders.html and 'href="/subscriptions"' in orders.html  # in the navigation


def test_the_operator_sees_every_partner_and_narrows_to_one(app, desk, actors, purchases):
    browser = signed_in(app, desk, Role.operator)
    orders = browser.page("/orders")
    assert orders.shows("3 orders") and orders.shows("Rival Client")
    assert orders.shows("Contoso Reseller") and orders.shows("Rival")
    rival_partner = actors(Role.sales_agent, "Rival").get("/v1/customers").json()["items"][0]["partnerId"]
    narrowed = browser.page(f"/orders?partner={rival_partner}")
    assert narrowed.shows("1 order") and narrowed.shows("Partner: Rival")
    assert purchases["theirs"] in narrowed.html and purchases["first"] not in narrowed.html
    assert browser.page(f"/subscriptions?partner={rival_partner}").shows("1 subscription")


def test_a_billing_admin_is_refused_as_by_the_api(app, desk, purchases):
    browser = signed_in(app, desk, Role.billing_admin)
    assert browser.get("/orders").status_code == 403
    assert browser.get("/subscriptions").status_code == 403
    assert 'href="/orders"' not in browser.page("/").html


def test_an_agent_cannot_read_another_partners_purchases_through_the_filters(app, desk, actors, purchases):
    rival_partner = actors(Role.sales_agent, "Rival").get("/v1/customers").json()["items"][0]["partnerId"]
    browser = signed_in(app, desk, Role.admin_agent)
    page = browser.page(f"/orders?partner={rival_partner}&customer=rival")
    assert page.shows("No order matches these filters.")
    assert purchases["theirs"] not in page.html
    # The links these lists make lead nowhere for another partner's order: it is not found, as in the API.
    assert browser.get(f"/customers/{purchases['rival_client']}/orders/{purchases['theirs']}").status_code == 404


@pytest.mark.both_engines
def test_filters_by_status_customer_and_date(app, desk, actors, purchases, clock):
    browser = signed_in(app, desk, Role.sales_agent)
    by_customer = browser.page("/orders?customer=north")
    assert purchases["second"] in by_customer.html and purchases["first"] not in by_customer.html
    today = clock.now().date()
    yesterday = browser.page(f"/orders?from={today - timedelta(days=1)}&to={today - timedelta(days=1)}")
    assert purchases["first"] in yesterday.html and purchases["second"] not in yesterday.html
    assert browser.page("/orders?status=cancelled").shows("No order matches these filters.")
    cancelled = actors(Role.admin_agent).patch(f"/v1/customers/{purchases['fabrikam']}/orders/{purchases['first']}",
                                                json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    page = browser.page("/orders?status=cancelled")
    assert purchases["first"] in page.html and purchases["second"] not in page.html
    assert '<option value="cancelled" selected>' in page.html
    ended = browser.page("/subscriptions?status=deleted")
    assert ended.shows("1 subscription") and ended.shows("Ended")
    assert browser.page("/subscriptions?status=active&customer=fabrikam").shows(
        "No subscription matches these filters.")


def test_a_wrong_date_is_named_beside_its_field_and_the_filters_are_kept(app, desk, purchases):
    browser = signed_in(app, desk, Role.sales_agent)
    page = browser.page("/orders?from=2026-11-31&customer=north")
    assert page.status_code == 400
    assert page.field_errors == {"from": "Enter a date such as 2026-11-24."}
    assert page.shows("Placed from: enter a date such as 2026-11-24.")
    assert 'value="north"' in page.html and 'value="2026-11-31"' in page.html
    backwards = browser.page("/subscriptions?from=2026-11-24&to=2026-11-01")
    assert backwards.status_code == 400
    assert backwards.field_errors == {"to": "Enter an end date on or after the start date."}


def test_a_long_list_is_paged_and_keeps_its_filters(app, desk, purchases):
    shop: Shop = purchases["shop"]
    for _ in range(DEFAULT_PAGE_SIZE):
        shop.buy(purchases["fabrikam"], software_line(OFFICE_FR))
    browser = signed_in(app, desk, Role.sales_agent)
    first = browser.page("/orders?customer=fabrikam")
    assert first.shows(f"{DEFAULT_PAGE_SIZE + 1} orders")
    assert first.html.count('<th scope="row">') == DEFAULT_PAGE_SIZE
    assert 'href="/orders?customer=fabrikam&amp;page=2"' in first.html
    second = browser.page("/orders?customer=fabrikam&page=2")
    assert second.html.count('<th scope="row">') == 1 and second.shows("Page 2 of 2")


def test_the_views_in_french(app, desk, purchases):
    browser = signed_in(app, desk, Role.sales_agent, accept_language="fr")
    orders = browser.page("/orders")
    assert orders.h1 == "Commandes" and orders.shows("2 commandes") and orders.shows("Tous les états")
    assert orders.shows("Passée à partir du")
    subscriptions = browser.page("/subscriptions")
    assert subscriptions.h1 == "Abonnements" and subscriptions.shows("2 abonnements")
    assert subscriptions.shows("Actif")
