"""Reserved Instances the Partner Center way (issue 16 item 3): one SKU per VM size and Azure region, named by
`dynamicAttributes.armRegionName`, and a cart line as Partner Center's docs print it (no termDuration, no
region: the SKU is the region) bought through checkout to a `reservedinstance` entitlement.

The catalog is the demo's (`catalog/demo.py`), the one a user of Partner Desk sees first.
"""

from __future__ import annotations

import copy
import re

import pytest
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.catalog import demo as catalog_demo
from partnerdesk.catalog.models import Availability, Sku
from tests.compat.shapes import assert_documented_shape, fixture
from tests.orders.factories import Shop

IGNORED = "Partner-Desk-Ignored-Fields"
DSV5 = "DZH318Z0BXQ7"
SKU_ID = re.compile(r"^[A-Za-z0-9]{4}$")


@pytest.fixture
def shop(desk, actors) -> Shop:
    with desk.database.session() as db:
        catalog_demo.load(db, desk.clock.now(), lambda _message: None)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))


def _sku_in(shop: Shop, customer_id: str, product_id: str, arm_sku_name: str, region: str) -> dict:
    skus = shop.buyer.get(f"/v1/customers/{customer_id}/products/{product_id}/skus").json()["items"]
    [sku] = [sku for sku in skus if (sku["dynamicAttributes"]["armSkuName"],
                                      sku["dynamicAttributes"].get("armRegionName")) == (arm_sku_name, region)]
    return sku


def _one_year_upfront(shop: Shop, customer_id: str, sku: dict) -> str:
    """The catalogItemId of the SKU's one-year, paid-upfront price in the customer's market."""
    availabilities = shop.buyer.get(
        f"/v1/customers/{customer_id}/products/{sku['productId']}/skus/{sku['id']}/availabilities").json()["items"]
    [upfront] = [item for item in availabilities
                 if item["terms"][0]["duration"] == "P1Y" and item["billingPlan"] == "one_time"]
    return upfront["catalogItemId"]


def _documented_cart(catalog_item_id: str, subscription_id: str, **context: str) -> dict:
    """Partner Center's printed cart, with this catalog's item and the customer's Azure subscription in it."""
    body = copy.deepcopy(fixture("reserved-instance-cart")["request"])
    line = body["LineItems"][0]
    line["CatalogItemId"] = catalog_item_id
    line["ProvisioningContext"]["subscriptionId"] = subscription_id.upper()  # the docs' spelling of a GUID
    line["ProvisioningContext"].update(context)
    return body


def test_reserved_instance_skus_are_one_per_size_and_region_with_arm_region_name(shop):
    customer_id = shop.customer(country="FR")
    products = shop.buyer.get(f"/v1/customers/{customer_id}/products?targetView=AzureReservations").json()
    assert products["totalCount"] == 3

    answered = shop.buyer.get(f"/v1/customers/{customer_id}/products/{DSV5}/skus").json()
    assert_documented_shape("reserved-instance-skus", answered)
    by_place = {}
    for sku in answered["items"]:
        attributes = sku["dynamicAttributes"]
        assert SKU_ID.match(sku["id"]), sku["id"]
        assert attributes["regions"] == [attributes["armRegionName"]]
        assert attributes["instanceSeries"] == "Dsv5 Series"
        assert sku["provisioningVariables"] == ["Scope", "SubscriptionId", "Duration"]
        by_place[(attributes["armSkuName"], attributes["armRegionName"])] = (sku["id"], attributes["cores"])
    assert len(by_place) == len(answered["items"]) == 2 * len(catalog_demo.RI_REGIONS)
    assert {region for _size, region in by_place} == set(catalog_demo.RI_REGIONS)
    # DESIGN.md's example keeps its id: the D4s v5 in West Europe is SKU 0001.
    assert by_place[("Standard_D4s_v5", "westeurope")] == ("0001", "4")
    assert by_place[("Standard_D2s_v5", "westeurope")] == ("0002", "2")
    assert by_place[("Standard_D4s_v5", "northeurope")] == ("0003", "4")
    # The market's catalog (no customer) says the same.
    assert shop.buyer.get(f"/v1/products/{DSV5}/skus?country=FR").json()["items"] == answered["items"]
    sql = shop.buyer.get("/v1/products/DZH318Z0BQ4R/skus/0002?country=FR").json()["dynamicAttributes"]
    assert (sql["armSkuName"], sql["armRegionName"]) == ("SQLDB_GP_Compute_Gen5", "northeurope")
    assert "cores" not in sql  # not a VM size: the catalog does not make a number up


