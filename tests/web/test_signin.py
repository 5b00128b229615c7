"""Signing in and out of the portal, the session cookie, and where a signed-out visitor is sent."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import update

from partnerdesk.accounts.models import Agent, Role
from partnerdesk.web.session import SESSION_COOKIE
from tests.support.portal import Page, PortalBrowser, new_agent, signed_in


@pytest.fixture
def browser(app) -> PortalBrowser:
    return PortalBrowser.open(app)


def test_the_home_page_sends_a_visitor_to_sign_in(browser):
    response = browser.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    page = browser.page("/signin")
    assert page.status_code == 200
    assert page.h1 == "Sign in to Partner Desk"
    assert page.csrf_token


def test_an_agent_signs_in_with_the_right_password_and_sees_who_it_is(browser, desk):
    email = new_agent(desk, Role.admin_agent, name="Adele Admin")
    response = browser.sign_in(email)
    assert response.status_code == 303
    page = browser.follow(browser.get("/"))
    assert page.status_code == 200
    assert page.h1 == "Customers"
    assert page.shows("Adele Admin Admin agent Contoso Reseller")


def test_the_session_cookie_is_signed_httponly_and_samesite_and_names_only_the_agent(browser, desk):
    email = new_agent(desk, Role.sales_agent, name="Samuel Sales")
    response = browser.sign_in(email)
    cookie = next(header for header in response.headers.get_list("set-cookie")
                  if header.startswith(SESSION_COOKIE + "="))
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    # Signed, readable: it must hold no email, role or name, only the agent id and the CSRF token.
    assert email not in cookie and "sales_agent" not in cookie and "Samuel" not in cookie


@pytest.mark.parametrize(("password", "message"), [
    ("wrong password", "The email address or the password is not right."),
    ("", "Enter your email address and your password."),
])
def test_a_wrong_or_missing_password_is_refused_and_signs_nobody_in(browser, desk, password, message):
    email = new_agent(desk, Role.admin_agent)
    response = browser.sign_in(email, password)
    assert response.status_code == 400
    assert Page.of(response).shows(message)
    assert f'value="{email}"' in response.text  # the email is kept in the form
    assert browser.get("/customers").status_code == 303


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(browser, desk):
    known = new_agent(desk, Role.admin_agent)
    wrong_password = browser.post("/signin", {"email": known, "password": "nope"})
    unknown_email = browser.post("/signin", {"email": "nobody@test.example", "password": "nope"})
    assert wrong_password.status_code == unknown_email.status_code == 400
    assert Page.of(unknown_email).shows("The email address or the password is not right.")


def test_a_signed_out_visitor_is_sent_to_sign_in_and_then_back(browser, desk):
    response = browser.get("/customers?q=fab")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=" + quote("/customers?q=fab", safe="")
    page = browser.page(response.headers["location"])
    assert 'name="next" value="/customers?q=fab"' in page.html
    signed_in_response = browser.sign_in(new_agent(desk, Role.helpdesk_agent), next_path="/customers?q=fab")
    assert signed_in_response.headers["location"] == "/customers?q=fab"


@pytest.mark.parametrize("next_path", [
    "https://evil.example/", "//evil.example/customers", "/\\evil.example", "javascript:alert(1)",
    "/customers\r\nSet-Cookie: x=1", "/signout",
])
def test_only_local_paths_are_followed_after_sign_in(browser, desk, next_path):
    response = browser.sign_in(new_agent(desk, Role.admin_agent), next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_signing_out_ends_the_session(app, desk):
    browser = signed_in(app, desk, Role.admin_agent)
    assert browser.get("/customers").status_code == 200
    response = browser.post("/signout")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    page = browser.follow(response)
    assert page.shows("You have signed out.")
    assert browser.get("/customers").status_code == 303


def test_a_disabled_agent_loses_access_at_its_next_request(app, desk):
    browser = signed_in(app, desk, Role.admin_agent)
    assert browser.get("/customers").status_code == 200
    with desk.database.session() as db:
        db.execute(update(Agent).where(Agent.email == browser.email).values(is_active=False))
    response = browser.get("/customers")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_a_tampered_session_cookie_signs_nobody_in(app, desk):
    browser = signed_in(app, desk, Role.admin_agent)
    value = browser.client.cookies.get(SESSION_COOKIE)
    browser.client.cookies.set(SESSION_COOKIE, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert browser.get("/customers").status_code == 303


def test_signing_in_again_while_signed_in_goes_straight_on(app, desk):
    browser = signed_in(app, desk, Role.sales_agent)
    response = browser.get("/signin?next=/customers/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/customers/new"


def test_a_role_without_portal_pages_lands_on_a_welcome_page(app, desk):
    browser = signed_in(app, desk, Role.billing_admin)
    page = browser.page("/")
    assert page.status_code == 200
    assert page.shows("No portal page is open to your role yet.")
    assert "/customers" not in page.html  # no navigation entry it could not open


def test_pages_forbid_caching_and_framing(app, desk):
    browser = signed_in(app, desk, Role.admin_agent)
    response = browser.get("/customers")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
