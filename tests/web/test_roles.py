"""Each page declares the roles it admits; the others get a 403 page in their language."""

from __future__ import annotations

import re

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.config import Settings
from partnerdesk.web.pages import page_role_matrix
from tests.support.portal import Page, signed_in

PUBLIC_PAGES = {("GET", "/"), ("GET", "/signin"), ("POST", "/signin"), ("POST", "/signout"), ("POST", "/language")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)


def test_every_page_declares_its_roles_or_says_it_is_public(tmp_path):
    matrix = page_role_matrix(create_app(Settings(data_dir=tmp_path, secret_key="k")))
    public = {(method, path) for method, path, roles in matrix if roles is None}
    assert public == PUBLIC_PAGES
    declared = {(method, path): roles for method, path, roles in matrix}
    assert declared[("GET", "/customers")] == {Role.operator, Role.admin_agent, Role.sales_agent,
                                               Role.helpdesk_agent}
    assert declared[("POST", "/customers/new")] == {Role.admin_agent, Role.sales_agent}


def test_every_refused_role_gets_a_403_page_and_a_visitor_is_sent_to_sign_in(app, desk):
    browsers = {role: signed_in(app, desk, role) for role in Role}
    checked = 0
    for method, path, roles in page_role_matrix(app):
        if roles is None:
            continue
        url = _concrete(path)
        for role in set(Role) - roles:
            browser = browsers[role]
            response = browser.get(url) if method == "GET" else browser.post(url, {})
            assert response.status_code == 403, (method, path, role)
            assert Page.of(response).h1 == "Not allowed"
            checked += 1
    assert checked > 0


@pytest.mark.parametrize(("accept_language", "title"), [("en", "Not allowed"), ("fr-FR,fr;q=0.9", "Accès refusé")])
def test_the_refusal_page_is_in_the_readers_language(app, desk, accept_language, title):
    browser = signed_in(app, desk, Role.billing_admin, accept_language=accept_language)
    page = browser.page("/customers")
    assert page.status_code == 403
    assert page.h1 == title


def test_the_navigation_shows_only_what_the_role_may_open(app, desk):
    helpdesk = signed_in(app, desk, Role.helpdesk_agent).page("/customers")
    assert 'href="/customers"' in helpdesk.html
    assert 'href="/customers/new"' not in helpdesk.html  # no "Add customer" for a reader
    billing = signed_in(app, desk, Role.billing_admin).page("/")
    assert 'href="/customers"' not in billing.html


def test_a_browser_asking_for_a_missing_page_gets_a_page_and_the_api_keeps_json(app, desk):
    browser = signed_in(app, desk, Role.admin_agent)
    missing = browser.get("/no-such-page")
    assert missing.status_code == 404
    assert Page.of(missing).h1 == "Page not found"
    api = browser.get("/v1/no-such-resource")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["code"] == 1200


def test_a_page_used_with_the_wrong_method_answers_405_as_a_page(app, desk):
    response = signed_in(app, desk, Role.admin_agent).get("/signout")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert Page.of(response).h1 == "This page cannot be used this way"
