"""Races over real HTTP for rule R5: however many cancels of one line arrive at once, the partner is credited once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from tests.orders.factories import software_line
from tests.orders.test_cancellation import cancel_body, credit_lines


def _patch_all(live_server: str, token: str, path: str, bodies: list[dict]) -> list[httpx.Response]:
    start = threading.Event()

    def patch(body: dict) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=120) as client:
            start.wait()
            return client.patch(path, json=body, headers={"Authorization": f"Bearer {token}"})

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        futures = [pool.submit(patch, body) for body in bodies]
        start.set()
        return [future.result() for future in futures]


def test_twenty_concurrent_cancels_of_one_line_credit_it_once(actors, shop, desk, live_server):
    admin = actors(Role.admin_agent)
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line(quantity=2), software_line(line_id=1))["orders"][0]
    path = f"/v1/customers/{customer}/orders/{order['id']}"

    # Some name the line, some name no line at all (every line): each answers the order after its change.
    bodies = [cancel_body(0) if n % 2 else {"status": "cancelled"} for n in range(20)]
    responses = _patch_all(live_server, admin.token, path, bodies)

    assert {response.status_code for response in responses} == {200}, {r.status_code: r.text for r in responses}
    final = admin.get(path).json()
    assert final["status"] == "cancelled"
    assert [(line["quantity"], line["creditedAmount"]) for line in final["lineItems"]] == \
        [(0, "2469.12"), (0, "1234.56")]
    assert sorted((credit.order_line_number, credit.quantity) for credit in credit_lines(desk)) == [(0, -2), (1, -1)]
    with desk.database.session(write=False) as db:
        cancels = db.scalars(select(ActivityRecord).where(ActivityRecord.action == "order.cancelled")).all()
    assert sum(len(record.details["lineItemNumbers"]) for record in cancels) == 2


def test_twenty_concurrent_cancels_of_one_line_alone_credit_once(actors, shop, desk, live_server):
    admin = actors(Role.admin_agent)
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line(quantity=2), software_line(line_id=1))["orders"][0]
    path = f"/v1/customers/{customer}/orders/{order['id']}"

    responses = _patch_all(live_server, admin.token, path, [cancel_body(0)] * 20)

    assert {response.status_code for response in responses} == {200}, {r.status_code: r.text for r in responses}
    assert {response.text for response in responses} == {admin.get(path).text}  # all answer the same order
    [credit] = credit_lines(desk)
    assert (credit.order_line_number, credit.subtotal) == (0, -credit.unit_price * 2)
    assert [line["status"] for line in admin.get(path).json()["lineItems"]] == ["cancelled", "active"]
