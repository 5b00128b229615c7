"""Carts in a real browser (Debian's headless Chromium, JavaScript off): products added from two views go
into one cart, which is edited, left and found again, confirmed, then ordered; a Reserved Instance refused
for its scope is corrected on the same page; the French pages hold none of the English labels.
Screenshots of each page, in English and French, go to pytest-playwright's output folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.orders.models import Cart, Order
from tests.orders.factories import Shop, load_catalog
from tests.support.portal import PASSWORD, new_agent

pytestmark = pytest.mark.browser

# The English labels of the catalog and cart pages; a French page shows none of them (product names aside).
ENGLISH_LABELS = (
    "1 year", "3 years", "One time", "Monthly", "Annual", "Perpetual", "Shared", "Single subscription",
    "Any active subscription", "West Europe", "North Europe", "Target view", "Product type", "Add to cart",
    "Quantity", "Billing plan", "Billing cycle", "Unit price", "Region", "Scope", "Term", "Review the cart",
    "Place order", "Your cart", "Remove", "Update", "Open carts", "Confirm the order", "Paid by", "Show products",
    "Any term", "Any region", "Search", "Lines", "Expires", "Last changed", "Times in", "Time zone",
)
RAW_CODES = re.compile(r"\bP[13]Y\b|\bwesteurope\b|\bnortheurope\b|[A-Z0-9]{12}:\d{4}:\d{4}|\bone_time\b")


@pytest.fixture
def customer(desk, actors) -> str:
    load_catalog(desk)
    shop = Shop(desk=desk, buyer=actors(Role.admin_agent))
    customer_id = shop.customer("FR")
    shop.azure_subscription(customer_id)
    return customer_id


def sign_in(browser: Browser, live_server: str, desk, language: str = "en", role: Role = Role.sales_agent) -> Page:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900},
                                  locale="fr-FR" if language == "fr" else "en-US")
    page = context.new_page()
    page.goto(f"{live_server}/signin")
    page.locator("#email").fill(new_agent(desk, role, language=language))
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator(".agent").wait_for()
    return page


def shoot(page: Page, output_path: str, name: str) -> None:
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def count(desk, model) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(model))


def ri_row(page: Page):
    return page.get_by_role("row", name=re.compile(r"D4s v5.*1 year|D4s v5.*1 an"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_cart_filled_from_two_views_edited_left_confirmed_and_ordered(browser: Browser, live_server, desk,
                                                                         customer, output_path):
    page = sign_in(browser, live_server, desk)
    page.goto(f"{live_server}/customers/{customer}")
    page.get_by_role("link", name="Add products").click()
    expect(page.get_by_text("Your cart for this customer is empty.")).to_be_visible()
    shoot(page, output_path, "catalog-software-en")
    office = page.get_by_role("row", name=re.compile("Office LTSC"))
    office.get_by_label(re.compile("Quantity of Office LTSC")).fill("2")
    page.get_by_role("button", name="Add to cart: Office LTSC Professional Plus 2024, Perpetual, One time").click()
    expect(page.get_by_role("status").first).to_contain_text("The product was added to the cart")
    expect(page.locator(".cart-status")).to_contain_text("1 line, 2 items, €2,469.12")

    # The second view: Reserved Instances, filtered to one region, into the same cart.
    page.get_by_label("Product type").select_option("AzureReservationsVM")
    page.get_by_role("button", name="Show products").click()
    page.get_by_label("Region", exact=True).select_option(label="West Europe")
    page.get_by_role("button", name="Show products").click()
    expect(page).to_have_url(re.compile(r"view=AzureReservationsVM.*region=westeurope"))
    ri_row(page).get_by_role("button", name=re.compile("^Add to cart: D4s v5, 1 year")).click()
    expect(page.locator(".cart-status")).to_contain_text("2 lines")
    shoot(page, output_path, "catalog-reservations-en")
    assert count(desk, Cart) == 1

    # Edit: a quantity changed, a line removed.
    page.get_by_role("link", name="Review the cart").click()
    expect(page.locator('.tabs a[aria-current="page"]')).to_have_text("Carts")
    page.get_by_label("Quantity of line 1: Office LTSC Professional Plus 2024").fill("3")
    page.get_by_role("button", name="Update the quantity of line 1").click()
    expect(page.get_by_role("status").first).to_contain_text("The quantity was changed.")
    expect(page.get_by_role("row", name=re.compile("Office LTSC"))).to_contain_text("€3,703.68")
    page.get_by_role("button", name=re.compile("^Remove line 2: Reserved VM Instance")).click()
    expect(page.get_by_role("status").first).to_contain_text("The line was removed from the cart.")
    expect(page.locator("tbody tr")).to_have_count(1)
    shoot(page, output_path, "cart-en")

    # Leave, come back: Add products returns to the same cart, also listed among the open carts.
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="Fabrikam").click()
    page.get_by_role("link", name="Carts", exact=True).click()
    expect(page.get_by_role("table")).to_contain_text("1 line")
    shoot(page, output_path, "customer-carts-en")
    page.get_by_role("link", name="Open carts of every customer").click()
    expect(page.get_by_role("heading", name="Open carts", level=1)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Fabrikam"))).to_contain_text("€3,703.68")
    shoot(page, output_path, "carts-en")
    page.goto(f"{live_server}/customers/{customer}/catalog")
    expect(page.locator(".cart-status")).to_contain_text("1 line, 3 items, €3,703.68")
    page.get_by_role("link", name="Review the cart").click()
    page.get_by_role("link", name="Review and place the order").click()

    expect(page.get_by_role("heading", name="Confirm the order")).to_be_visible()
    expect(page.locator(".details")).to_contain_text("Contoso Reseller, on its partner invoice")
    expect(page.get_by_role("row", name=re.compile("Total \\(One time\\)"))).to_contain_text("€3,703.68")
    shoot(page, output_path, "confirm-en")
    assert count(desk, Order) == 0  # nothing ordered before "Place order"
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("status").first).to_contain_text("was placed")
    assert count(desk, Order) == 1
    page.goto(f"{live_server}/customers/{customer}/catalog")
    expect(page.locator(".cart-status")).to_contain_text("Your cart for this customer is empty.")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reserved_instance_refused_for_its_scope_is_corrected_in_place(browser: Browser, live_server, desk,
                                                                        customer, output_path):
    page = sign_in(browser, live_server, desk)
    page.goto(f"{live_server}/customers/{customer}/catalog?view=AzureReservationsVM")
    row = ri_row(page)
    row.get_by_label(re.compile("^Quantity of D4s v5, 1 year")).fill("4")
    row.get_by_label(re.compile("^Region for D4s v5, 1 year")).select_option(label="North Europe")
    row.get_by_label(re.compile("^Scope for D4s v5, 1 year")).select_option(label="Single subscription")
    row.get_by_role("button", name=re.compile("^Add to cart")).click()

    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    error = page.locator("#subscription_id-error")
    expect(error).to_contain_text("a “Single subscription” scope needs one")
    subscription = page.locator("#subscription_id-refused")
    expect(subscription).to_have_attribute("aria-invalid", "true")
    # The choices are kept, on the same page and view.
    refused = page.locator("tr.row--invalid")
    expect(refused.get_by_label(re.compile("^Quantity of"))).to_have_value("4")
    expect(refused.get_by_label(re.compile("^Region for"))).to_have_value("northeurope")
    expect(refused.get_by_label(re.compile("^Scope for"))).to_have_value("Single")
    expect(page.get_by_label("Product type")).to_have_value("AzureReservationsVM")
    shoot(page, output_path, "catalog-ri-refused-en")
    assert count(desk, Cart) == 0

    page.get_by_role("link", name=re.compile("Azure subscription: choose")).click()  # the summary links to it
    subscription.select_option(index=1)
    refused.get_by_role("button", name=re.compile("^Add to cart")).click()
    expect(page.locator(".cart-status")).to_contain_text("1 line, 4 items")
    assert count(desk, Cart) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_french_pages_hold_no_english_label_nor_raw_code(browser: Browser, live_server, desk, customer, actors,
                                                         output_path):
    shop = Shop(desk=desk, buyer=actors(Role.sales_agent))
    page = sign_in(browser, live_server, desk, language="fr")
    page.goto(f"{live_server}/customers/{customer}/catalog?view=AzureReservationsVM")
    ri_row(page).get_by_role("button", name=re.compile("^Ajouter au panier : D4s v5, 1 an")).click()
    page.goto(f"{live_server}/customers/{customer}/catalog")
    page.get_by_role("button", name=re.compile("^Ajouter au panier : Office LTSC")).click()
    with desk.database.session(write=False) as db:
        cart = db.scalar(select(Cart.id))
    other = Shop(desk=desk, buyer=shop.buyer).cart(customer, {"id": 0, "catalogItemId": "DG7GMGF0DVT5:0002:0001",
                                                            "quantity": 3, "billingCycle": "annual",
                                                            "termDuration": "P1Y"})
    assert other.status_code == 201
    pages = {
        "catalog-software-fr": f"/customers/{customer}/catalog",
        "catalog-reservations-fr": f"/customers/{customer}/catalog?view=AzureReservationsVM",
        "cart-fr": f"/customers/{customer}/carts/{cart}",
        "confirm-fr": f"/customers/{customer}/carts/{cart}/confirm",
        "customer-carts-fr": f"/customers/{customer}/carts",
        "carts-fr": "/carts",
        "time-zone-fr": "/preferences/time-zone",
        "catalog-unknown-view-fr": f"/customers/{customer}/catalog?view=Nope",
    }
    for name, address in pages.items():
        page.goto(f"{live_server}{address}")
        text = page.locator("body").inner_text()
        english = [label for label in ENGLISH_LABELS if re.search(rf"\b{re.escape(label)}\b", text)]
        assert english == [], f"{address}: {english}"
        assert RAW_CODES.findall(text) == [], address
        shoot(page, output_path, name)
    # The French 400 page speaks French: the error's number, not the service's English sentence.
    assert "Code d’erreur" in text and "targetView" not in text
    # A refused Reserved Instance, then the order and subscription pages, in French too.
    page.goto(f"{live_server}/customers/{customer}/catalog?view=AzureReservationsVM")
    ri_row(page).get_by_label(re.compile("^Étendue pour D4s v5, 1 an")).select_option(label="Abonnement unique")
    ri_row(page).get_by_role("button", name=re.compile("^Ajouter au panier")).click()
    expect(page.locator("#subscription_id-error")).to_contain_text("l’étendue « Abonnement unique » en demande un")
    shoot(page, output_path, "catalog-ri-refused-fr")
    order = shop.buy(customer, {"id": 0, "catalogItemId": "DG7GMGF0DVT5:0002:0001", "quantity": 2,
                                "billingCycle": "annual", "termDuration": "P1Y"})["orders"][0]["id"]
    for name, address in {"order-fr": f"/customers/{customer}/orders/{order}",
                          "subscriptions-fr": f"/customers/{customer}/subscriptions"}.items():
        page.goto(f"{live_server}{address}")
        text = page.locator("body").inner_text()
        assert "1 an" in text and not RAW_CODES.findall(text), address
        assert not [label for label in ENGLISH_LABELS if re.search(rf"\b{re.escape(label)}\b", text)], address
        shoot(page, output_path, name)
    page.goto(f"{live_server}/customers/{customer}/catalog?view=AzureReservationsVM")
    expect(page.get_by_text("Europe de l’Ouest").first).to_be_attached()
    expect(page.get_by_text("Abonnement unique").first).to_be_attached()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_english_screenshots_of_the_other_cart_pages(browser: Browser, live_server, desk, customer, actors,
                                                    output_path):
    buyer = actors(Role.sales_agent)
    page = sign_in(browser, live_server, desk, role=Role.admin_agent)
    page.goto(f"{live_server}/customers/{customer}/carts")
    expect(page.get_by_text("This customer has no open cart.")).to_be_visible()
    shoot(page, output_path, "customer-carts-empty-en")
    page.goto(f"{live_server}/preferences/time-zone")
    expect(page.get_by_role("heading", name="Time zone")).to_be_visible()
    shoot(page, output_path, "time-zone-en")
    page.goto(f"{live_server}/customers/{customer}/catalog?view=Nope")
    expect(page.get_by_text("targetView")).to_be_visible()  # English readers keep the service's own sentence
    shoot(page, output_path, "catalog-unknown-view-en")
    order = Shop(desk=desk, buyer=buyer).buy(customer, {"id": 0, "catalogItemId": "DG7GMGF0DVT5:0002:0001",
                                                       "quantity": 2, "billingCycle": "annual",
                                                       "termDuration": "P1Y"})["orders"][0]["id"]
    for name, address in {"order-en": f"/customers/{customer}/orders/{order}",
                          "subscriptions-en": f"/customers/{customer}/subscriptions"}.items():
        page.goto(f"{live_server}{address}")
        text = page.locator("body").inner_text()
        assert "1 year" in text and not RAW_CODES.findall(text), address
        shoot(page, output_path, name)
