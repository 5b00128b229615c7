"""The Hybrid Benefit calculator in a real browser (Debian's headless Chromium), without JavaScript."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from partnerdesk.accounts.models import Role
from tests.support.portal import PASSWORD, new_agent
from tests.web.conftest import base_url, browser_type_launch_args  # noqa: F401  (Debian's Chromium, no download)

pytestmark = pytest.mark.browser


def _sign_in(page: Page, live_server: str, desk, path: str, language: str) -> None:
    email = new_agent(desk, Role.sales_agent, name="Samuel Sales", language=language)
    page.goto(f"{live_server}{path}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/signin'] button[type=submit]").click()


def _fill_fleet(page: Page, *, name: str, size: str, licences: str, software_assurance: str,
                reservation: str, term: str, calculate: str) -> None:
    first = page.get_by_role("group", name=re.compile(r"1$")).first
    first.get_by_label(name).fill("web")
    first.get_by_label(re.compile("^VM")).fill("2")
    first.get_by_label("vCPU").fill("8")
    first.locator("#vm0_windows").fill("0.20")
    first.locator("#vm0_base").fill("0.12")
    page.locator("#vm1_name").fill("app")
    page.locator("#vm1_count").fill("3")
    page.get_by_label(size).nth(1).select_option("Standard_D4s_v5@westeurope")
    page.locator("#lic0_cores").fill("16")
    page.get_by_label(software_assurance).first.check()
    page.get_by_label(reservation, exact=True).select_option("P1Y")
    page.get_by_role("button", name=calculate).click()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}])
def test_a_sales_agent_fills_a_fleet_sees_the_chart_and_fills_a_cart(page: Page, live_server, desk, market,
                                                                      output_path):
    customer = market.customer("FR")
    market.azure_subscription(customer)
    _sign_in(page, live_server, desk, f"/customers/{customer}", "en")
    page.get_by_role("navigation", name="Customer sections").get_by_role("link", name="Hybrid Benefit").click()
    expect(page.get_by_role("heading", name="Hybrid Benefit calculator")).to_be_visible()

    _fill_fleet(page, name="Name", size="Size and region", licences="Core licences",
                software_assurance="Software Assurance", reservation="Reservation", term="1 year",
                calculate="Calculate")

    chart = page.get_by_role("img", name="Monthly cost compared")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(4)
    expect(chart).to_contain_text("€1,067.26")
    expect(chart).to_contain_text("€704.30")
    expect(page.get_by_text("Hybrid Benefit saves €207.32 a month (19.4%).")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^app"))).to_contain_text("2 of 3")
    screenshots = Path(output_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=screenshots / "hybrid-benefit-calculator.png", full_page=True)

    # Printed, the page keeps the result and leaves the form, the navigation and the buttons out.
    page.emulate_media(media="print")
    expect(page.locator("form.ahb-form")).to_be_hidden()
    expect(page.get_by_role("button", name="Add products with these suggestions")).to_be_hidden()
    expect(chart).to_be_visible()
    page.screenshot(path=screenshots / "hybrid-benefit-print.png", full_page=True)
    page.emulate_media(media="screen")

    page.get_by_role("button", name="Add products with these suggestions").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer}/carts/[0-9a-f-]+$"))
    expect(page.get_by_role("status")).to_contain_text("A cart was made with the suggested products")
    reserved = page.get_by_role("row", name=re.compile("Reserved VM Instance, Dsv5 Series, D4s v5"))
    expect(reserved).to_contain_text("1 year")
    expect(reserved.get_by_role("spinbutton")).to_have_value("3")
    licences = page.get_by_role("row", name=re.compile("Windows Server 2022 Standard - 16 Core License Pack"))
    expect(licences.get_by_role("spinbutton")).to_have_value("2")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}])
def test_the_calculator_in_french(page: Page, live_server, desk, market, output_path):
    _sign_in(page, live_server, desk, "/hybridbenefit", "fr")
    expect(page.get_by_role("heading", name="Calculateur Azure Hybrid Benefit")).to_be_visible()
    _fill_fleet(page, name="Nom", size="Taille et région", licences="Licences de cœur",
                software_assurance="Software Assurance", reservation="Réservation", term="1 an",
                calculate="Calculer")
    chart = page.get_by_role("img", name="Coût mensuel comparé")
    expect(chart).to_contain_text("1\u202f067,26\xa0€")
    expect(page.get_by_text("Azure Hybrid Benefit économise 207,32\xa0€ par mois (19,4 %).")).to_be_visible()
    screenshots = Path(output_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=screenshots / "hybrid-benefit-calculator-fr.png", full_page=True)
