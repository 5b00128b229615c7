"""Reads as Partner Center's clients make them (issue 16, items 4 and 7): paging, query names in any
case, target views, entitlement artifacts, Azure plan subscriptions, audit records and their roles."""

from __future__ import annotations

import json

import pytest

from partnerdesk.accounts.models import Role
from tests.orders.factories import OFFICE_FR, RI_FR_1Y, ri_line, software_line
from tests.support.actors import customer_body

# Paging over two tables, date windows and a substring filter are SQL that the engines may read differently.
pytestmark = pytest.mark.both_engines

ALL_ROLES = list(Role)
AUDIT_READERS = {Role.operator, Role.admin_agent}
PURCHASE_READERS = {Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent}


def _customers(caller, count: int) -> None:
    for index in range(count):
        assert caller.post("/v1/customers", json=customer_body(f"seek{index}.example.com")).status_code == 201


def test_size_zero_is_the_default_page_size(actors):
    admin = actors(Role.admin_agent)
    _customers(admin, 3)
    page = admin.get("/v1/customers?size=0")
    assert page.status_code == 200
    assert len(page.json()["items"]) == 3
    assert "size=100" in page.json()["links"]["self"]["uri"]


def test_seek_paging_follows_the_continuation_token_of_links_next(actors):
    admin = actors(Role.admin_agent)
    _customers(admin, 5)
    seen: list[str] = []
    page = admin.get("/v1/customers?size=2").json()
    while True:
        seen += [item["id"] for item in page["items"]]
        following = page["links"].get("next")
        if following is None:
            assert page["continuationToken"] is None
            break
        [header] = following["headers"]
        assert header["key"] == "MS-ContinuationToken" and header["value"] == page["continuationToken"]
        # As the SDKs do: the link's path with seekOperation=Next, and the token in the header.
        page = admin.get("/v1/customers?size=2&seekOperation=Next",
                         headers={"MS-ContinuationToken": header["value"]}).json()
    assert len(seen) == len(set(seen)) == 5
    first = admin.get("/v1/customers?size=2&seekoperation=first").json()
    assert [item["id"] for item in first["items"]] == seen[:2]


@pytest.mark.parametrize(("query", "headers", "field"), [
    ("seekOperation=Sideways", {}, "seekOperation"),
    ("seekOperation=Next", {"MS-ContinuationToken": "not-a-token"}, "MS-ContinuationToken"),
    ("size=-1", {}, "size"),
])
def test_bad_paging_is_refused(actors, query, headers, field):
    refused = actors(Role.admin_agent).get(f"/v1/customers?{query}", headers=headers)
    assert refused.status_code == 400
    assert field in refused.json()["description"]


@pytest.mark.parametrize("view", ["Azure", "MicrosoftAzure", "OnlineServices", "onlineservices"])
def test_partner_centers_other_target_views_answer_an_empty_catalog(shop, view):
    answered = shop.buyer.get(f"/v1/products?country=FR&targetView={view}")
    assert answered.status_code == 200
    assert answered.json()["totalCount"] == 0 and answered.json()["items"] == []
    customer = shop.customer()
    assert shop.buyer.get(f"/v1/customers/{customer}/products?targetview={view}").json()["totalCount"] == 0
    assert shop.buyer.get("/v1/products?country=FR&targetView=Nonsense").status_code == 400


def test_query_parameter_names_match_in_any_case(shop):
    customer = shop.customer()
    shop.azure_subscription(customer)
    shop.buy(customer, software_line(OFFICE_FR), ri_line(RI_FR_1Y, 1, line_id=1))
    path = f"/v1/customers/{customer}/entitlements"
    assert shop.buyer.get(path).json()["totalCount"] == 2
    for query in ("entitlementtype=software", "ENTITLEMENTTYPE=Software", "entitlementType=software"):
        filtered = shop.buyer.get(f"{path}?{query}").json()
        assert [item["entitlementType"] for item in filtered["items"]] == ["software"], query
    assert shop.buyer.get("/v1/products?COUNTRY=fr&TargetView=software").json()["totalCount"] == 1


def test_a_reserved_instance_artifact_link_leads_to_its_reservations(shop, actors):
    customer = shop.customer()
    shop.azure_subscription(customer)
    shop.buy(customer, ri_line(RI_FR_1Y, 2))
    [entitlement] = shop.buyer.get(f"/v1/customers/{customer}/entitlements?entitlementtype=reservedinstance"
                                   ).json()["items"]
    [artifact] = entitlement["entitledArtifacts"]
    assert artifact["artifactType"] == "reservedinstance"

    for role in ALL_ROLES:
        followed = actors(role).get(artifact["link"]["uri"])
        assert followed.status_code == (200 if role in PURCHASE_READERS else 403), (role, followed.text)
    details = shop.buyer.get(artifact["link"]["uri"]).json()
    assert details["type"] == "reservedinstance"
    assert [(item["reservationOrderId"], item["quantity"]) for item in details["reservations"]] == [
        (artifact["resourceId"], 2)]
    rival = actors(Role.admin_agent, partner="Rival")
    assert rival.get(artifact["link"]["uri"]).status_code == 404
    missing = shop.buyer.get(f"/v1/customers/{customer}/artifacts/reservedinstance/unknown")
    assert missing.status_code == 404 and missing.json()["code"] == 1701


