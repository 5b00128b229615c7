"""The activity log: who did what; readable by the operator and the partner's admins; append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from partnerdesk.accounts.models import Role
from tests.support.actors import customer_body


def test_creating_a_customer_is_logged_with_who_what_and_request_id(actors):
    sales = actors(Role.sales_agent)
    request_id = "0f1e2d3c-4b5a-4697-8877-665544332211"
    customer = sales.post("/v1/customers", json=customer_body(), request_id=request_id).json()
    log = actors(Role.admin_agent).get(f"/v1/activitylogs?customerId={customer['id']}").json()
    assert log["totalCount"] == 1
    entry = log["items"][0]
    assert entry["action"] == "customer.created"
    assert entry["agentEmail"] == sales.email
    assert entry["operatorType"] == "agent"
    assert entry["objectId"] == customer["id"]
    assert entry["requestId"] == request_id


@pytest.mark.parametrize("role", [Role.sales_agent, Role.helpdesk_agent, Role.billing_admin])
def test_only_admins_and_the_operator_read_the_log(actors, role):
    assert actors(role).get("/v1/activitylogs").status_code == 403


def test_admins_see_only_their_partners_activity(actors):
    actors(Role.admin_agent).post("/v1/customers", json=customer_body())
    rival = actors(Role.admin_agent, partner="Rival Reseller")
    rival.post("/v1/customers", json=customer_body())
    assert rival.get("/v1/activitylogs").json()["totalCount"] == 1
    assert actors(Role.admin_agent).get("/v1/activitylogs").json()["totalCount"] == 1
    assert actors(Role.operator).get("/v1/activitylogs").json()["totalCount"] == 2
    ours = actors(Role.admin_agent).get("/v1/activitylogs").json()["items"][0]["partnerId"]
    assert rival.get(f"/v1/activitylogs?partnerId={ours}").status_code == 403
    assert actors(Role.operator).get(f"/v1/activitylogs?partnerId={ours}").json()["totalCount"] == 1


def test_filters_by_action_agent_and_time(actors, clock):
    admin = actors(Role.admin_agent)
    admin.post("/v1/customers", json=customer_body())
    later = clock.now().isoformat()
    assert admin.get("/v1/activitylogs", params={"action": "customer.created"}).json()["totalCount"] == 1
    assert admin.get("/v1/activitylogs", params={"action": "order.created"}).json()["totalCount"] == 0
    assert admin.get("/v1/activitylogs", params={"agentEmail": admin.email.upper()}).json()["totalCount"] == 1
    assert admin.get("/v1/activitylogs", params={"endDate": later}).json()["totalCount"] == 0
    assert admin.get("/v1/activitylogs", params={"startDate": later}).json()["totalCount"] == 1
    naive = admin.get("/v1/activitylogs", params={"startDate": "2026-01-01T00:00:00"})
    assert naive.status_code == 400


@pytest.mark.parametrize("statement", ["UPDATE activity_log SET action = 'forged'", "DELETE FROM activity_log"])
def test_the_database_refuses_to_change_or_delete_records(actors, desk, statement):
    actors(Role.admin_agent).post("/v1/customers", json=customer_body())
    with pytest.raises(DBAPIError), desk.database.session() as db:
        db.execute(text(statement))
    assert actors(Role.operator).get("/v1/activitylogs").json()["items"][0]["action"] == "customer.created"
