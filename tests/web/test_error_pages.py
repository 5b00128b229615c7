"""An error page keeps the signed-in agent's header, menu and language, whatever the address."""

from __future__ import annotations

import re

import pytest

from partnerdesk.accounts.models import Role
from tests.support.portal import Page, PortalBrowser, signed_in


@pytest.mark.parametrize(("language", "title", "menu", "sign_out"), [
    ("en", "Page not found", "Customers", "Sign out"),
    ("fr", "Page introuvable", "Clients", "Se déconnecter"),
])
@pytest.mark.parametrize("path", ["/no-such-page", "/customers/no-such-customer"])
def test_a_signed_in_agent_gets_the_404_page_inside_the_signed_in_layout(app, desk, language, title, menu,
                                                                      sign_out, path):
    browser = signed_in(app, desk, Role.sales_agent, accept_language=language)
    response = browser.get(path)
    assert response.status_code == 404
    page = Page.of(response)
    assert page.h1 == title
    assert page.shows(sign_out)
    assert re.search(f'<a href="/customers"[^>]*>{menu}</a>', page.html)
    assert 'class="agent"' in page.html


def test_a_signed_out_visitor_gets_the_404_page_without_the_agents_header(app):
    page = Page.of(PortalBrowser.open(app).get("/no-such-page"))
    assert page.status_code == 404
    assert page.h1 == "Page not found"
    assert not page.shows("Sign out")
    assert 'class="agent"' not in page.html
