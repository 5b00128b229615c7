"""Accessibility of every portal page, in English and French, measured in Debian's headless Chromium:
axe-core (WCAG 2.1 A and AA rules) finds no violation, and every focus ring stands out at 3:1 or more
against what is behind it.

axe-core comes from the npm registry (`npm pack axe-core@4.11.0`), kept in tests/web/vendor/axe-core with
its licence (MPL-2.0); the test checks the file is the one published. Pages are listed from the portal's
own routes, so a new page is checked too, or the test says which page it could not reach.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from partnerdesk.accounts.models import Role
from partnerdesk.web import page_role_matrix
from tests.orders.factories import OFFICE_FR, Shop, load_catalog, ri_line, software_line
from tests.support.portal import PASSWORD, new_agent
from tests.webhooks.helpers import create_endpoint

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "e9e5863c33a874f09bc01acd9234b7e3c871479f5eef8802fa582544465e6d01"  # axe-core 4.11.0 on npm
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Addresses that are files, not pages; and pages that need an object this test does not make.
NOT_PAGES = re.compile(r"\.(csv|pdf|css)$|/attachments/")
UNREACHED = {"/support/{request_id}"}
# Who opens each page: the first of these roles the page admits.
VIEWERS = (Role.admin_agent, Role.billing_admin, Role.operator)


def axe_source() -> str:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "tests/web/vendor/axe-core/axe.min.js was changed"
    return source.decode()


def violations(page: Page, source: str) -> list[str]:
    """axe's WCAG 2.1 A/AA violations on the page: "rule: target, ..." per rule."""
    page.evaluate(source)  # evaluated by the browser's debugger, so the page's CSP needs no exception
    found = page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return result.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
    }""", WCAG_21_AA)
    return found


# The contrast of the focus indicator of the element that has the focus, against the colour behind it.
FOCUS_CONTRAST = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    const parse = text => (text.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const linear = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
        return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    let behind = element.parentElement, background = [255, 255, 255];
    while (behind) {
        const colour = parse(getComputedStyle(behind).backgroundColor);
        if (colour.length === 3 || (colour.length === 4 && colour[3] > 0)) { background = colour.slice(0, 3); break; }
        behind = behind.parentElement;
    }
    const style = getComputedStyle(element);
    const ring = parse(style.outlineColor).slice(0, 3);
    const [a, b] = [luminance(ring), luminance(background)].sort((x, y) => y - x);
    return {element: element.outerHTML.slice(0, 80), width: parseFloat(style.outlineWidth),
            style: style.outlineStyle, contrast: (a + 0.05) / (b + 0.05)};
}"""


@pytest.fixture
def objects(desk, actors) -> dict[str, str]:
    """One of each object a page is about: a customer with an order, an open cart, an invoice, an endpoint."""
    load_catalog(desk)
    shop = Shop(desk=desk, buyer=actors(Role.admin_agent))
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    order = shop.buy(customer, software_line(OFFICE_FR, quantity=2))["orders"][0]["id"]
    cart = shop.cart(customer, software_line(OFFICE_FR), ri_line(line_id=1)).json()["id"]
    invoice = actors(Role.billing_admin).get("/v1/invoices").json()["items"][0]["id"]
    endpoint = create_endpoint(actors(Role.admin_agent), "https://erp.example/hooks")["id"]
    agent = actors(Role.sales_agent).email
    return {"customer_id": customer, "cart_id": cart, "order_id": order, "invoice_id": invoice,
            "endpoint_id": endpoint, "agent_email": agent}


def agent_id_of(desk, email: str) -> str:
    from sqlalchemy import select

    from partnerdesk.accounts.models import Agent
    with desk.database.session(write=False) as db:
        return db.scalar(select(Agent.id).where(Agent.email == email))


def addresses(app, desk, objects: dict[str, str]) -> list[tuple[Role, str]]:
    """(who opens it, address) of every portal page; fails on a page whose address it cannot fill in."""
    values = {**objects, "agent_id": agent_id_of(desk, objects["agent_email"])}
    found, unreached = [], set()
    for method, path, roles in page_role_matrix(app):
        if method != "GET" or NOT_PAGES.search(path):
            continue
        names = re.findall(r"{(\w+)}", path)
        if any(name not in values for name in names):
            unreached.add(path)
            continue
        address = path.format(**values)
        if path.endswith("/orders/{order_id}/cancel"):
            address += "?line=0"
        role = next(role for role in VIEWERS if roles is None or role in roles)
        found.append((role, address))
    assert unreached == UNREACHED, "give this test an object for these pages"
    # Pages that show something more than their plain address does.
    customer = objects["customer_id"]
    found += [(Role.admin_agent, f"/customers/{customer}/catalog?view=AzureReservationsVM"),
              (Role.admin_agent, "/no/such/page")]
    return found


def signed_in_page(browser: Browser, live_server: str, desk, role: Role, language: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server}/signin")
    page.locator("#email").fill(new_agent(desk, role, language=language))
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator(".agent").wait_for()
    return page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_page_has_no_axe_violation(browser: Browser, live_server, app, desk, objects, language):
    source = axe_source()
    pages = {role: signed_in_page(browser, live_server, desk, role, language) for role in VIEWERS}
    signed_out = browser.new_page()
    signed_out.goto(f"{live_server}/signin")
    problems = {"/signin (signed out)": violations(signed_out, source)}
    checked = 0
    for role, address in addresses(app, desk, objects):
        page = pages[role]
        page.goto(f"{live_server}{address}")
        assert page.locator("html").get_attribute("lang") == language, address
        problems[f"{address} ({role.value})"] = violations(page, source)
        checked += 1
    assert checked >= 30
    assert {address: found for address, found in problems.items() if found} == {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_focus_rings_stand_out_at_three_to_one(browser: Browser, live_server, desk, objects):
    customer = objects["customer_id"]
    page = signed_in_page(browser, live_server, desk, Role.admin_agent, "en")
    measured = []
    for address in (f"/customers/{customer}/catalog?view=AzureReservationsVM", f"/customers/{customer}/carts/"
                    f"{objects['cart_id']}", "/customers"):
        page.goto(f"{live_server}{address}")
        for _ in range(60):  # the header, the tabs, the filters, then the rows' fields and buttons
            page.keyboard.press("Tab")
            ring = page.evaluate(FOCUS_CONTRAST)
            if ring is not None:
                measured.append(ring)
    assert len(measured) > 100
    weak = [ring for ring in measured if ring["style"] == "none" or ring["width"] < 2 or ring["contrast"] < 3]
    assert weak == []
    assert min(ring["contrast"] for ring in measured) >= 3
