"""Races over real HTTP for rule R6: approvals of one refund, and approvals racing direct cancels of the same line,
credit the partner once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx

from partnerdesk.accounts.models import Role
from tests.servicerequests.test_refund_queue import credits


def _send_all(live_server: str, calls: list[tuple[str, str, str, dict]]) -> list[httpx.Response]:
    """(method, path, token, body) each from its own connection, released together."""
    start = threading.Event()

    def send(call: tuple[str, str, str, dict]) -> httpx.Response:
        method, path, token, body = call
        with httpx.Client(base_url=live_server, timeout=120,
                          limits=httpx.Limits(max_keepalive_connections=0)) as client:
            start.wait()
            return client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(send, call) for call in calls]
        start.set()
        return [future.result() for future in futures]


def test_twenty_approvals_of_one_refund_credit_once(support, live_server):
    filed = support.filed(support.refund_body(subscriptionId=support.subscription_id, orderId=None,
                                              amount="1000.00"))
    operator = support.actors(Role.operator)
    path = f"/v1/servicerequests/{filed['id']}/refundrequest/approve"

    answers = _send_all(live_server, [("POST", path, operator.token, {})] * 20)

    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] + [409] * 19, {answer.status_code: answer.text for answer in answers}
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {7021}
    assert credits(support.desk, support.order["id"]) == Decimal("1000.00")


def test_approvals_racing_direct_cancels_of_the_same_line_credit_once(support, live_server):
    filed = support.filed(support.refund_body(subscriptionId=support.subscription_id, orderId=None,
                                              amount="1234.56"))
    operator, admin = support.actors(Role.operator), support.actors(Role.admin_agent)
    approve = ("POST", f"/v1/servicerequests/{filed['id']}/refundrequest/approve", operator.token, {})
    cancel = ("PATCH", f"/v1/customers/{support.customer_id}/orders/{support.order['id']}", admin.token,
              {"status": "cancelled", "lineItems": [{"lineItemNumber": 0}]})

    answers = _send_all(live_server, [approve if number % 2 else cancel for number in range(20)])

    assert all(answer.status_code in (200, 409) for answer in answers), [answer.text for answer in answers]
    approvals = [answer for answer in answers if answer.request.method == "POST"]
    approved = sum(answer.status_code == 200 for answer in approvals)
    assert approved <= 1
    # Whoever came first decided the credit: the approval's 1234.56 asked, or the direct cancel's whole line
    # (two licences, 2469.12). Nobody credited again after it.
    expected = Decimal("1234.56") if approved else Decimal("2469.12")
    assert credits(support.desk, support.order["id"]) == expected
    line = admin.get(f"/v1/customers/{support.customer_id}/orders/{support.order['id']}").json()["lineItems"][0]
    assert line["status"] == "cancelled" and Decimal(line["creditedAmount"]) == expected
