"""Signing in and out of the portal, the session cookie, and where a signed-out visitor is sent."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import update

from partnerdesk.accounts.models import Agent, Role
from partnerdesk.web.session import SESSION_COOKIE
from tests.support.portal import Page, PortalBrowser, new_agent, signed_in


@pytest.fixture
def visitor(app) -> PortalBrowser:
    """A browser nobody has signed in with yet."""
    return PortalBrowser.open(app)


def test_the_home_page_sends_a_visitor_to_sign_in(visitor):
    response = visitor.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    page = visitor.page("/signin")
    assert page.status_code == 200
    assert page.h1 == "Sign in to Partner Desk"
    assert page.csrf_token


def test_an_agent_signs_in_with_the_right_password_and_sees_who_it_is(visitor, desk):
    email = new_agent(desk, Role.admin_agent, name="Adele Admin")
    response = visitor.sign_in(email)
    assert response.status_code == 303
    page = visitor.follow(visitor.get("/"))
    assert page.status_code == 200
    assert page.h1 == "Customers"
    assert page.shows("Adele Admin Admin agent Contoso Reseller")


def test_the_session_cookie_is_signed_httponly_and_samesite_and_names_only_the_agent(visitor, desk):
    email = new_agent(desk, Role.sales_agent, name="Samuel Sales")
    response = visitor.sign_in(email)
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
def test_a_wrong_or_missing_password_is_refused_and_signs_nobody_in(visitor, desk, password, message):
    email = new_agent(desk, Role.admin_agent)
    response = visitor.sign_in(email, password)
    assert response.status_code == 400
    assert Page.of(response).shows(message)
    assert f'value="{email}"' in response.text  # the email is kept in the form
    assert visitor.get("/customers").status_code == 303


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(visitor, desk):
    known = new_agent(desk, Role.admin_agent)
    wrong_password = visitor.post("/signin", {"email": known, "password": "nope"})
    unknown_email = visitor.post("/signin", {"email": "nobody@test.example", "password": "nope"})
    assert wrong_password.status_code == unknown_email.status_code == 400
    assert Page.of(unknown_email).shows("The email address or the password is not right.")


def test_a_signed_out_visitor_is_sent_to_sign_in_and_then_back(visitor, desk):
    response = visitor.get("/customers?q=fab")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=" + quote("/customers?q=fab", safe="")
    page = visitor.page(response.headers["location"])
    assert 'name="next" value="/customers?q=fab"' in page.html
    signed_in_response = visitor.sign_in(new_agent(desk, Role.helpdesk_agent), next_path="/customers?q=fab")
    assert signed_in_response.headers["location"] == "/customers?q=fab"


@pytest.mark.parametrize("next_path", [
    "https://evil.example/", "//evil.example/customers", "/\\evil.example", "javascript:alert(1)",
    "/customers\r\nSet-Cookie: x=1", "/signout",
])
def test_only_local_paths_are_followed_after_sign_in(visitor, desk, next_path):
    response = visitor.sign_in(new_agent(desk, Role.admin_agent), next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_signing_out_ends_the_session(app, desk):
    agent = signed_in(app, desk, Role.admin_agent)
    assert agent.get("/customers").status_code == 200
    response = agent.post("/signout")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    page = agent.follow(response)
    assert page.shows("You have signed out.")
    assert agent.get("/customers").status_code == 303


def test_a_disabled_agent_loses_access_at_its_next_request(app, desk):
    agent = signed_in(app, desk, Role.admin_agent)
    assert agent.get("/customers").status_code == 200
    with desk.database.session() as db:
        db.execute(update(Agent).where(Agent.email == agent.email).values(is_active=False))
    response = agent.get("/customers")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_a_tampered_session_cookie_signs_nobody_in(app, desk):
    agent = signed_in(app, desk, Role.admin_agent)
    value = agent.client.cookies.get(SESSION_COOKIE)
    agent.client.cookies.set(SESSION_COOKIE, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert agent.get("/customers").status_code == 303


def test_the_api_neither_reads_nor_renews_the_portal_session(app, desk):
    """The API authenticates by bearer token only: a signed-in browser's cookie opens nothing there,
    and an API answer never sets or refreshes the session cookie."""
    agent = signed_in(app, desk, Role.admin_agent)
    response = agent.client.get("/v1/customers", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["code"] == 1100
    assert "set-cookie" not in response.headers
    assert agent.get("/customers").status_code == 200  # the portal session is untouched


def test_signing_in_again_while_signed_in_goes_straight_on(app, desk):
    agent = signed_in(app, desk, Role.sales_agent)
    response = agent.get("/signin?next=/customers/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/customers/new"


def test_a_role_without_portal_pages_lands_on_a_welcome_page(app, desk, monkeypatch):
    from partnerdesk.web.registry import navigation

    # Every role has a page now; take the billing admin's only entry away to see the welcome page.
    monkeypatch.setattr(navigation, "_entries",
                        {path: entry for path, entry in navigation._entries.items() if path != "/invoices"})
    agent = signed_in(app, desk, Role.billing_admin)
    page = agent.page("/")
    assert page.status_code == 200
    assert page.shows("No portal page is open to your role yet.")
    assert "/customers" not in page.html  # no navigation entry it could not open


def test_the_billing_admin_lands_on_the_invoices(app, desk):
    response = signed_in(app, desk, Role.billing_admin).get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/invoices"


def test_pages_forbid_caching_and_framing(app, desk):
    agent = signed_in(app, desk, Role.admin_agent)
    response = agent.get("/customers")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
