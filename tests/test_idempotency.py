"""A retried write with the same MS-RequestId does its work once and answers the same."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.customers.models import Customer
from tests.support.actors import customer_body


def count_customers(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(Customer))


def test_the_same_request_id_twice_creates_one_customer(actors, desk):
    admin = actors(Role.admin_agent)
    request_id = str(uuid.uuid4())
    body = customer_body()
    first = admin.post("/v1/customers", json=body, request_id=request_id)
    second = admin.post("/v1/customers", json=body, request_id=request_id)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["MS-RequestId"] == request_id
    assert count_customers(desk) == 1


def test_twenty_concurrent_retries_create_one_customer(actors, desk, live_server):
    token = actors(Role.admin_agent).token
    request_id = str(uuid.uuid4())
    body = customer_body()

    def send(_):
        headers = {"Authorization": f"Bearer {token}", "MS-RequestId": request_id}
        return httpx.post(f"{live_server}/v1/customers", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(send, range(20)))
    assert [response.status_code for response in responses] == [201] * 20
    assert len({response.json()["id"] for response in responses}) == 1
    assert count_customers(desk) == 1


def test_reusing_a_request_id_for_another_request_is_refused(actors, desk):
    admin = actors(Role.admin_agent)
    request_id = str(uuid.uuid4())
    assert admin.post("/v1/customers", json=customer_body(), request_id=request_id).status_code == 201
    other = admin.post("/v1/customers", json=customer_body(), request_id=request_id)
    assert other.status_code == 409 and other.json()["code"] == 1301
    assert count_customers(desk) == 1


def test_request_ids_are_per_partner(actors, desk):
    request_id = str(uuid.uuid4())
    ours = actors(Role.admin_agent).post("/v1/customers", json=customer_body(), request_id=request_id)
    theirs = actors(Role.admin_agent, partner="Rival Reseller").post(
        "/v1/customers", json=customer_body(), request_id=request_id
    )
    assert ours.status_code == theirs.status_code == 201
    assert ours.json()["id"] != theirs.json()["id"]
    assert count_customers(desk) == 2


def test_a_failed_first_attempt_does_not_block_the_retry(actors, desk):
    admin = actors(Role.admin_agent)
    request_id = str(uuid.uuid4())
    body = customer_body(country="QQ")
    assert admin.post("/v1/customers", json=body, request_id=request_id).status_code == 400
    body["billingProfile"]["defaultAddress"]["country"] = "FR"
    # The failed attempt left nothing behind, its key included, so the corrected retry runs.
    assert admin.post("/v1/customers", json=body, request_id=request_id).status_code == 201
    assert count_customers(desk) == 1


def test_request_and_correlation_ids_are_echoed_and_must_be_uuids(actors):
    admin = actors(Role.admin_agent)
    correlation = str(uuid.uuid4())
    response = admin.get("/v1/customers", headers={"MS-CorrelationId": correlation})
    assert response.headers["MS-CorrelationId"] == correlation
    bad = admin.get("/v1/customers", headers={"MS-RequestId": "not-a-uuid"})
    assert bad.status_code == 400 and bad.json()["code"] == 1003
