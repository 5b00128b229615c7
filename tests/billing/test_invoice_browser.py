"""The invoice page in a real browser (Debian's headless Chromium), in English and in French, with
screenshots kept beside the other browser tests' (pytest-playwright's output folder)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from partnerdesk.accounts.models import Role
from tests.billing.recurring_support import run_worker
from tests.orders.factories import software_line
from tests.support.portal import PASSWORD, new_agent
from tests.web.conftest import base_url, browser_type_launch_args  # noqa: F401 - Debian's Chromium

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_invoice_page_in_english_and_french(page: Page, live_server, desk, shop, clock, actors, output_path):
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line(quantity=2))["orders"][0]
    clock.advance(timedelta(days=7))
    run_worker(desk)  # November's invoice closes as PD-2026-000001
    actors(Role.admin_agent).patch(f"/v1/customers/{customer}/orders/{order['id']}", json={"status": "cancelled"})
    email = new_agent(desk, Role.billing_admin, name="Bea Billing")
    page.goto(f"{live_server}/invoices")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Invoices", level=1)).to_be_visible()
    page.get_by_role("link", name="PD-2026-000001").click()
    expect(page.get_by_role("heading", name="Invoice PD-2026-000001", level=1)).to_be_visible()
    expect(page.locator("dl.details")).to_contain_text("November 2026")
    expect(page.locator("dl.details")).to_contain_text("€2,962.94")
    expect(page.get_by_role("row", name=re.compile("Office LTSC"))).to_contain_text("Charge: purchase")
    with page.expect_download() as download:
        page.get_by_role("link", name="Statement (PDF)").click()
    assert download.value.suggested_filename == "PD-2026-000001.pdf"
    screenshots = Path(output_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=screenshots / "invoice-english.png", full_page=True)

    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Facture PD-2026-000001", level=1)).to_be_visible()
    expect(page.locator("dl.details")).to_contain_text("novembre 2026")
    expect(page.locator("dl.details")).to_contain_text("Total TTC")
    expect(page.get_by_role("link", name="Fichier de rapprochement (CSV)")).to_be_visible()
    page.screenshot(path=screenshots / "invoice-french.png", full_page=True)

    page.get_by_role("link", name="Toutes les factures").click()
    page.get_by_role("link", name=re.compile("Facture en cours de décembre 2026")).click()
    expect(page.get_by_role("row", name=re.compile("Office LTSC"))).to_contain_text("Avoir : annulation")
    page.screenshot(path=screenshots / "invoice-credit-french.png", full_page=True)
