"""The portal's "Add to cart" for Reserved Instances: a per-region SKU shows its region and does not ask it;
a multi-region SKU asks, as before. Pages only: the purchase itself runs on every engine in test_regions.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.orders.models import CartLineItem
from tests.orders.factories import RI_FR_1Y
from tests.support.portal import Page, signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _rows(html: str) -> dict[str, str]:
    """Each catalog row's HTML by the catalogItemId its form posts."""
    rows = re.findall(r"<tr[ >].*?</tr>", html, flags=re.S)
    return {match.group(1): row for row in rows
            if (match := re.search(r'name="catalog_item_id" value="([^"]+)"', row))}


@pytest.mark.parametrize(("language", "region"), [("en", "France Central"), ("fr", "France Centre")])
def test_a_per_region_sku_shows_its_region_and_a_multi_region_sku_asks_for_one(app, desk, shop, per_region_item,
                                                                              language, region):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    browser = signed_in(app, desk, Role.sales_agent, accept_language=language)

    page = browser.page(f"/customers/{customer}/catalog?view=AzureReservationsVM")

    rows = _rows(page.html)
    assert region in rows[per_region_item] and 'name="region"' not in rows[per_region_item]
    assert 'name="region"' in rows[RI_FR_1Y] and "francecentral" not in page.text
    # Two rows of one size in two regions would read alike: the region is in the button's name.
    assert re.search(rf'aria-label="[^"]*D8s v5, {region}, ', rows[per_region_item])


def test_adding_a_per_region_sku_puts_its_region_in_the_cart(app, desk, shop, per_region_item):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    browser = signed_in(app, desk, Role.sales_agent)

    added = browser.post(f"/customers/{customer}/catalog", {
        "catalog_item_id": per_region_item, "quantity": "2", "billing_cycle": "one_time", "term_duration": "P1Y",
        "scope": "Shared", "filter_view": "AzureReservationsVM"})
    assert added.status_code == 303, added.text
    asked = browser.post(f"/customers/{customer}/catalog", {
        "catalog_item_id": RI_FR_1Y, "quantity": "1", "billing_cycle": "one_time", "term_duration": "P1Y",
        "scope": "Shared", "region": "northeurope", "filter_view": "AzureReservationsVM"})
    assert asked.status_code == 303, asked.text

    with desk.database.session(write=False) as db:  # the agent's one open cart holds both lines
        lines = db.scalars(select(CartLineItem)).all()
        regions = {line.catalog_item_id: line.provisioning_context["region"] for line in lines}
    assert regions == {per_region_item: "francecentral", RI_FR_1Y: "northeurope"}


def test_a_multi_region_sku_without_a_region_is_refused_beside_the_field(app, desk, shop):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    browser = signed_in(app, desk, Role.sales_agent)
    refused = browser.post(f"/customers/{customer}/catalog", {
        "catalog_item_id": RI_FR_1Y, "quantity": "1", "billing_cycle": "one_time", "term_duration": "P1Y",
        "scope": "Shared", "filter_view": "AzureReservationsVM"})
    assert refused.status_code == 400
    assert Page.of(refused).field_errors == {"region": "Choose a region where this size can be reserved."}
