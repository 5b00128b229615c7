"""The pages a Partner Center user expects (edit a customer, the activity log, webhooks, all orders and
subscriptions) walked in Debian's headless Chromium, in English and French, with screenshots of each
and axe-core's WCAG 2.1 A/AA check (tests/web/test_axe.py) on each.

A customer named with 200 characters and no space is on every page, which must still fit the viewport.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from partnerdesk.accounts.models import Role
from tests.orders.factories import OFFICE_FR, Shop, load_catalog, software_line
from tests.support.actors import customer_body
from tests.support.portal import PASSWORD, new_agent
from tests.web.test_axe import axe_source, violations
from tests.webhooks.helpers import create_endpoint, deliver_due, partner_id_of, publish
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 700}
LONG_NAME = "Fabrikam" + "x" * 192  # 200 characters, no space to break at
# English words of these pages that the French ones must not show (their French differs).
ENGLISH_LABELS = ("Activity log", "All actions", "Save changes", "Name on invoices", "Every status",
                  "Placed from", "Add an endpoint", "Deliveries", "Send again", "Clear the filters", "Filter")


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def shown(desk, actors, receiver) -> dict:
    """A long-named customer with an order, its activity, and a webhook endpoint whose delivery failed."""
    load_catalog(desk)
    admin = actors(Role.admin_agent)
    response = admin.post("/v1/customers", json=customer_body(company_name=LONG_NAME))
    assert response.status_code == 201, response.text
    customer_id = response.json()["id"]
    Shop(desk=desk, buyer=actors(Role.sales_agent)).buy(customer_id, software_line(OFFICE_FR))
    endpoint = create_endpoint(admin, receiver.url, description="ERP " + "y" * 150)
    receiver.default = 500
    publish(desk, partner_id_of(desk, admin))
    deliver_due(desk)
    return {"customer": customer_id, "endpoint": endpoint["id"]}


def sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/signin")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator(".agent").wait_for()


def fits(page: Page) -> bool:
    scroll_width, viewport_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return scroll_width <= viewport_width


def pages_of(role: Role, shown: dict) -> dict[str, str]:
    customer, endpoint = shown["customer"], shown["endpoint"]
    if role is Role.operator:
        return {"activity-operator": "/activity", "orders-operator": "/orders",
                "subscriptions-operator": "/subscriptions"}
    return {
        "customer-edit": f"/customers/{customer}/edit",
        "activity": "/activity",
        "activity-refused-date": "/activity?from=31/12/2026",
        "webhooks": "/webhooks",
        "webhook-new": "/webhooks/new",
        "webhook-endpoint": f"/webhooks/{endpoint}",
        "webhook-delete": f"/webhooks/{endpoint}/delete",
        "orders": "/orders",
        "orders-filtered": "/orders?status=completed&customer=fabrikam",
        "subscriptions": "/subscriptions",
    }


# One engine is enough: what the browser adds is rendering; every page's behaviour runs on both elsewhere.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("role", [Role.admin_agent, Role.operator])
def test_every_page_fits_the_screen_in_both_languages(page: Page, live_server, desk, shown, output_path,
                                                      language, role):
    screenshots = Path(output_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server, new_agent(desk, role, language=language))
    axe = axe_source()
    for name, path in pages_of(role, shown).items():
        for viewport in (WIDE, PHONE):
            page.set_viewport_size(viewport)
            response = page.goto(f"{live_server}{path}")
            assert response.status == (400 if "refused" in name else 200), path
            assert page.locator("html").get_attribute("lang") == language
            assert fits(page), (path, viewport)
        page.set_viewport_size(WIDE)
        page.screenshot(path=screenshots / f"{name}-{language}.png", full_page=True)
        # With what test_axe.py's pages lack: a long name, deliveries with "Send again", a refused filter.
        assert violations(page, axe) == [], path
        if language == "fr":
            text = page.locator("main").inner_text()
            leftovers = [label for label in ENGLISH_LABELS if re.search(rf"\b{re.escape(label)}\b", text)]
            assert leftovers == [], (path, leftovers)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_admin_edits_a_customer_after_a_refusal_without_retyping(page: Page, live_server, desk, shown, output_path):
    sign_in(page, live_server, new_agent(desk, Role.admin_agent))
    page.goto(f"{live_server}/customers/{shown['customer']}")
    page.get_by_role("link", name="Edit customer").click()
    page.get_by_label("Company name").fill("Fabrikam Europe")
    page.get_by_label("City").fill("Grenoble")
    page.get_by_label("Email address").fill("not an email")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Email address: enter an email address")
    expect(page.locator("#email-error")).to_contain_text("Enter an email address such as it@fabrikam.fr.")
    expect(page.get_by_label("City")).to_have_value("Grenoble")
    page.screenshot(path=Path(output_path) / "customer-edit-refused-en.png", full_page=True)
    page.get_by_label("Email address").fill("billing@fabrikam.fr")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Customer Fabrikam Europe was updated.")
    expect(page.get_by_role("heading", name="Fabrikam Europe", level=1)).to_be_visible()
    expect(page.get_by_text("Grenoble")).to_be_visible()

    page.get_by_role("link", name="Activity", exact=True).click()
    page.get_by_label("Action").select_option("customer.updated")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row", name=re.compile("Customer changed"))).to_contain_text("billingProfile.email")
    expect(page.get_by_text("1 record")).to_be_visible()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_admin_adds_a_webhook_copies_its_secret_and_sends_a_failed_delivery_again(page: Page, live_server, desk,
                                                                                        shown, receiver, output_path):
    sign_in(page, live_server, new_agent(desk, Role.admin_agent, language="fr"))
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("link", name="Ajouter un point de terminaison").click()
    page.get_by_role("button", name="Ajouter le point de terminaison").click()
    expect(page.locator("#url-error")).to_contain_text("Remplissez ce champ.")
    expect(page.locator("#event_types-error")).to_contain_text("Choisissez au moins un événement.")
    page.get_by_label("Adresse (URL)").fill(receiver.url)
    page.get_by_label(re.compile("Une commande a été passée")).check()
    page.get_by_role("button", name="Ajouter le point de terminaison").click()
    secret = page.get_by_label("Secret de signature").input_value()
    assert secret.startswith("whsec_")
    page.screenshot(path=Path(output_path) / "webhook-secret-fr.png", full_page=True)
    page.get_by_role("link", name="J’ai copié le secret").click()
    assert secret not in page.content()

    page.goto(f"{live_server}/webhooks/{shown['endpoint']}")
    expect(page.get_by_text("HTTP 500").first).to_be_visible()
    page.get_by_role("button", name="Suspendre").click()
    expect(page.get_by_role("status")).to_contain_text("Le point de terminaison est suspendu")
    page.get_by_role("button", name="Reprendre").click()
    page.get_by_role("button", name=re.compile("^Renvoyer")).click()
    expect(page.get_by_role("status")).to_contain_text("L’envoi va être renvoyé.")
    expect(page.get_by_role("cell", name=re.compile("En cours d’envoi"))).to_be_visible()
