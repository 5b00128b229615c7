"""The catalog table and the cart pages: filters by GET, words instead of codes in both languages, a unique
name for each "Add to cart", the roles of each cart page, and pages that stay inside the viewport with a
200-character name."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.orders.models import Cart, CartLineItem
from tests.orders.factories import OFFICE_FR, RI_FR_1Y, VISIO_FR_ANNUAL, Shop, load_catalog, ri_line, software_line
from tests.support.actors import customer_body
from tests.support.portal import PASSWORD, new_agent, signed_in
from tests.support.portal import Page as PortalPage


@pytest.fixture
def shop(desk, actors) -> Shop:
    load_catalog(desk)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))


def catalog(browser, customer_id: str, query: str = ""):
    return browser.page(f"/customers/{customer_id}/catalog{query}")


def add_buttons(html: str) -> list[str]:
    return re.findall(r'aria-label="([^"]+)">Add to cart</button>', html)


def test_filters_are_get_parameters_and_the_add_forms_keep_them(app, desk, shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent)
    everything = catalog(browser, customer_id)
    assert everything.shows("Office LTSC Professional Plus 2024") and everything.shows("Visio Plan 2")
    assert everything.shows("3 products shown")  # Visio is sold on an annual and on a monthly plan
    visio = catalog(browser, customer_id, "?q=visio")
    assert [name.split(",")[0] for name in add_buttons(visio.html)] == ["Add to cart: Visio Plan 2"] * 2
    assert catalog(browser, customer_id, "?term=perpetual").shows("1 product shown")
    annual = catalog(browser, customer_id, "?plan=annual")
    assert add_buttons(annual.html) == ["Add to cart: Visio Plan 2, 1 year, Annual"]
    assert catalog(browser, customer_id, "?q=nothing-like-it").shows("No product matches these filters.")
    reservations = catalog(browser, customer_id, "?view=AzureReservationsVM&term=P3Y&region=northeurope")
    assert reservations.shows("1 product shown") and reservations.shows("3 years")
    assert '<option value="northeurope" selected>North Europe</option>' in reservations.html
    # "Add to cart" goes back to the same filtered list.
    assert 'name="filter_q" value="visio"' in visio.html
    added = browser.post(f"/customers/{customer_id}/catalog", {
        "catalog_item_id": VISIO_FR_ANNUAL, "quantity": "3", "billing_cycle": "annual", "term_duration": "P1Y",
        "filter_view": "Software", "filter_q": "visio"})
    assert added.status_code == 303
    assert added.headers["location"] == f"/customers/{customer_id}/catalog?view=Software&q=visio"


def test_terms_plans_and_regions_are_words_in_both_languages_never_codes(app, desk, shop):
    customer_id = shop.customer("FR")
    shop.azure_subscription(customer_id)
    english = catalog(signed_in(app, desk, Role.sales_agent), customer_id, "?view=AzureReservationsVM")
    french = catalog(signed_in(app, desk, Role.sales_agent, accept_language="fr"), customer_id,
                     "?view=AzureReservationsVM")
    for words in ("1 year", "3 years", "West Europe", "North Europe", "Single subscription", "Product type"):
        assert english.shows(words), words
    for words in ("1 an", "3 ans", "Europe de l’Ouest", "Europe du Nord", "Abonnement unique", "Type de produit",
                  "Étendue", "Partagée"):
        assert french.shows(words), words
    for page in (english, french):
        assert RI_FR_1Y not in page.text and "DZH318Z0BXQ7" not in page.text
        assert not re.search(r"\b(westeurope|northeurope|P1Y|P3Y|one_time)\b", page.text)
        assert f'value="{RI_FR_1Y}"' in page.html  # the form still posts the id
    assert not french.shows("1 year") and not french.shows("Vue cible")


def test_every_add_to_cart_button_has_its_own_name(app, desk, shop):
    customer_id = shop.customer("FR")
    shop.azure_subscription(customer_id)
    browser = signed_in(app, desk, Role.sales_agent)
    software = add_buttons(catalog(browser, customer_id).html)
    assert software == ["Add to cart: Office LTSC Professional Plus 2024, Perpetual, One time",
                        "Add to cart: Visio Plan 2, 1 year, Annual", "Add to cart: Visio Plan 2, 1 year, Monthly"]
    reservations = add_buttons(catalog(browser, customer_id, "?view=AzureReservationsVM").html)
    assert len(reservations) == 2 and len(set(reservations)) == 2
    assert 'class="quantity"' in catalog(browser, customer_id).html


def test_a_refused_quantity_is_shown_beside_the_field_with_the_choices_kept(app, desk, shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent, accept_language="fr")
    refused = browser.post(f"/customers/{customer_id}/catalog", {
        "catalog_item_id": OFFICE_FR, "quantity": "900", "billing_cycle": "one_time", "filter_view": "Software"})
    assert refused.status_code == 400
    page = PortalPage.of(refused)
    assert page.field_errors == {"quantity": "Saisissez une quantité de 1 à 500."}
    assert 'id="quantity-refused"' in page.html and 'value="900"' in page.html
    assert 'href="/customers/' + customer_id + '/catalog" aria-current="page"' in page.html


def test_cart_lines_are_edited_by_buyers_only_and_each_refusal_is_shown_in_place(app, desk, shop, actors):
    customer_id = shop.customer("FR")
    cart = shop.cart(customer_id, software_line(OFFICE_FR), software_line(OFFICE_FR, line_id=1)).json()["id"]
    path = f"/customers/{customer_id}/carts/{cart}"
    for role in (Role.operator, Role.helpdesk_agent, Role.billing_admin):
        other = signed_in(app, desk, role)
        assert other.post(f"{path}/lines/0", {"quantity": "5"}).status_code == 403
        assert other.post(f"{path}/lines/0/remove").status_code == 403
        assert other.get(f"{path}/confirm").status_code == 403
    operator = signed_in(app, desk, Role.operator).page(path)
    assert operator.status_code == 200 and "Remove" not in operator.html and "Review and place" not in operator.html
    sales = signed_in(app, desk, Role.sales_agent)
    wrong = sales.post(f"{path}/lines/1", {"quantity": "deux"})
    assert wrong.status_code == 400
    assert PortalPage.of(wrong).shows("Enter the quantity as a whole number.")
    assert 'id="quantity-1" name="quantity"' in wrong.text and 'aria-invalid="true"' in wrong.text
    too_many = sales.post(f"{path}/lines/1", {"quantity": "501"})
    assert too_many.status_code == 400
    assert PortalPage.of(too_many).shows("The quantity is outside what this product allows.")
    assert sales.post(f"{path}/lines/7/remove").status_code == 404
    assert sales.post(f"{path}/lines/x/remove").status_code == 404
    with desk.database.session(write=False) as db:
        assert sorted(db.scalars(select(CartLineItem.quantity))) == [1, 1]
    assert sales.post(f"{path}/lines/1", {"quantity": "4"}).status_code == 303
    assert sales.post(f"{path}/lines/0/remove").status_code == 303
    after = sales.page(path)
    assert after.shows("1 line") and after.shows("€4,938.24")
    assert sales.post(f"{path}/lines/1/remove").status_code == 303
    empty = sales.page(path)
    assert empty.shows("This cart is empty.") and "Review and place the order" not in empty.html
    refused = sales.post(f"{path}/checkout")
    assert refused.status_code == 400 and PortalPage.of(refused).shows("This cart is empty.")


def test_open_carts_are_listed_for_the_partner_and_for_the_operator(app, desk, shop, actors):
    customer_id = shop.customer("FR")
    shop.cart(customer_id, software_line(OFFICE_FR))
    rival_caller = actors(Role.sales_agent, "Rival")
    rival_customer = rival_caller.post("/v1/customers", json=customer_body(company_name="Rival Client")).json()["id"]
    shop.cart(rival_customer, software_line(OFFICE_FR), caller=rival_caller)
    mine = signed_in(app, desk, Role.sales_agent).page("/carts")
    assert mine.shows("1 open cart") and mine.shows("€1,234.56") and not mine.shows("Rival Client")
    everyone = signed_in(app, desk, Role.operator).page("/carts")
    assert everyone.shows("2 open carts") and everyone.shows("Rival Client")
    assert signed_in(app, desk, Role.admin_agent).page(f"/customers/{customer_id}/carts").shows("1 open cart")
    for role in (Role.helpdesk_agent, Role.billing_admin):
        assert signed_in(app, desk, role).get("/carts").status_code == 403
    assert signed_in(app, desk, Role.sales_agent).get(f"/customers/{rival_customer}/carts").status_code == 404
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Cart)) == 2


def test_the_french_400_page_is_french(app, desk, shop):
    customer_id = shop.customer("FR")
    page = PortalPage.of(signed_in(app, desk, Role.sales_agent, accept_language="fr").get(
        f"/customers/{customer_id}/catalog?view=Nope"))
    assert page.status_code == 400
    assert page.shows("Code d’erreur") and "targetView" not in page.text and "use one of" not in page.text


# --- in the browser: nothing wider than the viewport --------------------------------------------------------

LONG_NAME = "Fabrikam" + "x" * 192  # 200 characters, no space to break at


def width_of(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 375, "height": 700}],
                         ids=["1280px", "375px"])
def test_cart_and_catalog_pages_fit_the_viewport_with_a_200_character_name(page: Page, live_server, desk, shop,
                                                                           actors, viewport):
    response = actors(Role.sales_agent).post("/v1/customers", json=customer_body(company_name=LONG_NAME))
    customer_id = response.json()["id"]
    shop.azure_subscription(customer_id)
    line = {**software_line(OFFICE_FR), "friendlyName": "Licence" + "y" * 193}
    cart = shop.cart(customer_id, line, ri_line(line_id=1)).json()["id"]
    page.set_viewport_size(viewport)
    page.goto(f"{live_server}/signin")
    page.locator("#email").fill(new_agent(desk, Role.sales_agent))
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator(".agent").wait_for()
    for path in (f"/customers/{customer_id}/catalog", f"/customers/{customer_id}/catalog?view=AzureReservationsVM",
                 f"/customers/{customer_id}/carts/{cart}", f"/customers/{customer_id}/carts/{cart}/confirm",
                 f"/customers/{customer_id}/carts", "/carts", "/preferences/time-zone"):
        page.goto(f"{live_server}{path}")
        scroll_width, viewport_width = width_of(page)
        assert scroll_width <= viewport_width, path
