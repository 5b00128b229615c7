"""Fixtures for purchase tests: a loaded catalog and a shop that buys as a sales agent of Contoso Reseller,
and a Reserved Instance SKU sold in one region, Partner Center's way, beside the catalog's multi-region one."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from tests.orders.factories import RI_PRODUCT, Shop, load_catalog


@pytest.fixture
def shop(desk, actors) -> Shop:
    load_catalog(desk)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))


PER_REGION_SKU = {
    "id": "0002", "title": "D8s v5", "supportedBillingCycles": ["one_time"],
    "dynamicAttributes": {"armSkuName": "Standard_D8s_v5", "instanceSeries": "Dsv5 Series",
                          "armRegionName": "francecentral"},
}


@pytest.fixture
def per_region_item(shop: Shop, actors) -> str:
    """An operator adds a D8s v5 sold in France Central only, priced for FR; its catalogItemId."""
    operator = actors(Role.operator)
    created = operator.post(f"/v1/products/{RI_PRODUCT}/skus", json=PER_REGION_SKU)
    assert created.status_code == 201, created.text
    priced = operator.post(f"/v1/products/{RI_PRODUCT}/skus/0002/availabilities", json={
        "country": "FR", "currency": "EUR", "unitPrice": "2469.12", "billingPlan": "one_time",
        "terms": [{"duration": "P1Y"}], "effectiveStartDate": "2020-01-01T00:00:00Z"})
    assert priced.status_code == 201, priced.text
    return priced.json()["catalogItemId"]
