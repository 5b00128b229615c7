"""Agents, tokens and sessions in Debian's headless Chromium, in English and French, with screenshots: a
token created and revoked, another browser's session ended, a copied cookie refused after sign-out, and
a throttled sign-in saying how long to wait."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from partnerdesk.accounts.models import Role
from partnerdesk.policies import service as policies
from tests.support.portal import PASSWORD, new_agent

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def sign_in(page: Page, live_server: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server}/signin")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main button[type=submit]").click()


def fits_the_viewport(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def screenshots_in(output_path: str) -> Path:
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_an_admin_manages_tokens_and_ends_another_browser_s_session(page: Page, browser: Browser, live_server,
                                                                    desk, output_path):
    shots = screenshots_in(output_path)
    new_agent(desk, Role.admin_agent, name="Adele Admin")
    admin_email = new_agent(desk, Role.admin_agent, name="Adam Admin")
    sales_email = new_agent(desk, Role.sales_agent, name="Sofia Sales")
    elsewhere = browser.new_context()
    sales_page = elsewhere.new_page()
    sign_in(sales_page, live_server, sales_email)
    expect(sales_page.locator(".agent")).to_contain_text("Sofia Sales")

    sign_in(page, live_server, admin_email)
    page.get_by_role("link", name="Agents").click()
    expect(page.get_by_role("heading", name="Agents", level=1)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Sofia Sales"))).to_contain_text("Sales agent")
    assert fits_the_viewport(page)
    page.screenshot(path=shots / "agents-en.png", full_page=True)

    page.get_by_role("link", name="Sofia Sales").click()
    expect(page.get_by_role("heading", name="Sofia Sales", level=1)).to_be_visible()
    page.get_by_role("button", name="Create an API token").click()
    token = page.get_by_label("New API token").input_value()
    assert token.startswith("pdk_")
    page.screenshot(path=shots / "agent-new-token-en.png", full_page=True)
    page.get_by_role("button", name=re.compile(r"^Revoke the token")).click()
    expect(page.get_by_role("status")).to_contain_text(f"The API token {token[:12]}… is revoked.")
    expect(page.get_by_label("New API token")).to_have_count(0)

    expect(page.get_by_role("table", name="1 open session")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^End session")).click()
    expect(page.get_by_role("status")).to_contain_text("The session is ended")
    expect(page.get_by_text("This agent has no open portal session.")).to_be_visible()
    assert fits_the_viewport(page)
    page.screenshot(path=shots / "agent-en.png", full_page=True)
    sales_page.reload()
    expect(sales_page.get_by_role("heading", name="Sign in to Partner Desk")).to_be_visible()

    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", name="Sofia Sales", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Sessions du portail")).to_be_visible()
    page.screenshot(path=shots / "agent-fr.png", full_page=True)
    page.get_by_role("link", name="Tous les agents").click()
    expect(page.get_by_role("columnheader", name="Jetons d’API actifs")).to_be_visible()
    page.screenshot(path=shots / "agents-fr.png", full_page=True)
    elsewhere.close()


def test_the_operator_sees_every_partner(page: Page, live_server, desk, output_path):
    shots = screenshots_in(output_path)
    new_agent(desk, Role.admin_agent, name="Adele Admin")
    new_agent(desk, Role.billing_admin, partner="Rival Reseller", name="Rita Rival")
    sign_in(page, live_server, new_agent(desk, Role.operator, name="Olga Operator"))
    page.goto(f"{live_server}/agents")
    expect(page.get_by_role("table", name=re.compile("Contoso Reseller"))).to_contain_text("Adele Admin")
    expect(page.get_by_role("table", name=re.compile("Rival Reseller"))).to_contain_text("Billing admin")
    expect(page.get_by_role("table", name=re.compile("Operators"))).to_contain_text("Olga Operator")
    page.screenshot(path=shots / "agents-operator-en.png", full_page=True)


def test_a_cookie_copied_into_another_browser_fails_after_sign_out(page: Page, browser: Browser, live_server, desk):
    sign_in(page, live_server, new_agent(desk, Role.sales_agent, name="Sofia Sales"))
    expect(page.locator(".agent")).to_contain_text("Sofia Sales")
    thief = browser.new_context()
    thief.add_cookies(page.context.cookies())
    stolen = thief.new_page()
    stolen.goto(f"{live_server}/customers")
    expect(stolen.locator(".agent")).to_contain_text("Sofia Sales")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
    stolen.goto(f"{live_server}/customers")
    expect(stolen.get_by_role("heading", name="Sign in to Partner Desk")).to_be_visible()
    thief.close()


def test_a_throttled_sign_in_says_how_long_to_wait_in_both_languages(page: Page, live_server, desk, output_path):
    shots = screenshots_in(output_path)
    with desk.database.session() as db:
        policies.set_policy(db, key="signin_failures_per_account", value=3, principal=None, now=desk.clock.now())
    email = new_agent(desk, Role.admin_agent)
    for _ in range(3):
        sign_in(page, live_server, email, "wrong password")
    expect(page.get_by_role("alert")).to_contain_text(
        "Too many failed sign-ins for this account or from this address. Try again in 15 minutes.")
    sign_in(page, live_server, email)
    expect(page.get_by_role("alert")).to_contain_text("Try again in 15 minutes.")
    expect(page.locator("#email")).to_have_value(email)
    page.screenshot(path=shots / "signin-throttled-en.png", full_page=True)
    page.get_by_role("button", name="Français").click()
    sign_in(page, live_server, email)
    expect(page.get_by_role("alert")).to_contain_text("Réessayez dans 15 minutes.")
    page.screenshot(path=shots / "signin-throttled-fr.png", full_page=True)
