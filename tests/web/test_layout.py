"""The layout in Chromium: long names wrap instead of widening the page, and the header stays one
row high at 1280 px for every role, in French, the longer of the portal's languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from partnerdesk.accounts.models import Role
from tests.support.actors import customer_body
from tests.support.portal import PASSWORD, new_agent

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 700}
LONG_NAME = "Fabrikam" + "x" * 192  # 200 characters, no space to break at


def sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/signin")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator(".agent").wait_for()


def page_width(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def header_rows(page: Page) -> dict:
    """The header's height, and whether its parts (and the menu's links) share one row: some height
    of the bar that every part covers."""
    return page.evaluate("""() => {
        const bar = document.querySelector('.site-header__bar');
        const oneRow = parts => Math.max(...parts.map(part => part.getBoundingClientRect().top))
            < Math.min(...parts.map(part => part.getBoundingClientRect().bottom));
        return {height: bar.getBoundingClientRect().height, parts: oneRow([...bar.children]),
                menu: oneRow([...bar.querySelectorAll('.main-nav li')])};
    }""")


# One engine is enough: what is measured here is the browser's layout.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280px", "375px"])
def test_a_200_character_company_name_wraps_inside_the_viewport(page: Page, live_server, desk, actors, viewport):
    response = actors(Role.admin_agent).post("/v1/customers", json=customer_body(company_name=LONG_NAME))
    assert response.status_code == 201, response.text
    customer_id = response.json()["id"]
    page.set_viewport_size(viewport)
    sign_in(page, live_server, new_agent(desk, Role.admin_agent))
    for path in ("/customers", f"/customers/{customer_id}", "/customers?q=Fabrikam"):
        page.goto(f"{live_server}{path}")
        assert page.get_by_text(LONG_NAME).first.is_visible()
        scroll_width, viewport_width = page_width(page)
        assert scroll_width <= viewport_width, path


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(Role))
def test_the_french_header_fits_on_one_row_at_1280_px(page: Page, live_server, desk, role):
    page.set_viewport_size(WIDE)
    email = new_agent(desk, role, language="fr", name="Camille Durand-Lefebvre")
    sign_in(page, live_server, email)
    assert page.locator("html").get_attribute("lang") == "fr"
    rows = header_rows(page)
    assert rows["parts"] and rows["menu"], rows
    assert rows["height"] < 64, rows  # 93 px when the agent's line wrapped under the menu