def test_azure_plan_subscriptions_are_listed_and_their_self_link_reads(shop, actors):
    customer = shop.customer()
    azure = shop.azure_subscription(customer)
    shop.buy(customer, software_line(OFFICE_FR))
    listed = shop.buyer.get(f"/v1/customers/{customer}/subscriptions").json()
    assert listed["totalCount"] == 2
    assert [item["billingType"] for item in listed["items"]] == ["license", "usage"]
    [plan] = [item for item in listed["items"] if item["id"] == azure]
    read = shop.buyer.get(plan["links"]["self"]["uri"])
    assert read.status_code == 200 and read.json()["id"] == azure and read.json()["offerName"] == plan["offerName"]
    second = shop.buyer.get(f"/v1/customers/{customer}/subscriptions?size=1&offset=1").json()
    assert [item["id"] for item in second["items"]] == [azure]
    assert actors(Role.admin_agent, partner="Rival").get(plan["links"]["self"]["uri"]).status_code == 404
    assert shop.buyer.get(f"/v1/customers/{customer}/subscriptions/nothing-here").status_code == 404


def test_audit_records_speak_partner_centers_operations(shop, actors):
    customer = shop.customer()
    shop.buy(customer, software_line(OFFICE_FR, 2))
    admin = actors(Role.admin_agent)

    records = admin.get("/v1/auditrecords?startDate=2026-11-01&endDate=2026-11-24&size=500").json()["items"]

    by_operation = {record["operationType"]: record for record in records}
    assert {"add_customer", "create_order"} <= set(by_operation)
    order = by_operation["create_order"]
    assert (order["resourceType"], order["operationStatus"], order["customerId"]) == ("order", "succeeded", customer)
    assert order["userPrincipalName"] == shop.buyer.email
    assert {"key": "ObjectId", "value": order["customizedData"][0]["value"]} in order["customizedData"]
    assert by_operation["add_customer"]["customerName"]


def test_audit_records_filter_page_and_stay_within_the_partner(shop, actors):
    first, second = shop.customer(), shop.customer()
    shop.buy(first, software_line(OFFICE_FR))
    admin = actors(Role.admin_agent)
    by_customer = json.dumps({"Field": "CustomerId", "Value": first, "Operator": "equals"})
    only_first = admin.get("/v1/auditrecords", params={"filter": by_customer})
    assert {record["customerId"] for record in only_first.json()["items"]} == {first}
    orders = admin.get('/v1/auditrecords?filter={"Field":"ResourceType","Value":"Order","Operator":"equals"}')
    assert {record["operationType"] for record in orders.json()["items"]} == {"create_order"}
    paged = admin.get("/v1/auditrecords?size=1").json()
    assert len(paged["items"]) == 1 and paged["totalCount"] > 1 and "next" in paged["links"]
    assert second and actors(Role.admin_agent, partner="Rival").get("/v1/auditrecords").json()["totalCount"] == 0
    # Partner Center's own date forms; an end before the start, or a date of no form, is refused.
    assert admin.get("/v1/auditrecords?startDate=11/1/2026 12:00:00 AM").status_code == 200
    assert admin.get("/v1/auditrecords?startDate=2026-11-30&endDate=2026-11-01").status_code == 400
    refused = admin.get("/v1/auditrecords?startDate=yesterday")
    assert refused.status_code == 400 and refused.json()["code"] == 1702
    assert admin.get("/v1/auditrecords?filter=[[[").json()["code"] == 1702


@pytest.mark.parametrize("role", ALL_ROLES)
def test_audit_records_are_for_the_operator_and_admin_agents(actors, role):
    answered = actors(role).get("/v1/auditrecords")
    assert answered.status_code == (200 if role in AUDIT_READERS else 403)


def test_unknown_names_in_the_header_are_escaped_and_bounded(actors):
    body = customer_body()
    body["bad\nname é"] = 1
    for index in range(60):
        body[f"extra{index}"] = index
    created = actors(Role.admin_agent).post("/v1/customers", json=body)
    assert created.status_code == 201
    header = created.headers["Partner-Desk-Ignored-Fields"]
    assert header.startswith("bad%0Aname%20%C3%A9, extra0, extra1") and header.endswith("...11 more")
