"""Request-rate limits as Partner Center answers them: per partner, and per partner and customer on the
purchase routes, 429 with Retry-After and Partner Center's body; counted in memory or in the database,
which several server processes share."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.policies import service as policies
from tests.support.actors import Actors, customer_body
from tests.support.served import UVICORN_FACTORY, served

pytestmark = pytest.mark.both_engines


def rate_limited(seconds: int) -> dict:
    return {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}


def set_policies(desk, **values) -> None:
    with desk.database.session() as db:
        for key, value in values.items():
            policies.set_policy(db, key=key, value=value, principal=None, now=desk.clock.now())


@pytest.fixture(params=["memory", "database"])
def limited_app(request, settings, desk):
    settings.throttle_storage = request.param
    return create_app(desk=desk)


@pytest.fixture
def limited_actors(limited_app, desk):
    from fastapi.testclient import TestClient

    with TestClient(limited_app, raise_server_exceptions=False) as client:
        yield Actors(desk=desk, client=client)


# Through PgBouncer too: each count is a transaction of its own, which transaction pooling must carry.
@pytest.mark.pgbouncer
def test_a_partner_over_its_limit_gets_429_while_another_partner_is_served(limited_actors, desk, clock):
    set_policies(desk, api_requests_per_partner=5, api_rate_limit_window_seconds=60)
    contoso, colleague = limited_actors(Role.sales_agent), limited_actors(Role.admin_agent)
    rival = limited_actors(Role.sales_agent, partner="Rival")
    assert [contoso.get("/v1/customers").status_code for _ in range(3)] == [200] * 3
    # The limit is the partner's: its agents share it, whoever holds the token.
    assert [colleague.get("/v1/customers").status_code for _ in range(2)] == [200] * 2
    clock.advance(timedelta(seconds=20))
    refused = contoso.get("/v1/customers")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "40"
    assert refused.json() == rate_limited(40)
    assert colleague.post("/v1/customers", json=customer_body()).status_code == 429
    assert rival.get("/v1/customers").status_code == 200
    # The operator runs the desk and is never held to a partner's rate.
    assert limited_actors(Role.operator).get("/v1/customers").status_code == 200
    clock.advance(timedelta(seconds=40))
    assert contoso.get("/v1/customers").status_code == 200


def test_purchase_routes_are_also_limited_per_customer(limited_actors, desk):
    set_policies(desk, api_purchase_requests_per_customer=3, api_rate_limit_window_seconds=3600)
    admin = limited_actors(Role.admin_agent)
    first = admin.post("/v1/customers", json=customer_body()).json()["id"]
    second = admin.post("/v1/customers", json=customer_body()).json()["id"]
    answers = [admin.get(f"/v1/customers/{first}/orders").status_code,
               admin.post(f"/v1/customers/{first}/carts", json={"lineItems": []}).status_code,
               admin.get(f"/v1/customers/{first.upper()}/orders").status_code]
    assert 429 not in answers
    refused = admin.get(f"/v1/customers/{first}/orders")
    assert refused.status_code == 429 and refused.json() == rate_limited(3600)
    assert admin.get(f"/v1/customers/{first}/carts/00000000-0000-4000-8000-000000000000").status_code == 429
    # Another customer's purchases and the partner's other routes go on.
    assert admin.get(f"/v1/customers/{second}/orders").status_code == 200
    assert admin.get(f"/v1/customers/{first}").status_code == 200
    assert admin.get(f"/v1/customers/{first}/subscriptions").status_code == 200
    # Another partner's limit for a customer id is its own.
    assert limited_actors(Role.admin_agent, partner="Rival").get(f"/v1/customers/{first}/orders").status_code == 404


def test_the_default_limits_are_far_above_what_a_client_does(actors):
    caller = actors(Role.sales_agent)
    assert all(caller.get("/v1/customers").status_code == 200 for _ in range(50))


def test_the_limits_are_operator_policies_checked_like_any_other(actors):
    operator = actors(Role.operator)
    refused = operator.put("/v1/policies/api_requests_per_partner", json={"value": 0})
    assert refused.status_code == 400 and "whole number from 1" in refused.json()["description"]
    assert actors(Role.admin_agent).put("/v1/policies/api_requests_per_partner", json={"value": 9}).status_code == 403
    changed = operator.put("/v1/policies/api_requests_per_partner", json={"value": 2})
    assert changed.status_code == 200 and changed.json()["value"] == 2
    caller = actors(Role.sales_agent)
    assert [caller.get("/v1/customers").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_limit_holds_across_two_server_processes_on_postgresql(settings, desk, monkeypatch, tmp_path):
    monkeypatch.setenv("PARTNERDESK_THROTTLE_STORAGE", "database")
    set_policies(desk, api_requests_per_partner=6, api_rate_limit_window_seconds=3600)
    caller = Actors(desk=desk, client=None).new(Role.sales_agent)  # type: ignore[arg-type]
    rival = Actors(desk=desk, client=None).new(Role.sales_agent, partner="Rival")  # type: ignore[arg-type]
    with served(settings, UVICORN_FACTORY, log=tmp_path / "one.log") as (one, _first), \
            served(settings, UVICORN_FACTORY, log=tmp_path / "two.log") as (two, _second):
        statuses = [httpx.get(f"{base}/v1/customers", headers=caller.headers(), timeout=30).status_code
                    for base in (one, two) * 4]
        refused = httpx.get(f"{two}/v1/customers", headers=caller.headers(), timeout=30)
        other_partner = httpx.get(f"{one}/v1/customers", headers=rival.headers(), timeout=30)
    assert statuses == [200] * 6 + [429] * 2
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 3500
    assert refused.json() == rate_limited(int(refused.headers["Retry-After"]))
    assert other_partner.status_code == 200
