"""Every form post carries the session's CSRF token; without it the portal refuses and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Agent, Role
from partnerdesk.customers.models import Customer
from partnerdesk.web.pages import PortalRoute
from partnerdesk.web.session import read_form
from tests.support.portal import Page, PortalBrowser, new_agent, signed_in

CUSTOMER_FORM = {
    "company_name": "Fabrikam", "domain": "fabrikam-csrf.onmicrosoft.com", "email": "it@fabrikam.fr",
    "country": "FR", "culture": "fr-FR", "language": "fr",
}


def count_customers(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(Customer))


def preferred_language(desk, email: str) -> str | None:
    with desk.database.session(write=False) as db:
        return db.scalar(select(Agent.preferred_language).where(Agent.email == email))


@pytest.fixture
def admin(app, desk) -> PortalBrowser:
    return signed_in(app, desk, Role.admin_agent)


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_adding_a_customer_without_the_sessions_token_is_refused(admin, desk, token):
    form = dict(CUSTOMER_FORM) | ({"csrf_token": token} if token is not None else {})
    response = admin.post("/customers/new", form, csrf=False)
    assert response.status_code == 403
    assert Page.of(response).h1 == "This form has expired"
    assert count_customers(desk) == 0
    # The same form with the token goes through: the refusal was about the token only.
    assert admin.post("/customers/new", CUSTOMER_FORM).status_code == 303
    assert count_customers(desk) == 1


def test_another_sessions_token_is_refused(app, desk, admin):
    other = signed_in(app, desk, Role.admin_agent)
    response = admin.post("/customers/new", CUSTOMER_FORM | {"csrf_token": other.csrf_token}, csrf=False)
    assert response.status_code == 403
    assert count_customers(desk) == 0


def test_a_json_post_to_a_page_is_refused(admin, desk):
    response = admin.client.post("/customers/new", json=CUSTOMER_FORM | {"csrf_token": admin.csrf_token})
    assert response.status_code == 403
    assert count_customers(desk) == 0


def test_signing_out_without_the_token_keeps_the_session(admin):
    assert admin.post("/signout", csrf=False).status_code == 403
    assert admin.get("/customers").status_code == 200


def test_signing_in_without_the_token_signs_nobody_in(app, desk):
    browser = PortalBrowser.open(app)
    email = new_agent(desk, Role.admin_agent)
    response = browser.post("/signin", {"email": email, "password": "correct horse battery staple"}, csrf=False)
    assert response.status_code == 403
    assert browser.get("/customers").status_code == 303


def test_switching_language_without_the_token_changes_nothing(admin, desk):
    response = admin.post("/language", {"language": "fr", "next": "/customers"}, csrf=False)
    assert response.status_code == 403
    assert "partnerdesk_language" not in response.headers.get("set-cookie", "")
    assert preferred_language(desk, admin.email) is None


def test_the_token_changes_when_an_agent_signs_in(app, desk):
    browser = PortalBrowser.open(app)
    browser.get("/signin")
    before = browser.csrf_token
    browser.sign_in(new_agent(desk, Role.sales_agent))
    assert browser.csrf_token and browser.csrf_token != before


def test_every_portal_route_checks_the_token_before_its_own_code(app):
    routes = [route for router in app.state.portal_routers for route in router.routes]
    assert any("POST" in route.methods for route in routes)
    for route in routes:
        assert isinstance(route, PortalRoute), route.path
        # The router-wide dependency comes first, so no route code or database work runs before it.
        assert route.dependant.dependencies[0].call is read_form, route.path
