"""Rule R5's window read from the sandbox test clock (`POST /v1/sandbox/clock`), as a partner tries it: a purchase
can be cancelled, or its refund approved, on day 0, day 59 and day 60, never one second after; a cancelled
software purchase's key is revoked, its old and new links answer 410, and the credit is the line's amount."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from partnerdesk.accounts.models import Role
from tests.servicerequests.conftest import request_body
from tests.servicerequests.test_refund_queue import credits
from tests.software.conftest import software  # noqa: F401 - the fixture
from tests.software.factories import SoftwareShop

pytestmark = pytest.mark.both_engines


def _advance(actors, clock, days: int, seconds: int = 0) -> None:
    if days:
        moved = actors(Role.operator).post("/v1/sandbox/clock", json={"advanceDays": days})
        assert moved.status_code == 200, moved.text
    clock.advance(timedelta(seconds=seconds))


@pytest.mark.parametrize("days, seconds, allowed", [(0, 0, True), (59, 0, True), (60, 0, True), (60, 1, False)])
def test_the_direct_cancel_follows_the_sandbox_clock(software: SoftwareShop, actors, clock,  # noqa: F811
                                                     days, seconds, allowed):
    software_id = software.buy(quantity=1)
    shown = software.keys_and_downloads(software_id).json()
    old_link = shown["downloads"][0]["uri"].removeprefix(software.desk.settings.public_base_url)
    new_link = software.link(software_id)
    item = software.item(software_id)
    _advance(actors, clock, days, seconds)

    answer = software.cancel(software_id)

    if not allowed:
        assert answer.status_code == 409 and "can no longer be cancelled" in answer.json()["description"]
        assert credits(software.desk, item["orderId"]) == 0
        assert software.item(software_id)["status"] == "active"  # its links expired after 14 days (R4), not revoked
        return
    assert answer.status_code == 200, answer.text
    line = answer.json()["lineItems"][item["lineItemNumber"]]
    assert Decimal(line["creditedAmount"]) == credits(software.desk, item["orderId"]) > 0
    for link in (old_link, new_link):
        assert software.download(link).status_code == 410
    refused = software.keys_and_downloads(software_id).json()
    assert refused["productKeys"][0]["status"] == "revoked" and refused["downloads"] == []


@pytest.mark.parametrize("days, seconds, allowed", [(59, 0, True), (60, 0, True), (60, 1, False)])
def test_refund_approval_follows_the_sandbox_clock(software: SoftwareShop, actors, clock,  # noqa: F811
                                                   days, seconds, allowed):
    software_id = software.buy(quantity=1)
    item = software.item(software_id)
    domain = software.admin.get(f"/v1/customers/{software.customer_id}").json()["companyProfile"]["domain"]
    filed = software.admin.post("/v1/servicerequests/en-US", json=request_body(1001, refundRequest={
        "customerDomain": domain, "subscriptionId": item["subscriptionId"], "reason": "customer_cancelled",
        "amount": "10.00", "currency": "EUR"}))
    assert filed.status_code == 201, filed.text
    _advance(actors, clock, days, seconds)

    answer = actors(Role.operator).post(f"/v1/servicerequests/{filed.json()['id']}/refundrequest/approve", json={})

    if allowed:
        assert answer.status_code == 200, answer.text
        assert credits(software.desk, item["orderId"]) == Decimal("10.00")
        assert software.item(software_id)["status"] == "revoked"
    else:
        assert answer.status_code == 409 and answer.json()["code"] == 7024
        assert credits(software.desk, item["orderId"]) == 0