def test_an_availability_embeds_its_sku_with_the_region(shop):
    customer_id = shop.customer(country="FR")
    sku = _sku_in(shop, customer_id, DSV5, "Standard_D4s_v5", "northeurope")
    answered = shop.buyer.get(
        f"/v1/customers/{customer_id}/products/{DSV5}/skus/{sku['id']}/availabilities").json()
    assert_documented_shape("availabilities", answered)
    assert len(answered["items"]) == 4  # one and three years, upfront and monthly
    for availability in answered["items"]:
        assert availability["catalogItemId"].startswith(f"{DSV5}:{sku['id']}:")
        assert availability["sku"]["dynamicAttributes"]["armRegionName"] == "northeurope"
        assert availability["product"]["id"] == DSV5 and availability["isPurchasable"] is True


@pytest.mark.both_engines
def test_partner_centers_reserved_instance_cart_is_bought_in_the_skus_region(shop):
    customer_id = shop.customer(country="FR")
    subscription_id = shop.azure_subscription(customer_id)
    sku = _sku_in(shop, customer_id, DSV5, "Standard_D4s_v5", "northeurope")
    catalog_item_id = _one_year_upfront(shop, customer_id, sku)

    created = shop.buyer.post(f"/v1/customers/{customer_id}/carts",
                              json=_documented_cart(catalog_item_id, subscription_id))

    assert created.status_code == 201, created.text
    assert IGNORED not in created.headers
    assert_documented_shape("reserved-instance-cart", created.json())
    [line] = created.json()["lineItems"]
    assert (line["catalogItemId"], line["quantity"], line["termDuration"], line["friendlyName"]) == (
        catalog_item_id, 2, "P1Y", "A_sample_Azure_RI")
    assert line["provisioningContext"] == {"scope": "Shared", "subscriptionId": subscription_id,
                                           "duration": "1Year", "region": "northeurope"}

    checkout = shop.checkout(customer_id, created.json()["id"])
    assert checkout.status_code == 201, checkout.text
    [order] = checkout.json()["orders"]
    assert order["lineItems"][0]["offerId"] == catalog_item_id and order["lineItems"][0]["quantity"] == 2

    entitlements = shop.buyer.get(f"/v1/customers/{customer_id}/entitlements?entitlementtype=reservedinstance")
    assert_documented_shape("entitlements", entitlements.json())
    [entitlement] = entitlements.json()["items"]
    assert (entitlement["productId"], entitlement["skuId"], entitlement["entitlementType"]) == (
        DSV5, sku["id"], "reservedInstance")
    [artifact] = entitlement["entitledArtifacts"]
    assert artifact["artifactType"] == "reservedinstance"
    details = shop.buyer.get(artifact["link"]["uri"])
    assert details.status_code == 200, details.text
    [reservation] = details.json()["reservations"]
    assert (reservation["region"], reservation["scopeType"], reservation["quantity"],
            reservation["billingSubscriptionId"]) == ("northeurope", "Shared", 2, subscription_id)


@pytest.mark.both_engines
def test_a_region_other_than_the_skus_is_refused_naming_the_field_and_nothing_is_written(shop):
    customer_id = shop.customer(country="FR")
    subscription_id = shop.azure_subscription(customer_id)
    sku = _sku_in(shop, customer_id, DSV5, "Standard_D4s_v5", "northeurope")
    catalog_item_id = _one_year_upfront(shop, customer_id, sku)

    refused = shop.buyer.post(f"/v1/customers/{customer_id}/carts",
                              json=_documented_cart(catalog_item_id, subscription_id, region="westeurope"))

    assert refused.status_code == 400, refused.text
    error = refused.json()
    assert error["code"] == 3503
    assert error["data"][:2] == ["lineItems[0].provisioningContext.region", "northeurope"]
    assert "westeurope" in error["description"] and "northeurope" in error["description"]
    assert shop.buyer.get(f"/v1/customers/{customer_id}/orders").json()["totalCount"] == 0
    # Naming the SKU's own region, in any letter case, is no disagreement.
    same = shop.buyer.post(f"/v1/customers/{customer_id}/carts",
                           json=_documented_cart(catalog_item_id, subscription_id, region="NorthEurope"))
    assert same.status_code == 201, same.text
    assert same.json()["lineItems"][0]["provisioningContext"]["region"] == "northeurope"


