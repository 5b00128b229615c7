"""bench/large_data.py at a small size: the rows it writes are ones the API reads, and keyset pages walk them.

PostgreSQL only (the generator writes with PostgreSQL's generate_series). The full size is a benchmark, not a
test: `bench/large_data.py run`.
"""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from bench import large_data
from partnerdesk.app import create_app
from partnerdesk.core.desk import Desk
from tests.core.test_pagination_keyset import walk

CUSTOMERS, ORDERS, PARTNERS = 300, 3_000, 12


class Reader:
    """An API client holding one of the generated agents' tokens."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers={"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})},
                               **kwargs)


@pytest.fixture
def generated(database_url, tmp_path):
    data_dir = tmp_path / "data"
    manifest = large_data.generate(database_url, data_dir, customers=CUSTOMERS, orders=ORDERS, partners=PARTNERS)
    desk = Desk.from_settings(large_data.kit.app_settings(database_url, data_dir))
    try:
        with TestClient(create_app(desk=desk)) as client:
            yield manifest, {role: Reader(client, token) for role, token in manifest.tokens.items()}
    finally:
        desk.database.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_small_generated_set_reads_through_every_list(generated):
    manifest, readers = generated
    sales, operator = readers["sales_agent"], readers["operator"]

    everyone = operator.get("/v1/customers?size=1").json()
    assert everyone["totalCount"] == CUSTOMERS + 1  # and the template customer the real purchases were made for
    theirs = sales.get("/v1/customers?size=500").json()
    # Contoso is the largest partner, not the only one.
    assert 1 < theirs["totalCount"] < CUSTOMERS and len(theirs["items"]) == theirs["totalCount"]

    big = manifest.big_customer_id
    orders, pages = walk(sales, f"/v1/customers/{big}/orders?size=1")
    assert len(orders) == ORDERS // large_data.BIG_CUSTOMER_EVERY == pages[0]["totalCount"]
    assert all(order["lineItems"] and order["status"] == "completed" for order in orders)
    assert Counter(order["billingCycle"] for order in orders) == {"one_time": 2, "annual": 1}
    created = [order["creationDate"] for order in orders]
    assert created == sorted(created, reverse=True)

    for path in ("subscriptions", "entitlements?entitlementType=software"):
        listed = sales.get(f"/v1/customers/{big}/{path}").json()
        assert listed["totalCount"] == 3 and len(listed["items"]) == 3, path
    one = sales.get(f"/v1/customers/{big}/orders/{orders[0]['id']}")
    assert one.status_code == 200 and one.json()["id"] == orders[0]["id"]

    requests = readers["helpdesk_agent"].get("/v1/servicerequests?size=500").json()
    assert requests["totalCount"] >= 1 and {item["status"] for item in requests["items"]} <= {
        "open", "attention_needed", "closed"}
    invoices = readers["billing_admin"].get("/v1/invoices?size=100").json()
    assert invoices["totalCount"] == large_data.MONTHS + 1  # and the template purchases' month
    lines = readers["billing_admin"].get(f"/v1/invoices/{manifest.invoice_id}/lineitems").json()
    assert lines["totalCount"] >= 1 and all(line["orderId"] for line in lines["items"])
