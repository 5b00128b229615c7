"""Where a reservation is made: a per-region SKU (Partner Center's shape) is its region, a multi-region SKU
(Partner Desk's earlier shape) asks for one in `provisioningContext.region`. Both are sold side by side."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.reservations.errors import InvalidProvisioningContext
from partnerdesk.reservations.service import plan_reservation, term_from_context
from tests.orders.factories import RI_FR_1Y, RI_PRODUCT, RI_REGIONS, ri_line
from tests.reservations.conftest import PER_REGION_SKU

IGNORED = "Partner-Desk-Ignored-Fields"


def test_an_operator_sells_a_sku_in_one_region_by_naming_its_arm_region(per_region_item, actors):
    operator = actors(Role.operator)
    sku = operator.get(f"/v1/products/{RI_PRODUCT}/skus/0002").json()
    assert sku["dynamicAttributes"] == {"armSkuName": "Standard_D8s_v5", "instanceSeries": "Dsv5 Series",
                                        "cores": "8", "armRegionName": "francecentral", "regions": ["francecentral"]}
    # What was read is accepted back unchanged (cores is derived, so read-only).
    again = operator.put(f"/v1/products/{RI_PRODUCT}/skus/0002", json=sku)
    assert again.status_code == 200, again.text
    assert IGNORED not in again.headers and again.json()["dynamicAttributes"] == sku["dynamicAttributes"]
    # The multi-region SKU keeps its list and names no single region.
    multi = operator.get(f"/v1/products/{RI_PRODUCT}/skus/0001").json()["dynamicAttributes"]
    assert multi["regions"] == RI_REGIONS and "armRegionName" not in multi


def test_a_region_list_that_contradicts_arm_region_name_is_refused_and_nothing_changes(per_region_item, actors):
    operator = actors(Role.operator)
    body = {**PER_REGION_SKU, "dynamicAttributes": {**PER_REGION_SKU["dynamicAttributes"], "regions": ["eastus"]}}
    refused = operator.put(f"/v1/products/{RI_PRODUCT}/skus/0002", json=body)
    assert refused.status_code == 400, refused.text
    assert "armRegionName" in refused.json()["description"]
    assert operator.get(f"/v1/products/{RI_PRODUCT}/skus/0002").json()["dynamicAttributes"]["regions"] == [
        "francecentral"]


def test_one_cart_buys_a_per_region_sku_without_a_region_and_a_multi_region_one_with_its_region(shop,
                                                                                                per_region_item):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    result = shop.buy(customer,
                      ri_line(per_region_item, quantity=1, line_id=0, region=None),
                      ri_line(RI_FR_1Y, quantity=3, line_id=1, region="northeurope"))
    [order] = result["orders"]
    assert [line["offerId"] for line in order["lineItems"]] == [per_region_item, RI_FR_1Y]
    entitlements = shop.buyer.get(f"/v1/customers/{customer}/entitlements?entitlementType=reservedInstance")
    regions = {item["skuId"]: item["entitledArtifacts"][0]["reservations"][0]["region"]
               for item in entitlements.json()["items"]}
    assert regions == {"0002": "francecentral", "0001": "northeurope"}


def test_a_multi_region_sku_still_needs_one_of_its_regions(shop):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    for region, named in ((None, "required"), ("francecentral", "westeurope, northeurope")):
        refused = shop.cart(customer, ri_line(RI_FR_1Y, region=region))
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == 3503
        assert refused.json()["data"][0] == "lineItems[0].provisioningContext.region"
        assert named in refused.json()["description"]


def test_a_per_region_sku_refuses_another_region(shop, per_region_item):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    refused = shop.cart(customer, ri_line(per_region_item, region="westeurope"))
    assert refused.status_code == 400, refused.text
    assert refused.json()["data"] == ["lineItems[0].provisioningContext.region", "francecentral"]
    assert shop.cart(customer, ri_line(per_region_item, region="FranceCentral")).status_code == 201


@pytest.mark.parametrize(("context", "term"), [
    ({"duration": "1Year"}, "P1Y"), ({"Duration": "3year"}, "P3Y"), ({"duration": "P3Y"}, "P3Y"),
    ({"duration": "2Year"}, None), ({"scope": "shared"}, None), (None, None), ({"duration": 1}, None),
])
def test_the_term_partner_center_gives_in_the_duration(context, term):
    assert term_from_context(context) == term


def _plan(regions, **context):
    return plan_reservation(context={"scope": "shared", **context}, field="line.provisioningContext",
                            customer_id="c", term_duration="P1Y", regions=regions, purchase_prerequisites=(),
                            subscriptions=[_Subscription()])


class _Subscription:
    id = "3d5eced6-1151-44c7-aee6-70a4bb725666"
    capacity_registration = "Registered"


def test_the_region_of_a_plan_comes_from_the_sku_when_it_has_one():
    assert _plan(["westus2"]).region == "westus2"
    assert _plan(["westus2"], region="WESTUS2").region == "westus2"
    assert _plan(["westus2", "eastus"], region="EastUS").region == "eastus"
    assert _plan(["westus2"], duration="p1y").duration == "1Year"
    with pytest.raises(InvalidProvisioningContext) as refused:
        _plan(["westus2"], region="eastus")
    assert refused.value.data == ["line.provisioningContext.region", "westus2"]
