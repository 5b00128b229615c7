"""Buying through the portal: add to cart, review, place the order, then read orders and subscriptions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.orders.models import Cart, CartLineItem, Order
from tests.orders.factories import OFFICE_FR, RI_BR_1Y, RI_FR_1Y, VISIO_FR_ANNUAL, Shop
from tests.support.actors import customer_body
from tests.support.portal import Page, signed_in


def count_rows(desk, model) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(model))


def add_office(browser, customer_id: str, quantity: str = "2", **extra: str):
    return browser.post(f"/customers/{customer_id}/cart", {
        "catalog_item_id": OFFICE_FR, "quantity": quantity, "billing_cycle": "one_time", **extra})


def test_a_sales_agent_adds_to_cart_reviews_and_places_the_order(app, desk, shop: Shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent)
    assert browser.page(f"/customers/{customer_id}/catalog").shows("€1,234.56")
    added = add_office(browser, customer_id)
    assert added.status_code == 303
    with desk.database.session(write=False) as db:
        cart_id = db.scalar(select(Cart.id))
    # Back to the products, where the cart shows what it holds.
    assert added.headers["location"] == f"/customers/{customer_id}/catalog?view=Software"
    catalog = browser.follow(added)
    assert catalog.shows("The product was added to the cart, which now holds 1 line.")
    assert catalog.shows("1 line, 2 items, €2,469.12")  # 2 × €1,234.56, the cart total
    review = browser.page(f"/customers/{customer_id}/carts/{cart_id}")
    assert review.shows("Office LTSC Professional Plus 2024") and review.shows("€2,469.12")
    # A second product goes into the same cart: the agent's open cart for this customer.
    again = browser.post(f"/customers/{customer_id}/cart", {
        "catalog_item_id": VISIO_FR_ANNUAL, "quantity": "3", "billing_cycle": "annual", "term_duration": "P1Y"})
    assert again.status_code == 303
    assert count_rows(desk, Cart) == 1 and count_rows(desk, CartLineItem) == 2
    review = browser.page(f"/customers/{customer_id}/carts/{cart_id}")
    assert review.shows("Visio Plan 2") and review.shows("€360.00")
    placed = browser.post(f"/customers/{customer_id}/carts/{cart_id}/checkout")
    assert placed.status_code == 303
    with desk.database.session(write=False) as db:
        orders = list(db.scalars(select(Order)))
    assert len(orders) == 2  # one per billing cycle, as Partner Center splits a checkout
    assert placed.headers["location"] == f"/customers/{customer_id}/orders"
    listing = browser.follow(placed)
    assert listing.shows("were placed")
    assert listing.shows("2 orders") and listing.shows("€2,469.12") and listing.shows("€360.00")


def test_a_one_line_order_lands_on_the_order_page_and_the_orders_tab(app, desk, shop: Shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.admin_agent)
    browser.follow(add_office(browser, customer_id, "1"))
    with desk.database.session(write=False) as db:
        cart_id = db.scalar(select(Cart.id))
    assert browser.page(f"/customers/{customer_id}/carts/{cart_id}").shows("Review and place the order")
    assert browser.page(f"/customers/{customer_id}/carts/{cart_id}/confirm").shows("Place order")
    placed = browser.post(f"/customers/{customer_id}/carts/{cart_id}/checkout")
    with desk.database.session(write=False) as db:
        order_id = db.scalar(select(Order.id))
    assert placed.headers["location"] == f"/customers/{customer_id}/orders/{order_id}"
    order_page = browser.follow(placed)
    assert order_page.shows(f"Order {order_id} was placed.")
    assert order_page.shows("Office LTSC Professional Plus 2024") and order_page.shows("€1,234.56")
    helpdesk = signed_in(app, desk, Role.helpdesk_agent)
    tab = helpdesk.page(f"/customers/{customer_id}/orders")
    assert tab.status_code == 200 and tab.shows(order_id) and tab.shows("1 order")
    assert helpdesk.page(f"/customers/{customer_id}/orders/{order_id}").shows("€1,234.56")
    assert helpdesk.page(f"/customers/{customer_id}/subscriptions").shows("1 subscription")
    assert helpdesk.get(f"/customers/{customer_id}/catalog").status_code == 403
    # Checking the cart out again is refused on the page; nothing more is written.
    again = browser.post(f"/customers/{customer_id}/carts/{cart_id}/checkout")
    assert again.status_code == 409
    assert Page.of(again).shows("This cart was already ordered.")
    assert count_rows(desk, Order) == 1


def test_a_reserved_instance_without_azure_subscription_is_refused_and_nothing_written(app, desk, shop: Shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent)
    response = browser.post(f"/customers/{customer_id}/cart", {
        "catalog_item_id": RI_FR_1Y, "quantity": "1", "billing_cycle": "one_time", "term_duration": "P1Y",
        "scope": "Shared", "region": "westeurope"})
    assert response.status_code == 400
    assert Page.of(response).shows("This customer has no active Azure subscription; a Reserved Instance needs one.")
    assert count_rows(desk, Cart) == 0


def test_refusals_speak_french(app, desk, shop: Shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent, accept_language="fr")
    response = add_office(browser, customer_id, "9999")
    assert response.status_code == 400
    assert Page.of(response).field_errors == {"quantity": "Saisissez une quantité de 1 à 500."}
    response = add_office(browser, customer_id, "deux")
    assert Page.of(response).shows("Saisissez la quantité en nombre entier.")
    assert count_rows(desk, Cart) == 0


def test_a_brazilian_customer_cannot_put_a_reserved_instance_in_a_cart(app, desk, shop: Shop):
    customer_id = shop.customer("BR")
    browser = signed_in(app, desk, Role.sales_agent)
    response = browser.post(f"/customers/{customer_id}/cart", {
        "catalog_item_id": RI_BR_1Y, "quantity": "1", "billing_cycle": "one_time", "term_duration": "P1Y",
        "scope": "Shared", "region": "westeurope"})
    assert response.status_code == 400
    assert Page.of(response).shows("Reserved Instances are not sold in this customer's market.")
    assert count_rows(desk, Cart) == 0


def test_a_post_without_csrf_token_is_refused_and_nothing_written(app, desk, shop: Shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent)
    response = browser.post(f"/customers/{customer_id}/cart", {
        "catalog_item_id": OFFICE_FR, "quantity": "1", "billing_cycle": "one_time"}, csrf=False)
    assert response.status_code == 403
    assert count_rows(desk, Cart) == 0
    browser.follow(add_office(browser, customer_id))
    with desk.database.session(write=False) as db:
        cart_id = db.scalar(select(Cart.id))
    refused = browser.post(f"/customers/{customer_id}/carts/{cart_id}/checkout", csrf=False)
    assert refused.status_code == 403
    assert count_rows(desk, Order) == 0


def test_another_partners_customer_is_not_found(app, desk, shop: Shop, actors):
    rival = actors(Role.sales_agent, "Rival").post("/v1/customers", json=customer_body())
    rival_id = rival.json()["id"]
    browser = signed_in(app, desk, Role.sales_agent)
    assert browser.get(f"/customers/{rival_id}/orders").status_code == 404
    assert add_office(browser, rival_id).status_code == 404
    assert count_rows(desk, Cart) == 0


def test_the_operator_reads_a_cart_but_is_offered_no_purchase(app, desk, shop: Shop):
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent)
    browser.follow(add_office(browser, customer_id))
    with desk.database.session(write=False) as db:
        cart_id = db.scalar(select(Cart.id))
    operator = signed_in(app, desk, Role.operator)
    page = operator.page(f"/customers/{customer_id}/carts/{cart_id}")
    assert page.status_code == 200 and page.shows("€2,469.12")
    assert not page.shows("Place order") and not page.shows("Add more products")
    assert operator.post(f"/customers/{customer_id}/carts/{cart_id}/checkout").status_code == 403
    assert count_rows(desk, Order) == 0


def _bought_order(shop: Shop, customer_id: str) -> dict:
    return shop.buy(customer_id, {"id": 0, "catalogItemId": OFFICE_FR, "quantity": 2, "billingCycle": "one_time"},
                    {"id": 1, "catalogItemId": OFFICE_FR, "quantity": 1, "billingCycle": "one_time"})["orders"][0]


def test_an_admin_agent_cancels_a_line_from_the_order_page(app, desk, shop: Shop):
    customer_id = shop.customer("FR")
    order = _bought_order(shop, customer_id)
    browser = signed_in(app, desk, Role.admin_agent)
    page = browser.page(f"/customers/{customer_id}/orders/{order['id']}")
    assert page.shows("Can be cancelled until") and page.shows("Cancel selected lines")
    cancelled = browser.post(f"/customers/{customer_id}/orders/{order['id']}/cancel",
                             {"line": "0", "reason": "Bought by mistake"})
    assert cancelled.status_code == 303
    after = browser.follow(cancelled)
    assert after.shows("Line 1 was cancelled; the partner is credited €2,469.12.")
    assert 'name="line" value="0"' not in after.html and 'name="line" value="1"' in after.html
    subscriptions = browser.page(f"/customers/{customer_id}/subscriptions")
    assert subscriptions.shows("Ended") and subscriptions.shows("In force")
    # Nothing selected: refused on the page, nothing changes.
    empty = browser.post(f"/customers/{customer_id}/orders/{order['id']}/cancel", {})
    assert empty.status_code == 400 and Page.of(empty).shows("Select the lines to cancel.")
    last = browser.follow(browser.post(f"/customers/{customer_id}/orders/{order['id']}/cancel", {"line": "1"}))
    assert last.shows("Cancelled") and "Cancel selected lines" not in last.html
    assert browser.page(f"/customers/{customer_id}/orders").shows("Cancelled")


def test_the_cancellation_form_is_for_admin_agents_within_the_window(app, desk, shop: Shop, clock):
    customer_id = shop.customer("FR")
    order = _bought_order(shop, customer_id)
    path = f"/customers/{customer_id}/orders/{order['id']}"
    sales = signed_in(app, desk, Role.sales_agent)
    assert "Cancel selected lines" not in sales.page(path).html
    assert sales.post(f"{path}/cancel", {"line": "0"}).status_code == 403
    clock.advance(timedelta(days=61))
    # Signed in after the clock moved: a portal session ends after 12 hours (the absolute timeout policy).
    admin = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    assert "Annuler les lignes sélectionnées" not in admin.page(path).html
    late = admin.post(f"{path}/cancel", {"line": "0"})
    assert late.status_code == 409
    assert Page.of(late).shows("Cette commande ne peut plus être annulée : le délai d’annulation est dépassé.")
    assert {line["status"] for line in shop.buyer.get(f"/v1{path}").json()["lineItems"]} == {"active"}
