"""Two `partnerdesk serve` processes on one PostgreSQL, with nothing between them and the clients: the races of
keys, cancellation and refunds hold across processes, because every decision is the database's (row locks,
`SKIP LOCKED`, conditional updates), never a process's memory."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.billing.models import InvoiceLineItem
from partnerdesk.software.models import ProductKey
from tests.servicerequests.conftest import request_body
from tests.software.conftest import software  # noqa: F401 - the fixture
from tests.software.factories import CHOICE, SoftwareShop
from tests.support.served import PARTNERDESK_SERVE, served

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _all_at_once(calls: list[tuple[str, str, str, dict, dict]]) -> list[httpx.Response]:
    """(method, base, path, headers, body), each on a connection of its own, released together."""
    start = threading.Event()

    def send(call) -> httpx.Response:
        method, base, path, headers, body = call
        with httpx.Client(base_url=base, timeout=120, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            start.wait()
            return client.request(method, path, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(send, call) for call in calls]
        start.set()
        return [future.result() for future in futures]


def _credits(desk, order_id: str) -> Decimal:
    with desk.database.session(write=False) as db:
        subtotals = db.scalars(select(InvoiceLineItem.subtotal).where(InvoiceLineItem.order_id == order_id))
        return -sum((subtotal for subtotal in subtotals if subtotal < 0), Decimal(0))


@pytest.fixture
def two_servers(settings, tmp_path):
    with ExitStack() as stack:
        yield [stack.enter_context(served(settings, PARTNERDESK_SERVE, log=tmp_path / f"server-{name}.log"))[0]
               for name in ("a", "b")]


def test_a_key_pool_of_10_asked_for_20_times_across_two_processes_gives_each_key_once(
        software: SoftwareShop, two_servers):  # noqa: F811
    purchases = software.buy_many(20)
    headers = software.admin.headers()
    calls = [("POST", two_servers[number % 2],
              f"/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads", headers, CHOICE)
             for number, software_id in enumerate(purchases)]

    answers = _all_at_once(calls)

    assert Counter(answer.status_code for answer in answers) == {200: 10, 409: 10}
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {6002}
    keys = [answer.json()["productKeys"][0]["key"] for answer in answers if answer.status_code == 200]
    assert len(set(keys)) == 10
    with software.desk.database.session(write=False) as db:
        holders = list(db.scalars(select(ProductKey.entitlement_id).where(ProductKey.entitlement_id.is_not(None))))
    assert len(holders) == len(set(holders)) == 10


def test_twenty_cancels_of_one_line_across_two_processes_credit_it_once(software: SoftwareShop,  # noqa: F811
                                                                           two_servers):
    item = software.item(software.buy(quantity=2))
    path = f"/v1/customers/{software.customer_id}/orders/{item['orderId']}"
    body = {"status": "cancelled", "lineItems": [{"lineItemNumber": item["lineItemNumber"]}]}

    answers = _all_at_once([("PATCH", two_servers[number % 2], path, software.admin.headers(), body)
                            for number in range(20)])

    assert {answer.status_code for answer in answers} == {200}, [answer.text for answer in answers]
    order = software.admin.get(path).json()
    assert _credits(software.desk, item["orderId"]) == Decimal(order["lineItems"][0]["creditedAmount"]) > 0


def test_refund_approvals_racing_direct_cancels_across_two_processes_credit_once(
        software: SoftwareShop, actors, two_servers):  # noqa: F811
    item = software.item(software.buy(quantity=2))
    admin = software.admin
    domain = admin.get(f"/v1/customers/{software.customer_id}").json()["companyProfile"]["domain"]
    filed = admin.post("/v1/servicerequests/en-US", json=request_body(1001, refundRequest={
        "customerDomain": domain, "subscriptionId": item["subscriptionId"], "reason": "wrong_product",
        "amount": "1.00", "currency": "EUR"}))
    assert filed.status_code == 201, filed.text
    operator = actors(Role.operator)
    approve = ("POST", f"/v1/servicerequests/{filed.json()['id']}/refundrequest/approve", operator.headers(), {})
    cancel = ("PATCH", f"/v1/customers/{software.customer_id}/orders/{item['orderId']}", admin.headers(),
              {"status": "cancelled", "lineItems": [{"lineItemNumber": item["lineItemNumber"]}]})

    answers = _all_at_once([(call[0], two_servers[number % 2], *call[1:])
                            for number, call in enumerate([approve, cancel] * 10)])

    assert all(answer.status_code in (200, 409) for answer in answers), [answer.text for answer in answers]
    approved = sum(answer.status_code == 200 for answer in answers if answer.request.method == "POST")
    assert approved <= 1
    line = admin.get(f"/v1/customers/{software.customer_id}/orders/{item['orderId']}").json()["lineItems"][0]
    # The approval's 1.00 asked, or the direct cancel's whole line: once, whoever came first.
    assert _credits(software.desk, item["orderId"]) == Decimal(line["creditedAmount"])
    assert (Decimal(line["creditedAmount"]) == Decimal("1.00")) == (approved == 1)
