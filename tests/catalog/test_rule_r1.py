"""Rule R1: no Reserved Instances in the operator's excluded markets, in the catalog or at purchase."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.catalog import service
from partnerdesk.catalog.errors import ReservedInstancesNotSold
from tests.catalog.factories import RESERVED_ID, SOFTWARE_ID, build_catalog
from tests.support.actors import customer_body

SEED_EXCLUDED = [
    "AR",
    "AZ",
    "BY",
    "BR",
    "CN",
    "IN",
    "ID",
    "KZ",
    "LI",
    "MY",
    "MX",
    "RU",
    "SA",
    "ZA",
    "KR",
    "TW",
    "TR",
    "UA",
]


def product_ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def new_customer(actors, country: str) -> str:
    response = actors(Role.admin_agent).post("/v1/customers", json=customer_body(country=country))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def resolve(desk, catalog_item_id: str, country: str):
    with desk.database.session(write=False) as db:
        return service.resolve_purchasable(
            db, catalog_item_id=catalog_item_id, country=country, now=desk.clock.now()
        )


@pytest.mark.parametrize("country", SEED_EXCLUDED)
def test_reserved_instances_are_hidden_and_refused_in_every_excluded_market(actors, desk, country):
    catalog = build_catalog(desk, markets=(country,))
    sales = actors(Role.sales_agent)
    for view in ("AzureReservations", "AzureReservationsVM"):
        assert product_ids(sales.get("/v1/products", params={"country": country, "targetView": view})) == []
    assert product_ids(
        sales.get("/v1/products", params={"country": country, "targetView": "Software"})
    ) == [SOFTWARE_ID]
    customer_id = new_customer(actors, country)
    assert (
        product_ids(
            sales.get(f"/v1/customers/{customer_id}/products", params={"targetView": "AzureReservations"})
        )
        == []
    )
    assert product_ids(
        sales.get(f"/v1/customers/{customer_id}/products", params={"targetView": "Software"})
    ) == [SOFTWARE_ID]
    refused = sales.get(f"/v1/products/{RESERVED_ID}/skus", params={"country": country})
    assert refused.status_code == 400
    assert refused.json() == {
        "code": 2104,
        "data": [country],
        "description": f"Reserved Instances are not sold in market {country} (rule R1).",
        "source": "PartnerDesk",
    }

    with pytest.raises(ReservedInstancesNotSold) as raised:
        resolve(desk, catalog.reserved[country], country.lower())
    assert raised.value.status_code == 400 and raised.value.code == 2104
    assert raised.value.description == f"Reserved Instances are not sold in market {country} (rule R1)."
    assert raised.value.data == [country]
    assert resolve(desk, catalog.software[country], country).unit_price > 0


def test_the_seed_lists_exactly_eighteen_markets(actors):
    policy = actors(Role.operator).get("/v1/policies/ri_excluded_markets").json()
    assert sorted(policy["value"]) == sorted(SEED_EXCLUDED) and len(policy["value"]) == 18
    assert policy["isDefault"] is True and policy["rule"] == "R1"


@pytest.mark.parametrize("country", ["FR", "US"])
def test_reserved_instances_are_shown_and_sold_elsewhere(actors, desk, country):
    catalog = build_catalog(desk, markets=(country,))
    sales = actors(Role.sales_agent)
    assert product_ids(
        sales.get("/v1/products", params={"country": country, "targetView": "AzureReservationsVM"})
    ) == [RESERVED_ID]
    customer_id = new_customer(actors, country)
    assert product_ids(
        sales.get(f"/v1/customers/{customer_id}/products", params={"targetView": "AzureReservations"})
    ) == [RESERVED_ID]
    item = resolve(desk, catalog.reserved[country], country)
    assert item.is_reserved_instance and item.term_duration == "P1Y"
    assert item.provisioning_variables == ("Scope", "SubscriptionId", "Duration")
    assert item.regions == ("westeurope", "eastus")


def test_changing_the_policy_through_the_api_changes_the_answer_at_once_and_is_logged(actors, desk):
    catalog = build_catalog(desk, markets=("BR", "FR"))
    operator, sales = actors(Role.operator), actors(Role.sales_agent)

    def reserved_in(country: str) -> list[str]:
        return product_ids(
            sales.get("/v1/products", params={"country": country, "targetView": "AzureReservations"})
        )

    assert reserved_in("BR") == [] and reserved_in("FR") == [RESERVED_ID]
    new_list = [code for code in SEED_EXCLUDED if code != "BR"] + ["FR"]
    changed = operator.put("/v1/policies/ri_excluded_markets", json={"value": new_list})
    assert changed.status_code == 200, changed.text
    assert "BR" not in changed.json()["value"] and "FR" in changed.json()["value"]

    assert reserved_in("BR") == [RESERVED_ID] and reserved_in("FR") == []
    assert resolve(desk, catalog.reserved["BR"], "BR").currency == "BRL"
    with pytest.raises(ReservedInstancesNotSold, match="market FR"):
        resolve(desk, catalog.reserved["FR"], "FR")

    log = operator.get("/v1/activitylogs", params={"action": "policy.updated"}).json()
    assert log["totalCount"] == 1
    entry = log["items"][0]
    assert entry["objectId"] == "ri_excluded_markets" and entry["agentEmail"] == operator.email
    assert "BR" in entry["details"]["old"] and "FR" not in entry["details"]["old"]
    assert "FR" in entry["details"]["new"] and "BR" not in entry["details"]["new"]
