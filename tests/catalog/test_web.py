"""The "Add products" tab: a customer's catalog by target view, priced in the customer's market."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from tests.orders.factories import OFFICE_FR, RI_FR_1Y, Shop, load_catalog
from tests.support.portal import signed_in


@pytest.fixture
def shop(desk, actors) -> Shop:
    load_catalog(desk)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))


def test_a_sales_agent_browses_a_french_customers_catalog_in_euros(app, desk, shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent)
    page = browser.page(f"/customers/{customer_id}/catalog")
    assert page.status_code == 200
    assert f'href="/customers/{customer_id}/catalog" aria-current="page">Add products' in page.html
    assert page.shows("Office LTSC Professional Plus 2024")
    assert page.shows("€1,234.56") and page.shows("Visio Plan 2") and page.shows("€120.00")
    assert f'value="{OFFICE_FR}"' in page.html
    assert not page.shows("$999.99")
    assert "csrf_token" in page.html


def test_reserved_instances_show_scope_subscription_and_region(app, desk, shop):
    customer_id = shop.customer("FR")
    subscription_id = shop.azure_subscription(customer_id)
    page = signed_in(app, desk, Role.admin_agent).page(f"/customers/{customer_id}/catalog?view=AzureReservationsVM")
    assert page.status_code == 200
    assert f'value="{RI_FR_1Y}"' in page.html
    assert page.shows("D4s v5")
    assert f'<option value="{subscription_id}">' in page.html
    assert '<option value="westeurope">' in page.html and '<option value="Single">' in page.html


def test_a_brazilian_customer_sees_no_reserved_instance_and_the_r1_notice(app, desk, shop):
    customer_id = shop.customer("BR")
    page = signed_in(app, desk, Role.sales_agent).page(f"/customers/{customer_id}/catalog?view=AzureReservations")
    assert page.status_code == 200
    assert page.shows("Reserved Instances are not sold in this customer's market (Brazil).")
    assert not page.shows("D4s v5")
    software = signed_in(app, desk, Role.sales_agent).page(f"/customers/{customer_id}/catalog?view=Software")
    assert software.shows("R$500.10")


def test_the_catalog_speaks_french(app, desk, shop):
    customer_id = shop.customer("FR")
    page = signed_in(app, desk, Role.sales_agent, accept_language="fr").page(f"/customers/{customer_id}/catalog")
    assert page.shows("Ajouter des produits")
    assert page.shows("1\u202f234,56\u00a0€") or page.shows("1 234,56 €")


def test_helpdesk_and_operator_may_not_add_products(app, desk, shop):
    customer_id = shop.customer("FR")
    for role in (Role.helpdesk_agent, Role.operator):
        browser = signed_in(app, desk, role)
        assert browser.get(f"/customers/{customer_id}/catalog").status_code == 403
        assert f"/customers/{customer_id}/catalog" not in browser.page(f"/customers/{customer_id}").html


def test_an_unknown_view_is_a_400_page(app, desk, shop):
    customer_id = shop.customer("FR")
    response = signed_in(app, desk, Role.sales_agent).get(f"/customers/{customer_id}/catalog?view=Nope")
    assert response.status_code == 400
