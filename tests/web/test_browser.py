"""The portal in a real browser (Debian's headless Chromium): sign in, add a customer, read it in French."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from partnerdesk.accounts.models import Role
from tests.support.portal import PASSWORD, new_agent

pytestmark = pytest.mark.browser


# One database engine is enough here: what the browser adds is rendering and form handling,
# which the engine does not change; every page's behaviour runs on both engines elsewhere.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_agent_signs_in_adds_a_customer_and_switches_to_french(page: Page, live_server, desk, output_path):
    email = new_agent(desk, Role.admin_agent, name="Adele Admin")
    page.goto(f"{live_server}/customers?q=fabrikam")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fcustomers%3Fq%3Dfabrikam$"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/customers\?q=fabrikam$"))
    expect(page.get_by_text("No customer matches “fabrikam”.")).to_be_visible()
    expect(page.get_by_text("Adele Admin")).to_be_visible()

    page.get_by_role("link", name="Add customer").click()
    expect(page.get_by_role("heading", name="Add customer", level=1)).to_be_visible()
    page.get_by_label("Company name").fill("Fabrikam France")
    page.get_by_label("Domain").fill("not a domain")
    page.get_by_label("Email address").fill("it@fabrikam.fr")
    page.get_by_label("City").fill("Lyon")
    page.get_by_label("Country").select_option("FR")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#domain-error")).to_contain_text("Enter a domain name such as fabrikam.onmicrosoft.com.")
    expect(page.get_by_label("Company name")).to_have_value("Fabrikam France")
    screenshots = Path(output_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=screenshots / "add-customer-refused.png", full_page=True)

    page.get_by_label("Domain").fill("fabrikam-fr.onmicrosoft.com")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("status")).to_contain_text("Customer Fabrikam France was added.")
    expect(page.get_by_role("heading", name="Fabrikam France", level=1)).to_be_visible()

    page.get_by_role("link", name="All customers").click()
    page.get_by_label("Search by company name or domain").fill("fabrikam")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row", name=re.compile("Fabrikam France"))).to_contain_text("France")

    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Ajouter un client")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Fabrikam France"))).to_be_visible()
    expect(page.get_by_text("Agent administrateur")).to_be_visible()
    page.screenshot(path=screenshots / "customers-in-french.png", full_page=True)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion à Partner Desk")).to_be_visible()
