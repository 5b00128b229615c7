"""Races over real HTTP: retried checkouts make one order, one cart orders once; a crash midway leaves nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.orders.factories import new_request_id, ri_line, software_line
from tests.orders.test_checkout import nothing_bought, row_counts


def _post_all(live_server: str, token: str, path: str, request_ids: list[str | None]) -> list[httpx.Response]:
    start = threading.Event()

    def post(request_id: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if request_id:
            headers["MS-RequestId"] = request_id
        with httpx.Client(base_url=live_server, timeout=120) as client:
            start.wait()
            return client.post(path, headers=headers)

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