def test_a_duration_the_price_is_not_sold_for_is_refused_naming_the_duration(shop):
    customer_id = shop.customer(country="FR")
    subscription_id = shop.azure_subscription(customer_id)
    sku = _sku_in(shop, customer_id, DSV5, "Standard_D2s_v5", "westeurope")
    catalog_item_id = _one_year_upfront(shop, customer_id, sku)

    refused = shop.buyer.post(f"/v1/customers/{customer_id}/carts",
                              json=_documented_cart(catalog_item_id, subscription_id, duration="3Year"))

    assert refused.status_code == 400, refused.text
    assert refused.json()["data"][0] == "lineItems[0].provisioningContext.duration"
    assert "P1Y" in refused.json()["description"]


def test_rule_r1_still_keeps_per_region_skus_out_of_an_excluded_market(shop):
    customer_id = shop.customer(country="BR")
    subscription_id = shop.azure_subscription(customer_id)
    assert shop.buyer.get(
        f"/v1/customers/{customer_id}/products?targetView=AzureReservations").json()["totalCount"] == 0
    hidden = shop.buyer.get(f"/v1/customers/{customer_id}/products/{DSV5}/skus")
    assert hidden.status_code == 400 and hidden.json()["code"] == 2104

    # The D4s v5 in Brazil South has a BR price (the demo prices RIs in BR too); R1 refuses it by market.
    dsv5 = next(product for product in catalog_demo.PRODUCTS if product.id == DSV5)
    brazil_south = catalog_demo.ri_sku_id(dsv5, 0, catalog_demo.RI_REGIONS.index("brazilsouth"))
    availabilities = shop.buyer.get(f"/v1/products/{DSV5}/skus/{brazil_south}/availabilities?country=BR")
    assert availabilities.status_code == 400 and availabilities.json()["code"] == 2104
    with shop.desk.database.session(write=False) as db:
        availability_id = db.scalar(select(Availability.id).where(
            Availability.product_id == DSV5, Availability.sku_id == brazil_south, Availability.country == "BR",
            Availability.term_duration == "P1Y", Availability.billing_plan == "one_time"))

    refused = shop.buyer.post(f"/v1/customers/{customer_id}/carts", json=_documented_cart(
        f"{DSV5}:{brazil_south}:{availability_id}", subscription_id))

    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == 2104 and "BR" in refused.json()["data"]


def test_the_demo_loaded_before_skus_were_per_region_is_narrowed_to_them_and_operator_changes_are_kept(shop):
    """A database loaded earlier held each size once with every demo region, under today's westeurope ids."""
    esv5 = "DZH318Z0BXR1"
    with shop.desk.database.session() as db:
        db.get(Sku, (DSV5, "0001")).regions = list(catalog_demo.RI_REGIONS)
        db.get(Sku, (DSV5, "0002")).regions = list(catalog_demo.RI_REGIONS)
        db.get(Sku, (esv5, "0001")).regions = ["westeurope", "eastus"]  # an operator's own change
    said: list[str] = []

    with shop.desk.database.session() as db:
        catalog_demo.load(db, shop.desk.clock.now(), said.append)

    with shop.desk.database.session(write=False) as db:
        assert db.get(Sku, (DSV5, "0001")).regions == db.get(Sku, (DSV5, "0002")).regions == ["westeurope"]
        assert db.get(Sku, (esv5, "0001")).regions == ["westeurope", "eastus"]
    assert said == ["demo catalog: 2 Reserved Instance SKUs now sold in one region each"]
