"""Cancelling an order line in a real browser (Debian's headless Chromium), without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from partnerdesk.accounts.models import Role
from tests.orders.factories import Shop, software_line
from tests.support.portal import PASSWORD, new_agent
from tests.web.conftest import base_url, browser_type_launch_args  # noqa: F401  (Debian's Chromium, no download)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}])
def test_an_admin_agent_cancels_a_line_on_the_order_page(page: Page, live_server, desk, shop: Shop):
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line(quantity=2), software_line(line_id=1))["orders"][0]
    email = new_agent(desk, Role.admin_agent, name="Adele Admin")
    page.goto(f"{live_server}/customers/{customer}/orders/{order['id']}")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Order {order['id']}")).to_be_visible()
    expect(page.get_by_text("Can be cancelled until")).to_be_visible()

    page.get_by_label("Cancel line 1").check()
    page.get_by_label("Reason (optional)").fill("Bought by mistake")
    page.get_by_role("button", name="Cancel selected lines").click()
    # The confirmation names the line, the credit and the days left before anything changes.
    expect(page.get_by_role("heading", name="Cancel these lines?")).to_be_visible()
    expect(page.locator("dl.details")).to_contain_text("€2,469.12")
    expect(page.locator("dl.details")).to_contain_text("60")
    page.get_by_role("button", name="Cancel purchase").click()

    expect(page.get_by_role("status")).to_contain_text("Line 1 was cancelled; the partner is credited €2,469.12.")
    rows = page.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("Cancelled")
    expect(rows.nth(1)).to_contain_text("Active")
    expect(page.get_by_label("Cancel line 1")).to_have_count(0)
    expect(page).to_have_url(re.compile(f"/orders/{order['id']}$"))
    expect(rows.nth(0)).to_contain_text("Reason: Bought by mistake")
    expect(page.locator("dl.details")).to_contain_text("Total after credits")
