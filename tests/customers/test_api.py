"""Customers through the REST API: create, read, search, scoping, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.customers.models import Customer
from tests.support.actors import customer_body

WRITERS = [Role.admin_agent, Role.sales_agent]
REFUSED_WRITERS = [Role.helpdesk_agent, Role.billing_admin, Role.operator]
READERS = [Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent]


def count_customers(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(Customer))


@pytest.mark.parametrize("role", WRITERS)
def test_allowed_roles_create_a_customer_with_a_tenant_guid(actors, role):
    response = actors(role).post("/v1/customers", json=customer_body("Fabrikam.OnMicrosoft.com."))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == body["companyProfile"]["tenantId"]
    assert body["companyProfile"]["domain"] == "fabrikam.onmicrosoft.com"
    assert body["billingProfile"]["defaultAddress"]["country"] == "FR"
    assert body["billingProfile"]["culture"] == "fr-FR"
    fetched = actors(role).get(f"/v1/customers/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["companyProfile"]["companyName"] == "Fabrikam"


@pytest.mark.parametrize("role", REFUSED_WRITERS)
def test_other_roles_may_not_create_customers(actors, desk, role):
    response = actors(role).post("/v1/customers", json=customer_body())
    assert response.status_code == 403
    assert response.json()["code"] == 1101
    assert count_customers(desk) == 0


def test_without_a_token_nothing_is_readable(client):
    assert client.get("/v1/customers").status_code == 401
    assert client.post("/v1/customers", json=customer_body()).status_code == 401
    bad = client.get("/v1/customers", headers={"Authorization": "Bearer pdk_not-a-token"})
    assert bad.status_code == 401
    assert bad.json()["code"] == 1100


@pytest.mark.parametrize("role", READERS)
def test_readers_list_customers(actors, role):
    actors(Role.admin_agent).post("/v1/customers", json=customer_body())
    response = actors(role).get("/v1/customers")
    assert response.status_code == 200
    assert response.json()["totalCount"] == 1


def test_billing_admin_may_not_read_customers(actors):
    created = actors(Role.admin_agent).post("/v1/customers", json=customer_body()).json()
    assert actors(Role.billing_admin).get("/v1/customers").status_code == 403
    assert actors(Role.billing_admin).get(f"/v1/customers/{created['id']}").status_code == 403


def test_an_agent_never_sees_another_partners_customers(actors):
    ours = actors(Role.admin_agent).post("/v1/customers", json=customer_body()).json()
    rival = actors(Role.admin_agent, partner="Rival Reseller")
    assert rival.get(f"/v1/customers/{ours['id']}").status_code == 404
    assert rival.get("/v1/customers").json()["totalCount"] == 0
    assert actors(Role.operator).get(f"/v1/customers/{ours['id']}").status_code == 200


def test_search_by_company_name_and_domain_and_partner_center_filter(actors):
    admin = actors(Role.admin_agent)
    admin.post("/v1/customers", json=customer_body("alpha.example.com", company_name="Alpha Corp"))
    admin.post("/v1/customers", json=customer_body("beta.example.com", company_name="Beta SA"))
    assert [c["companyProfile"]["companyName"] for c in admin.get("/v1/customers?companyName=alp").json()["items"]] \
        == ["Alpha Corp"]
    assert admin.get("/v1/customers?domain=beta").json()["totalCount"] == 1
    assert admin.get("/v1/customers?q=corp").json()["totalCount"] == 1
    pc_filter = '{"Field": "Domain", "Value": "alpha", "Operator": "starts_with"}'
    assert admin.get("/v1/customers", params={"filter": pc_filter}).json()["totalCount"] == 1
    bad = admin.get("/v1/customers", params={"filter": "{nope"})
    assert bad.status_code == 400 and "filter" in bad.json()["description"]


def test_a_filter_nested_past_the_parsers_depth_is_a_400_not_a_500(actors):
    deep = actors(Role.admin_agent).get("/v1/customers", params={"filter": "[" * 20_000})
    assert deep.status_code == 400 and deep.json()["data"] == ["filter"]


def test_pagination_is_stable_and_links_to_the_next_page(actors):
    admin = actors(Role.admin_agent)
    for index in range(5):
        admin.post("/v1/customers", json=customer_body(f"c{index}.example.com", company_name=f"Company {index}"))
    first = admin.get("/v1/customers?size=2").json()
    assert first["totalCount"] == 5 and len(first["items"]) == 2
    seen = [item["id"] for item in first["items"]]
    next_uri = first["links"]["next"]["uri"]
    while next_uri:
        page = admin.get(next_uri).json()
        seen += [item["id"] for item in page["items"]]
        next_uri = page["links"].get("next", {}).get("uri")
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["billingProfile"]["defaultAddress"].update(country="QQ"), "billingProfile.defaultAddress.country"),
        (lambda b: b["companyProfile"].update(domain="not a domain"), "companyProfile.domain"),
        (lambda b: b["companyProfile"].update(domain="-bad-.com"), "companyProfile.domain"),
        (lambda b: b["billingProfile"].update(email="nobody"), "billingProfile.email"),
        (lambda b: b["billingProfile"].update(culture="xx-??"), "billingProfile.culture"),
        (lambda b: b["companyProfile"].update(companyName=42), "companyProfile.companyName"),
        (lambda b: b["companyProfile"].pop("domain"), "companyProfile.domain"),
        (lambda b: b["companyProfile"].update(companyName="   "), "companyProfile.companyName"),
        # Names match in any letter case, so the same field twice is refused rather than one silently kept.
        (lambda b: b["companyProfile"].update(Domain="other.example.com"), "companyProfile"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_written(actors, desk, mutate, field):
    body = customer_body()
    mutate(body)
    response = actors(Role.admin_agent).post("/v1/customers", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert isinstance(error["code"], int)
    assert field in error["description"]
    assert count_customers(desk) == 0


def test_malformed_json_and_oversized_bodies_are_refused(actors, desk):
    admin = actors(Role.admin_agent)
    json_header = {"content-type": "application/json"}
    malformed = admin.post("/v1/customers", content=b'{"companyProfile": ', headers=json_header)
    assert malformed.status_code == 400 and malformed.json()["code"] == 1001
    huge = customer_body()
    huge["companyProfile"]["companyName"] = "x" * 2_000_000
    oversized = admin.post("/v1/customers", json=huge)
    assert oversized.status_code == 413 and oversized.json()["code"] == 1002
    assert count_customers(desk) == 0


def test_a_domain_belongs_to_one_customer_only(actors, desk):
    first = actors(Role.admin_agent).post("/v1/customers", json=customer_body("shared.example.com"))
    assert first.status_code == 201
    again = actors(Role.sales_agent, partner="Rival Reseller").post(
        "/v1/customers", json=customer_body("SHARED.example.com")
    )
    assert again.status_code == 409 and again.json()["code"] == 1500
    assert count_customers(desk) == 1


def test_unknown_customer_is_404(actors):
    response = actors(Role.admin_agent).get("/v1/customers/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and response.json()["code"] == 1200


def test_an_oversized_body_sent_in_chunks_is_refused_too(actors, desk):
    def chunks():
        for _ in range(1500):
            yield b"x" * 1000

    response = actors(Role.admin_agent).post(
        "/v1/customers", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["code"] == 1002
    assert count_customers(desk) == 0
