"""The catalog API: who may call what, Partner Center shapes, bad input, and the operator's writes."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.auth import role_matrix
from partnerdesk.accounts.models import Role
from partnerdesk.catalog.models import Availability, Product
from tests.catalog.factories import RESERVED_ID, SOFTWARE_ID, build_catalog
from tests.support.actors import customer_body

READERS = [Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent]
AGENTS = [Role.admin_agent, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin]
VIEWS = [
    "Software",
    "SoftwarePerpetual",
    "SoftwareSubscriptions",
    "AzureReservations",
    "AzureReservationsVM",
    "AzureReservationsSQL",
]


def read_paths(customer_id: str) -> list[str]:
    sku = f"/v1/products/{SOFTWARE_ID}/skus/0001"
    return [
        "/v1/products?country=FR&targetView=Software",
        f"/v1/products/{SOFTWARE_ID}",
        f"/v1/products/{SOFTWARE_ID}?country=FR",
        f"/v1/products/{SOFTWARE_ID}/skus?country=FR",
        sku,
        f"{sku}/availabilities?country=FR",
        f"{sku}/availabilities/0001",
        f"/v1/customers/{customer_id}/products?targetView=Software",
        f"/v1/customers/{customer_id}/products/{SOFTWARE_ID}/skus",
        f"/v1/customers/{customer_id}/products/{SOFTWARE_ID}/skus/0001/availabilities",
    ]


def write_calls() -> list[tuple[str, str, dict | None]]:
    sku = f"/v1/products/{SOFTWARE_ID}/skus/0001"
    product = {
        "title": "Windows Server 2022",
        "productType": {"id": "Software", "subType": {"id": "Perpetual"}},
    }
    sku_body = {"title": "Standard", "supportedBillingCycles": ["one_time"]}
    price = {"currency": "EUR", "unitPrice": "1000.00", "billingPlan": "one_time"}
    return [
        ("POST", "/v1/products", {**product, "id": "NEWPRODUCT01"}),
        ("PUT", f"/v1/products/{SOFTWARE_ID}", product),
        ("POST", f"/v1/products/{SOFTWARE_ID}/skus", {**sku_body, "id": "0009"}),
        ("PUT", sku, sku_body),
        ("POST", f"{sku}/availabilities", {**price, "id": "0099", "country": "DE"}),
        ("PUT", f"{sku}/availabilities/0001", price),
        ("DELETE", f"{sku}/availabilities/0001", None),
        ("DELETE", sku, None),
        ("DELETE", f"/v1/products/{SOFTWARE_ID}", None),
    ]


@pytest.fixture
def fr_customer(actors) -> str:
    response = actors(Role.admin_agent).post("/v1/customers", json=customer_body(country="FR"))
    return response.json()["id"]


@pytest.mark.parametrize("role", READERS)
def test_readers_read_every_catalog_endpoint(actors, desk, fr_customer, role):
    build_catalog(desk, markets=("FR",))
    for path in read_paths(fr_customer):
        response = actors(role).get(path)
        assert response.status_code == 200, (path, response.text)


def test_billing_admin_reads_no_catalog_endpoint(actors, desk, fr_customer):
    build_catalog(desk, markets=("FR",))
    for path in read_paths(fr_customer):
        response = actors(Role.billing_admin).get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == 1101


def test_without_a_token_the_catalog_is_closed(client, desk):
    build_catalog(desk, markets=("FR",))
    assert client.get("/v1/products?country=FR&targetView=Software").status_code == 401


@pytest.mark.parametrize("role", AGENTS)
def test_agents_may_not_write_the_catalog(actors, desk, role):
    build_catalog(desk, markets=("FR",))
    for method, path, body in write_calls():
        response = actors(role).request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == 1101
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Product)) == 2
        ended = db.scalar(
            select(func.count()).select_from(Availability).where(Availability.effective_end.is_not(None))
        )
        assert ended == 0


def test_the_operator_may_make_every_write(actors, desk):
    build_catalog(desk, markets=("FR",))
    expected = {"POST": 201, "PUT": 200, "DELETE": 204}
    for method, path, body in write_calls():
        response = actors(Role.operator).request(method, path, json=body)
        assert response.status_code == expected[method], (method, path, response.text)


def test_the_role_matrix_declares_the_catalog_and_policy_routes(app):
    rows = {(method, path): roles for method, path, roles in role_matrix(app)}
    assert rows[("GET", "/v1/products")] == frozenset(READERS)
    assert rows[("GET", "/v1/customers/{customerId}/products")] == frozenset(READERS)
    assert rows[("POST", "/v1/products")] == frozenset({Role.operator})
    assert rows[
        ("PUT", "/v1/products/{productId}/skus/{skuId}/availabilities/{availabilityId}")
    ] == frozenset({Role.operator})
    assert rows[("GET", "/v1/policies")] == frozenset(Role)
    assert rows[("PUT", "/v1/policies/{key}")] == frozenset({Role.operator})
    catalog_rows = [roles for (_method, path), roles in rows.items() if path.startswith("/v1/products")]
    assert all(Role.billing_admin not in roles for roles in catalog_rows)


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({"targetView": "Software"}, 2101, "country is required"),
        ({"country": "", "targetView": "Software"}, 2101, "country is required"),
        ({"country": "QQ", "targetView": "Software"}, 1502, "'QQ' is not a market"),
        ({"country": "France", "targetView": "Software"}, 1502, "'France' is not a market"),
        ({"country": "FR"}, 2100, "targetView is required"),
        ({"country": "FR", "targetView": "Games"}, 2100, "'Games' is not a target view"),
    ],
)
def test_bad_country_or_target_view_is_a_clear_400(actors, desk, params, code, named):
    build_catalog(desk, markets=("FR",))
    response = actors(Role.sales_agent).get("/v1/products", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert named in response.json()["description"]
    if code == 2100:
        assert all(view in response.json()["description"] for view in VIEWS)


def test_bad_country_on_skus_and_availabilities_and_bad_view_for_a_customer(actors, desk, fr_customer):
    build_catalog(desk, markets=("FR",))
    sales = actors(Role.sales_agent)
    assert sales.get(f"/v1/products/{SOFTWARE_ID}/skus").json()["code"] == 2101
    assert sales.get(f"/v1/products/{SOFTWARE_ID}/skus?country=ZZ").status_code == 400
    assert sales.get(f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities").status_code == 400
    bad_view = sales.get(f"/v1/customers/{fr_customer}/products", params={"targetView": "Nope"})
    assert bad_view.status_code == 400 and bad_view.json()["code"] == 2100
    assert sales.get(f"/v1/customers/{fr_customer}/products").json()["code"] == 2100


def test_target_views_select_product_types(actors, desk):
    build_catalog(desk, markets=("FR",))
    sales = actors(Role.sales_agent)
    found = {
        view: [
            item["id"]
            for item in sales.get("/v1/products", params={"country": "FR", "targetView": view}).json()[
                "items"
            ]
        ]
        for view in VIEWS
    }
    assert found == {
        "Software": [SOFTWARE_ID],
        "SoftwarePerpetual": [SOFTWARE_ID],
        "SoftwareSubscriptions": [],
        "AzureReservations": [RESERVED_ID],
        "AzureReservationsVM": [RESERVED_ID],
        "AzureReservationsSQL": [],
    }
    lower = sales.get("/v1/products", params={"country": "fr", "targetView": "azurereservationsvm"})
    assert [item["id"] for item in lower.json()["items"]] == [RESERVED_ID]


def test_shapes_follow_partner_center(actors, desk):
    build_catalog(desk, markets=("FR",))
    sales = actors(Role.sales_agent)
    product = sales.get(f"/v1/products/{RESERVED_ID}?country=FR").json()
    assert product["productType"] == {
        "id": "Azure",
        "displayName": "Azure",
        "subType": {"id": "VirtualMachines", "displayName": "VirtualMachines"},
    }
    assert product["links"]["skus"]["uri"] == f"/v1/products/{RESERVED_ID}/skus?country=FR"
    skus = sales.get(product["links"]["skus"]["uri"]).json()
    assert skus["totalCount"] == 1
    sku = skus["items"][0]
    assert sku["provisioningVariables"] == ["Scope", "SubscriptionId", "Duration"]
    assert sku["supportedBillingCycles"] == ["one_time"]
    assert sku["dynamicAttributes"]["armSkuName"] == "Standard_D4s_v5"
    availabilities = sales.get(sku["links"]["availabilities"]["uri"]).json()
    item = availabilities["items"][0]
    assert {
        key: item[key]
        for key in (
            "id",
            "productId",
            "skuId",
            "title",
            "catalogItemId",
            "country",
            "currency",
            "terms",
            "unitPrice",
        )
    } == {
        "id": "0001",
        "productId": RESERVED_ID,
        "skuId": "0001",
        "title": "Reserved VM Instance, Dsv5 Series, D4s v5, 1 year",
        "catalogItemId": f"{RESERVED_ID}:0001:0001",
        "country": "FR",
        "currency": "EUR",
        "terms": [{"duration": "P1Y", "description": "1 year"}],
        "unitPrice": "1234.56",
    }
    assert item["effectiveStartDate"] == "2026-01-01T00:00:00Z"
    assert item["links"]["self"]["uri"] == f"/v1/products/{RESERVED_ID}/skus/0001/availabilities/0001"
    software_sku = sales.get(f"/v1/products/{SOFTWARE_ID}/skus/0001").json()
    assert software_sku["dynamicAttributes"] == {
        "versions": ["2022", "2019"],
        "languages": ["en-US", "fr-FR"],
        "fileTypes": ["ISO x64", "VHD x64"],
    }
    perpetual = sales.get(f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities?country=FR").json()[
        "items"
    ][0]
    assert (
        perpetual["terms"] == []
        and perpetual["title"] == "Windows Server 2022, Windows Server 2022 Standard - 16 Core License Pack"
    )


def test_products_of_a_market_are_those_with_prices_in_force_now(actors, desk, clock):
    from datetime import timedelta

    build_catalog(desk, markets=("FR",))
    build_catalog_later = actors(Role.operator).post(
        f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities",
        json={
            "country": "DE",
            "currency": "EUR",
            "unitPrice": "1.00",
            "billingPlan": "one_time",
            "effectiveStartDate": (clock.now() + timedelta(days=10)).isoformat(),
        },
    )
    assert build_catalog_later.status_code == 201
    sales = actors(Role.sales_agent)
    assert sales.get("/v1/products?country=DE&targetView=Software").json()["totalCount"] == 0
    assert sales.get("/v1/products?country=US&targetView=Software").json()["totalCount"] == 0
    assert sales.get(f"/v1/products/{SOFTWARE_ID}?country=DE").status_code == 404
    clock.advance(timedelta(days=10))
    assert sales.get("/v1/products?country=DE&targetView=Software").json()["totalCount"] == 1


def test_a_customers_catalog_is_its_market_and_another_partners_customer_is_not_found(actors, desk):
    build_catalog(desk, markets=("FR", "US"))
    us_customer = (
        actors(Role.admin_agent).post("/v1/customers", json=customer_body(country="US")).json()["id"]
    )
    response = actors(Role.sales_agent).get(f"/v1/customers/{us_customer}/products?targetView=Software")
    assert (
        response.json()["items"][0]["links"]["skus"]["uri"] == f"/v1/products/{SOFTWARE_ID}/skus?country=US"
    )
    prices = (
        actors(Role.sales_agent)
        .get(f"/v1/customers/{us_customer}/products/{SOFTWARE_ID}/skus/0001/availabilities")
        .json()
    )
    assert [(item["country"], item["currency"]) for item in prices["items"]] == [("US", "USD")]
    rival = actors(Role.sales_agent, partner="Rival Reseller")
    assert rival.get(f"/v1/customers/{us_customer}/products?targetView=Software").status_code == 404


def test_paging_through_products(actors, desk):
    operator = actors(Role.operator)
    for number in range(5):
        product_id = f"PRODUCT{number:05d}"
        operator.post(
            "/v1/products",
            json={
                "id": product_id,
                "title": f"Product {number}",
                "productType": {"id": "Software", "subType": {"id": "Perpetual"}},
            },
        )
        operator.post(
            f"/v1/products/{product_id}/skus",
            json={"title": "Only", "supportedBillingCycles": ["one_time"]},
        )
        operator.post(
            f"/v1/products/{product_id}/skus/0001/availabilities",
            json={"country": "FR", "currency": "EUR", "unitPrice": "10", "billingPlan": "one_time"},
        )
    first = operator.get("/v1/products?country=FR&targetView=Software&size=2").json()
    assert first["totalCount"] == 5 and [item["title"] for item in first["items"]] == [
        "Product 0",
        "Product 1",
    ]
    seen = [item["id"] for item in first["items"]]
    next_uri = first["links"]["next"]["uri"]
    while next_uri:
        page = operator.get(next_uri).json()
        seen += [item["id"] for item in page["items"]]
        next_uri = page["links"].get("next", {}).get("uri")
    assert seen == [f"PRODUCT{number:05d}" for number in range(5)]


def test_unknown_products_skus_and_availabilities_are_404(actors, desk):
    build_catalog(desk, markets=("FR",))
    sales = actors(Role.sales_agent)
    assert sales.get("/v1/products/NOPE").json()["code"] == 2000
    assert sales.get(f"/v1/products/{SOFTWARE_ID}/skus/0042").json()["code"] == 2001
    assert sales.get(f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities/0042").json()["code"] == 2002
    assert sales.get(f"/v1/products/{SOFTWARE_ID}?country=JP").status_code == 404


# The operator's writes


def test_the_operator_builds_a_product_sku_and_price_and_each_write_is_logged(actors, desk):
    operator = actors(Role.operator)
    product = operator.post(
        "/v1/products",
        json={
            "title": "SQL Server 2022",
            "description": "Relational database",
            "publisher": "Microsoft Corporation",
            "productType": {"id": "Software", "displayName": "Software", "subType": {"id": "perpetual"}},
        },
    )
    assert product.status_code == 201, product.text
    product_id = product.json()["id"]
    assert len(product_id) == 12 and product_id.isalnum() and product_id.isupper()
    assert product.json()["productType"]["subType"]["id"] == "Perpetual"
    sku = operator.post(
        f"/v1/products/{product_id}/skus",
        json={
            "title": "Standard - 2 Core License Pack",
            "supportedBillingCycles": ["OneTime"],
            "dynamicAttributes": {"versions": ["2022"], "languages": ["fr-fr"], "fileTypes": ["ISO x64"]},
        },
    )
    assert sku.status_code == 201, sku.text
    assert sku.json()["id"] == "0001" and sku.json()["dynamicAttributes"]["languages"] == ["fr-FR"]
    price = operator.post(
        f"/v1/products/{product_id}/skus/0001/availabilities",
        json={
            "country": "fr",
            "currency": "eur",
            "unitPrice": "3668.85",
            "erpPrice": "4000",
            "billingPlan": "one_time",
        },
    )
    assert price.status_code == 201, price.text
    assert price.json()["catalogItemId"] == f"{product_id}:0001:0001"
    assert price.json()["unitPrice"] == "3668.85" and price.json()["erpPrice"] == "4000.00"
    changed = operator.put(
        f"/v1/products/{product_id}/skus/0001/availabilities/0001",
        json={
            "currency": "EUR",
            "unitPrice": "3500",
            "billingPlan": "one_time",
        },
    )
    assert changed.status_code == 200 and changed.json()["unitPrice"] == "3500.00"
    actions = [entry["action"] for entry in operator.get("/v1/activitylogs").json()["items"]]
    assert actions == ["availability.updated", "availability.created", "sku.created", "product.created"]
    update = operator.get("/v1/activitylogs?action=availability.updated").json()["items"][0]
    assert (
        update["details"]["old"]["unit_price"] == "3668.85"
        and update["details"]["new"]["unit_price"] == "3500.00"
    )


def test_a_retried_create_with_the_same_request_id_makes_one_product(actors, desk):
    operator = actors(Role.operator)
    body = {
        "title": "Windows Server 2025",
        "productType": {"id": "Software", "subType": {"id": "Perpetual"}},
    }
    request_id = str(uuid.uuid4())
    first = operator.post("/v1/products", json=body, request_id=request_id)
    again = operator.post("/v1/products", json=body, request_id=request_id)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Product)) == 1


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"currency": "EURO"}, "currency: 'EURO' is not a currency"),
        ({"unitPrice": "-5"}, "is negative"),
        ({"unitPrice": "12.345678"}, "more than 4 decimal places"),
        ({"unitPrice": "twelve"}, "is not an amount"),
        ({"unitPrice": "NaN"}, "is not an amount"),
        ({"country": "XX"}, "'XX' is not a market"),
        ({"terms": []}, "P1Y or P3Y (rule R8)"),
        ({"terms": [{"duration": "P1M"}]}, "P1Y or P3Y (rule R8)"),
        ({"billingPlan": "weekly"}, "not a billing plan"),
        ({"billingPlan": "monthly"}, "is billed one_time, not monthly"),
        (
            {"effectiveStartDate": "2026-05-01T00:00:00Z", "effectiveEndDate": "2026-04-01T00:00:00Z"},
            "end must come after the start",
        ),
        ({"effectiveStartDate": "2026-05-01T00:00:00"}, "effectiveStartDate"),
        ({"segment": "Retail"}, "not a segment"),
        ({"id": "00:1"}, "id"),
        ({"Currency": "USD"}, "currency is given more than once"),
    ],
)
def test_bad_prices_are_refused_and_nothing_is_written(actors, desk, body, named):
    build_catalog(desk, markets=("FR",))
    valid = {
        "country": "DE",
        "currency": "EUR",
        "unitPrice": "100",
        "billingPlan": "one_time",
        "terms": [{"duration": "P1Y"}],
    }
    response = actors(Role.operator).post(
        f"/v1/products/{RESERVED_ID}/skus/0001/availabilities", json={**valid, **body}
    )
    assert response.status_code == 400, response.text
    assert named in response.json()["description"]
    with desk.database.session(write=False) as db:
        assert (
            db.scalar(select(func.count()).select_from(Availability).where(Availability.country == "DE"))
            == 0
        )


def test_perpetual_software_has_no_term_and_types_must_exist(actors, desk):
    build_catalog(desk, markets=("FR",))
    operator = actors(Role.operator)
    termed = operator.post(
        f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities",
        json={
            "country": "DE",
            "currency": "EUR",
            "unitPrice": "100",
            "billingPlan": "one_time",
            "terms": [{"duration": "P1Y"}],
        },
    )
    assert termed.status_code == 400 and "perpetual software has no term" in termed.json()["description"]
    unknown = operator.post(
        "/v1/products", json={"title": "X", "productType": {"id": "Hardware", "subType": {"id": "X"}}}
    )
    assert (
        unknown.status_code == 400 and "'Hardware' is not a product type" in unknown.json()["description"]
    )
    no_sub = operator.post("/v1/products", json={"title": "X", "productType": {"id": "Azure"}})
    assert no_sub.status_code == 400 and "subType" in no_sub.json()["description"]
    nul = operator.post(
        "/v1/products",
        json={
            "title": "X",
            "description": "a\u0000b",
            "productType": {"id": "Azure", "subType": {"id": "SQL"}},
        },
    )
    assert nul.status_code == 400 and "NUL" in nul.json()["description"]
    taken = operator.post(
        "/v1/products",
        json={
            "id": SOFTWARE_ID,
            "title": "X",
            "productType": {"id": "Software", "subType": {"id": "Perpetual"}},
        },
    )
    assert taken.status_code == 409 and taken.json()["code"] == 2010
    moved = operator.put(
        f"/v1/products/{SOFTWARE_ID}",
        json={"title": "X", "productType": {"id": "Azure", "subType": {"id": "SQL"}}},
    )
    assert moved.status_code == 409 and moved.json()["code"] == 2201
    subscription = operator.put(
        f"/v1/products/{SOFTWARE_ID}",
        json={"title": "X", "productType": {"id": "Software", "subType": {"id": "Subscription"}}},
    )
    assert (
        subscription.status_code == 400
        and "subscription needs a term" in subscription.json()["description"]
    )


def test_withdrawing_ends_prices_in_force_and_drops_future_ones(actors, desk, clock):
    from datetime import timedelta

    catalog = build_catalog(desk, markets=("FR",))
    operator, sales = actors(Role.operator), actors(Role.sales_agent)
    future = operator.post(
        f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities",
        json={
            "country": "FR",
            "currency": "EUR",
            "unitPrice": "900",
            "billingPlan": "one_time",
            "effectiveStartDate": (clock.now() + timedelta(days=30)).isoformat(),
        },
    ).json()
    assert operator.delete(f"/v1/products/{SOFTWARE_ID}").status_code == 204
    assert sales.get("/v1/products?country=FR&targetView=Software").json()["totalCount"] == 0
    ended = sales.get(
        f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities/{catalog.software['FR'].rsplit(':', 1)[1]}"
    ).json()
    assert ended["effectiveEndDate"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        sales.get(f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities/{future['id']}").status_code == 404
    )
    entry = operator.get("/v1/activitylogs?action=product.withdrawn").json()["items"][0]
    assert entry["details"] == {"ended": 1, "dropped": 1, "kept": 1}
