"""Races over real HTTP: retried checkouts make one order, one cart orders once; a crash midway leaves nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.orders.models import Cart
from tests.orders.factories import new_request_id, ri_line, software_line
from tests.orders.test_checkout import nothing_bought, row_counts
from tests.support.portal import Page, signed_in


def _post_all(live_server: str, token: str, path: str, request_ids: list[str | None],
              body: dict | None = None) -> list[httpx.Response]:
    start = threading.Event()

    def post(request_id: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if request_id:
            headers["MS-RequestId"] = request_id
        with httpx.Client(base_url=live_server, timeout=120) as client:
            start.wait()
            return client.post(path, headers=headers, json=body)

    # All in flight at once, more than the server's 40 worker threads: SQLite's writers must queue, not starve.
    with ThreadPoolExecutor(max_workers=len(request_ids)) as pool:
        futures = [pool.submit(post, request_id) for request_id in request_ids]
        start.set()
        return [future.result() for future in futures]


def test_a_hundred_concurrent_retries_of_one_checkout_make_one_order(shop, desk, live_server):
    customer = shop.customer("FR")
    cart = shop.cart(customer, software_line(quantity=2)).json()
    request_id = new_request_id()
    responses = _post_all(live_server, shop.buyer.token, f"/v1/customers/{customer}/carts/{cart['id']}/checkout",
                          [request_id] * 100)
    assert {response.status_code for response in responses} == {201}, {r.status_code: r.text for r in responses}
    bodies = {response.text for response in responses}
    assert len(bodies) == 1
    assert sum(response.headers.get("Idempotent-Replayed") == "true" for response in responses) == 99
    counts = row_counts(desk)
    assert counts["orders"] == 1 and counts["invoice_line_items"] == 1 and counts["entitlements"] == 1


def _cart_count(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(Cart))


def test_fifty_concurrent_retries_of_one_cart_creation_make_one_cart(shop, desk, live_server):
    """Nothing locks a new cart: the retries race to the request id's unique index, and every loser
    replays the winner's answer instead of failing or making a second cart."""
    customer = shop.customer("FR")
    request_id = new_request_id()
    responses = _post_all(live_server, shop.buyer.token, f"/v1/customers/{customer}/carts", [request_id] * 50,
                          body={"lineItems": [software_line(quantity=3)]})
    assert {response.status_code for response in responses} == {201}, {r.status_code: r.text for r in responses}
    assert len({response.text for response in responses}) == 1
    assert sum(response.headers.get("Idempotent-Replayed") == "true" for response in responses) == 49
    assert _cart_count(desk) == 1


def test_concurrent_requests_reusing_one_request_id_for_different_carts_get_one_cart_and_409s(
        shop, desk, live_server):
    customer = shop.customer("FR")
    request_id = new_request_id()
    bodies = [{"lineItems": [software_line(quantity=quantity)]} for quantity in range(1, 11)]
    start = threading.Event()

    def post(body: dict) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=120) as client:
            start.wait()
            return client.post(f"/v1/customers/{customer}/carts", json=body,
                               headers={"Authorization": f"Bearer {shop.buyer.token}", "MS-RequestId": request_id})

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        futures = [pool.submit(post, body) for body in bodies]
        start.set()
        responses = [future.result() for future in futures]
    assert sorted(response.status_code for response in responses) == [201] + [409] * 9
    assert {response.json()["code"] for response in responses if response.status_code == 409} == {1301}
    assert _cart_count(desk) == 1


def test_two_concurrent_checkouts_of_one_cart_make_one_order_and_one_conflict(shop, desk, live_server):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    cart = shop.cart(customer, software_line(), ri_line(line_id=1)).json()
    responses = _post_all(live_server, shop.buyer.token, f"/v1/customers/{customer}/carts/{cart['id']}/checkout",
                          [None, new_request_id()])
    assert sorted(response.status_code for response in responses) == [201, 409]
    [conflict] = [response for response in responses if response.status_code == 409]
    assert conflict.json()["code"] == 3002
    counts = row_counts(desk)
    assert counts["orders"] == 1 and counts["subscriptions"] == 2 and counts["reservations"] == 1
    assert counts["invoice_line_items"] == 2


@pytest.mark.parametrize("failing", [
    "partnerdesk.billing.service.charge",
    "partnerdesk.reservations.service.provision",
    "partnerdesk.orders.events.orders_placed",
])
def test_a_checkout_that_fails_midway_leaves_nothing_and_can_be_retried(shop, desk, monkeypatch, failing):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    cart = shop.cart(customer, software_line(), ri_line(line_id=1)).json()
    module, _, name = failing.rpartition(".")

    def crash(*_args, **_kwargs):
        raise RuntimeError("injected failure after the order rows were written")

    monkeypatch.setattr(f"{module}.{name}", crash)
    request_id = new_request_id()
    failed = shop.checkout(customer, cart["id"], request_id=request_id)
    assert failed.status_code == 500
    assert nothing_bought(desk)
    assert shop.buyer.get(f"/v1/customers/{customer}/carts/{cart['id']}").json()["status"] == "Active"
    monkeypatch.undo()
    retried = shop.checkout(customer, cart["id"], request_id=request_id)
    assert retried.status_code == 201, retried.text
    assert row_counts(desk)["orders"] == 1


def test_a_database_that_went_away_is_a_503_to_retry_on_pages_and_in_the_api(app, desk, actors, shop, monkeypatch,
                                                                             caplog):
    from sqlalchemy.exc import OperationalError

    from partnerdesk.customers import service
    from partnerdesk.orders import flows

    def gone(*_args, **_kwargs):
        raise OperationalError("SELECT secret_parameter", {"token": "secret-value"},
                               Exception("server closed the connection unexpectedly"))

    customer = shop.customer("FR")
    cart = shop.cart(customer, software_line()).json()
    admin = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    monkeypatch.setattr(service, "search", gone)
    monkeypatch.setattr(flows, "checkout", gone)

    page = admin.get("/customers")
    assert page.status_code == 503 and page.headers["retry-after"] == "1"
    assert Page.of(page).h1 == "Le bureau est momentanément indisponible"
    api = actors(Role.admin_agent).get("/v1/customers")
    assert api.status_code == 503 and api.headers["retry-after"] == "1"
    assert api.json()["code"] == 1600 and "MS-RequestId" in api.json()["description"]
    checkout = shop.checkout(customer, cart["id"])  # a hot write unit: the same answer
    assert checkout.status_code == 503 and checkout.json()["code"] == 1600
    monkeypatch.undo()
    assert shop.checkout(customer, cart["id"]).status_code == 201  # nothing was kept: the cart is still open
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "database unavailable" in logged and "secret" not in logged


@pytest.mark.parametrize(("message", "status"), [("database is locked", 503), ("no such table: customers", 500)])
def test_sqlites_own_operational_errors_are_told_apart(actors, monkeypatch, message, status):
    """SQLite reports a wrong statement as an OperationalError too: that one stays a defect (500)."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from partnerdesk.customers import service

    def failing(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))

    monkeypatch.setattr(service, "search", failing)
    assert actors(Role.admin_agent).get("/v1/customers").status_code == status
