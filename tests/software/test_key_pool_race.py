"""A key is issued to one purchase, ever, however many purchases ask at once: 200 concurrent requests for
200 purchases on a pool of 100 keys give 100 distinct keys and 100 clear refusals with the operator's
alerts, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.software.models import ProductKey
from tests.software.factories import CHOICE, import_keys, make_keys

PURCHASES = 200
POOL = 100


# Also through PgBouncer in transaction mode, as deployments run it.
@pytest.mark.pgbouncer
def test_200_concurrent_requests_on_a_pool_of_100_give_100_distinct_keys_and_100_clear_refusals(
        software, live_server, actors):
    import_keys(software.desk, make_keys(POOL - 10, seed=2))  # the fixture's 10, and 90 more
    pooled = set(make_keys(10)) | set(make_keys(POOL - 10, seed=2))
    purchases = software.buy_many(PURCHASES)
    start = threading.Barrier(PURCHASES)

    def ask(client: httpx.Client, software_id: str) -> httpx.Response:
        start.wait()
        return client.post(f"/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads",
                           json=CHOICE)

    with httpx.Client(base_url=live_server, headers=software.admin.headers(), timeout=120,
                      limits=httpx.Limits(max_connections=PURCHASES)) as client, \
            ThreadPoolExecutor(max_workers=PURCHASES) as pool:
        answers = dict(zip(purchases, pool.map(lambda software_id: ask(client, software_id), purchases),
                           strict=True))

    assert Counter(answer.status_code for answer in answers.values()) == {200: POOL, 409: PURCHASES - POOL}
    served = {software_id: answer.json() for software_id, answer in answers.items() if answer.status_code == 200}
    keys = [body["productKeys"][0]["key"] for body in served.values()]
    assert len(set(keys)) == POOL and set(keys) == pooled  # every key once, none made up
    assert all(len(body["productKeys"]) == 1 and len(body["downloads"]) == 1 for body in served.values())
    refused = {software_id for software_id, answer in answers.items() if answer.status_code == 409}
    for software_id in refused:
        error = answers[software_id].json()
        assert error["code"] == 6002 and "operator has been alerted" in error["description"]
        assert "productKeys" not in error
    with software.desk.database.session(write=False) as db:
        holders = db.execute(select(ProductKey.entitlement_id, func.count()).group_by(ProductKey.entitlement_id)).all()
    assert dict(holders) == dict.fromkeys(served, 1)  # every key issued, each to one purchase, one per purchase
    operator = actors(Role.operator)
    alerts = operator.get(f"/v1/activitylogs?action=software.key_pool_empty&size={PURCHASES}").json()
    assert alerts["totalCount"] == PURCHASES - POOL
    assert {alert["details"]["softwareId"] for alert in alerts["items"]} == refused
    reveals = operator.get(f"/v1/activitylogs?action=software.keys_revealed&size={PURCHASES}").json()
    assert {reveal["objectId"] for reveal in reveals["items"]} == set(served)
    # The refused ones are served once the operator refills the pool, with keys none of the others hold.
    import_keys(software.desk, make_keys(PURCHASES - POOL, seed=3))
    again = software.keys_and_downloads(sorted(refused)[0])
    assert again.status_code == 200 and again.json()["productKeys"][0]["key"] not in pooled


def test_concurrent_requests_for_one_purchase_all_show_the_same_keys(software, live_server):
    software_id = software.buy(quantity=3)
    asking = 20
    start = threading.Barrier(asking)

    def ask(client: httpx.Client) -> httpx.Response:
        start.wait()
        return client.post(f"/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads",
                           json=CHOICE)

    with httpx.Client(base_url=live_server, headers=software.admin.headers(), timeout=120,
                      limits=httpx.Limits(max_connections=asking)) as client, \
            ThreadPoolExecutor(max_workers=asking) as pool:
        answers = list(pool.map(lambda _: ask(client), range(asking)))

    assert [answer.status_code for answer in answers] == [200] * asking
    shown = {tuple(key["key"] for key in answer.json()["productKeys"]) for answer in answers}
    assert len(shown) == 1 and len(set(next(iter(shown)))) == 3  # three keys, the same for every request
    links = {answer.json()["downloads"][0]["uri"] for answer in answers}
    assert len(links) == asking  # a fresh link each time
    with software.desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(ProductKey).where(ProductKey.status == "issued")) == 3
