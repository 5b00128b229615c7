"""The catalog's Reserved Instance rows in Debian's headless Chromium, in English and French: a per-region SKU
shows its region and is added to the cart without one; the page keeps no axe-core WCAG 2.1 A/AA violation.
Screenshots go where pytest-playwright puts every browser test's (`output_path`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from partnerdesk.accounts.models import Role
from tests.support.portal import PASSWORD, new_agent
from tests.web.conftest import base_url, browser_type_launch_args  # noqa: F401 (Debian's Chromium, as tests/web)
from tests.web.test_axe import axe_source, violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# The per-region row's region, the flash after adding it and the link to the cart, in each language.
WORDS = {
    "en": ("France Central", "The product was added to the cart", "Review the cart"),
    "fr": ("France Centre", "Le produit a été ajouté au panier", "Voir le panier"),
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_per_region_reserved_instance_is_added_without_choosing_a_region(page: Page, live_server, desk, shop,
                                                                           per_region_item, output_path, language):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    page.goto(f"{live_server}/signin")
    page.locator("#email").fill(new_agent(desk, Role.sales_agent, language=language))
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator(".agent").wait_for()
    region, added, view_cart = WORDS[language]

    page.goto(f"{live_server}/customers/{customer}/catalog?view=AzureReservationsVM")

    row = page.locator("tr", has=page.locator(f'input[name="catalog_item_id"][value="{per_region_item}"]'))
    expect(row).to_contain_text(region)
    expect(row.locator('select[name="region"]')).to_have_count(0)
    assert violations(page, axe_source()) == []
    screenshots = Path(output_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=screenshots / f"catalog-per-region-ri-{language}.png", full_page=True)

    row.locator("button[type=submit]").click()

    expect(page.locator("main")).to_contain_text(added)
    page.get_by_role("link", name=view_cart).click()
    line = page.locator("tr", has_text="D8s v5")
    expect(line).to_contain_text(region)  # the reservation's region, taken from the SKU
    page.screenshot(path=screenshots / f"cart-per-region-ri-{language}.png", full_page=True)
