"""The whole refund flow in a real browser (Debian's headless Chromium), without JavaScript: an admin agent buys
software, gets its key and link, files a refund through "Report a problem", the operator approves it, and the
agent sees the key revoked. Screenshots of each page go to PARTNERDESK_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from partnerdesk.accounts.models import Role
from tests.software.conftest import software  # noqa: F401 - the fixture
from tests.software.factories import SoftwareShop
from tests.support.portal import PASSWORD, new_agent
from tests.web.conftest import base_url, browser_type_launch_args  # noqa: F401  (Debian's Chromium, no download)

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("PARTNERDESK_SCREENSHOTS")


def _snap(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def _sign_in(page: Page, live_server: str, email: str, path: str) -> None:
    page.goto(f"{live_server}{path}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/signin'] button[type=submit]").click()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}])
def test_a_refund_filed_by_the_agent_and_approved_by_the_operator_revokes_the_key(
        page: Page, browser: Browser, live_server, desk, software: SoftwareShop):  # noqa: F811
    software_id = software.buy()
    admin_email = new_agent(desk, Role.admin_agent, name="Adele Admin", language="en")
    _sign_in(page, live_server, admin_email, f"/customers/{software.customer_id}/software?software={software_id}"
             "&version=2024&language=fr&file_type=ISO")
    product = page.locator(f"#software-{software_id}")
    product.get_by_role("button", name="Get keys and downloads").click()
    product = page.locator(f"#software-{software_id}")
    expect(product.locator(".product-key")).to_have_count(1)
    _snap(page, "refund-1-keys")

    product.get_by_role("link", name="Cancel: report a problem to ask for a refund").click()
    expect(page.get_by_role("heading", name="Report a problem")).to_be_visible()
    expect(page.get_by_label("Issue type")).to_have_value("1001")
    expect(page.locator("#amount")).to_have_value("1234.56")
    page.locator("#title").fill("Refund: Office bought twice")
    page.locator("#description").fill("The customer already had Office 2024.")
    page.locator("#reason").select_option("purchased_by_mistake")
    page.locator("#phone").fill("+33 4 72 00 00 00")
    page.locator("#files").set_input_files(files=[{"name": "invoice.txt", "mimeType": "text/plain",
                                                       "buffer": b"Invoice 42, paid twice."}])
    _snap(page, "refund-2-report-a-problem")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("status")).to_contain_text("Your request was submitted")
    expect(page.get_by_role("link", name="invoice.txt")).to_be_visible()
    request_url = page.url
    assert re.search(r"/support/[0-9a-f-]{36}$", request_url)
    _snap(page, "refund-3-request")

    operator = browser.new_context(java_script_enabled=False).new_page()
    _sign_in(operator, live_server, new_agent(desk, Role.operator, name="Olga Operator", language="en"),
             "/support?queue=refunds")
    expect(operator.get_by_role("heading", name="Refund queue")).to_be_visible()
    operator.get_by_role("link", name="Refund: Office bought twice").click()
    _snap(operator, "refund-4-operator-queue")
    operator.get_by_label("Note to the partner").fill("Checked with Microsoft.")
    operator.get_by_role("button", name="Approve and credit").click()
    expect(operator.get_by_role("status")).to_contain_text("The refund was approved")
    expect(operator.get_by_text("Refund approved: 1234.56 EUR credited")).to_be_visible()
    _snap(operator, "refund-5-approved")

    page.goto(request_url)
    expect(page.locator("dl").first).to_contain_text("Closed")
    page.goto(f"{live_server}/customers/{software.customer_id}/software?software={software_id}")
    expect(page.locator(f"#software-{software_id} summary")).to_contain_text("Cancelled — keys revoked")
    _snap(page, "refund-6-key-revoked")
