"""Keyset paging of the lists that grow: links.next carries the last row's sort key, signed; offset still works.

What a client sees: following `links.next` (its plain URI, or Partner Center's seekOperation=Next with the
MS-ContinuationToken header) walks the whole list once, in the list's order, also where many rows share a
timestamp; a token is refused when altered or used on another list; totalCount stays exact on small lists
and, beyond EXACT_COUNT_LIMIT, is PostgreSQL's estimate until the last page, which knows the exact size.
On PostgreSQL each list's page is read through its index in the list's order, with no sort.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, text

from partnerdesk.accounts.models import Role
from partnerdesk.core import pagination
from tests.orders.factories import OFFICE_FR, Shop, load_catalog, software_line
from tests.support.actors import customer_body


@pytest.fixture
def shop(desk, actors) -> Shop:
    load_catalog(desk)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))


def walk(caller, uri: str, *, with_header: bool = False) -> tuple[list[dict], list[dict]]:
    """Every item and every page, following links.next from `uri` as a client does."""
    items, pages = [], []
    page = caller.get(uri).json()
    while True:
        pages.append(page)
        items += page["items"]
        following = page["links"].get("next")
        if following is None:
            return items, pages
        if with_header:
            [header] = following["headers"]
            path = following["uri"].split("?")[0]
            size = page["links"]["self"]["uri"].split("size=")[1].split("&")[0]
            page = caller.get(f"{path}?size={size}&seekOperation=Next",
                              headers={header["key"]: header["value"]}).json()
        else:
            page = caller.get(following["uri"]).json()


def add_customers(caller, names: list[str]) -> None:
    for number, name in enumerate(names):
        body = customer_body(domain=f"keyset{number}-{name.lower().replace(' ', '')}.example.com")
        body["companyProfile"]["companyName"] = name
        assert caller.post("/v1/customers", json=body).status_code == 201


def test_following_links_next_walks_the_customers_once_in_name_order(actors):
    admin = actors(Role.admin_agent)
    # Equal names: the id breaks the tie, so no customer is skipped or shown twice at a page's edge.
    add_customers(admin, ["Fabrikam", "Adatum", "Fabrikam", "Contoso", "Fabrikam", "Northwind", "Fabrikam"])
    everything = admin.get("/v1/customers?size=100").json()["items"]

    for with_header in (False, True):
        items, pages = walk(admin, "/v1/customers?size=2", with_header=with_header)
        assert [item["id"] for item in items] == [item["id"] for item in everything]
        assert len(pages) == 4 and all(page["totalCount"] == 7 for page in pages)
        assert pages[-1]["continuationToken"] is None and "next" not in pages[-1]["links"]
    names = [item["companyProfile"]["companyName"] for item in everything]
    assert names == sorted(names, key=str.casefold)
    # Each later page links back by offset; its own link reads the same page again.
    second = pages[1]
    assert "offset=0" in second["links"]["previous"]["uri"]
    again = admin.get(second["links"]["self"]["uri"]).json()
    assert [item["id"] for item in again["items"]] == [item["id"] for item in second["items"]]


def test_the_next_link_keeps_the_filter(actors):
    admin = actors(Role.admin_agent)
    add_customers(admin, ["Fabrikam East", "Adatum", "Fabrikam West", "Fabrikam North"])
    items, pages = walk(admin, "/v1/customers?size=1&companyName=fab")
    assert [item["companyProfile"]["companyName"] for item in items] == ["Fabrikam East", "Fabrikam North",
                                                                         "Fabrikam West"]
    assert all("companyName=fab" in page["links"]["next"]["uri"] for page in pages[:-1])


def test_orders_of_one_instant_page_without_gaps_newest_first(shop, clock):
    customer = shop.customer()
    for _ in range(5):   # five orders at the same instant (the clock does not move)
        shop.buy(customer, software_line(OFFICE_FR))
    clock.advance(timedelta(minutes=1))
    latest = shop.buy(customer, software_line(OFFICE_FR))["orders"][0]["id"]
    everything = shop.buyer.get(f"/v1/customers/{customer}/orders?size=100").json()["items"]
    assert everything[0]["id"] == latest

    items, pages = walk(shop.buyer, f"/v1/customers/{customer}/orders?size=2")
    assert [item["id"] for item in items] == [item["id"] for item in everything]
    assert len({item["id"] for item in items}) == 6 and len(pages) == 3
    # Lines come with each order on every page.
    assert all(item["lineItems"] for item in items)


def test_subscriptions_page_across_purchases_then_azure_plans(shop):
    customer = shop.customer()
    azure = [shop.azure_subscription(customer) for _ in range(2)]
    for _ in range(3):
        shop.buy(customer, software_line(OFFICE_FR))
    everything = shop.buyer.get(f"/v1/customers/{customer}/subscriptions?size=100").json()["items"]
    assert {item["id"] for item in everything[3:]} == set(azure)  # one instant: in id order

    for size in (1, 2, 4):
        items, pages = walk(shop.buyer, f"/v1/customers/{customer}/subscriptions?size={size}")
        assert [item["id"] for item in items] == [item["id"] for item in everything], size
        assert {page["totalCount"] for page in pages} == {5}


def test_a_token_is_refused_when_altered_or_used_on_another_list(shop):
    customer = shop.customer()
    shop.customer()
    for _ in range(2):
        shop.buy(customer, software_line(OFFICE_FR))
    customers_token = shop.buyer.get("/v1/customers?size=1").json()["continuationToken"]
    orders_token = shop.buyer.get(f"/v1/customers/{customer}/orders?size=1").json()["continuationToken"]
    body, signature = orders_token.split(".")
    altered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature

    for token in (customers_token, altered, orders_token + "x", "x" * 3000):
        refused = shop.buyer.get(f"/v1/customers/{customer}/orders?size=1&seekOperation=Next",
                                 headers={"MS-ContinuationToken": token})
        assert refused.status_code == 400, token
        assert refused.json()["code"] == 1700 and "MS-ContinuationToken" in refused.json()["description"]
    # Partner Center's older offset tokens, and the previous link's, still read.
    offset_token = pagination.continuation_token(1)
    older = shop.buyer.get(f"/v1/customers/{customer}/orders?size=1&seekOperation=Next",
                           headers={"MS-ContinuationToken": offset_token})
    assert older.status_code == 200 and len(older.json()["items"]) == 1


def test_a_keyset_page_reads_after_the_last_row_instead_of_skipping_rows(shop, desk):
    customer = shop.customer()
    for _ in range(3):
        shop.buy(customer, software_line(OFFICE_FR))
    first = shop.buyer.get(f"/v1/customers/{customer}/orders?size=1").json()
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(desk.database.engine, "before_cursor_execute", seen)
    try:
        second = shop.buyer.get(first["links"]["next"]["uri"]).json()
    finally:
        event.remove(desk.database.engine, "before_cursor_execute", seen)
    [page_query] = [sql for sql in statements if "FROM orders" in sql and "count(" not in sql]
    # It starts after the first page's order (SQLite writes an OFFSET of 0 into every LIMIT; none is asked).
    assert "orders.created_at <" in page_query and "orders.id >" in page_query
    assert not any("count(" in sql for sql in statements)  # the total came with the token
    assert second["totalCount"] == 3 and second["items"][0]["id"] != first["items"][0]["id"]


@pytest.mark.both_engines
def test_total_count_beyond_the_exact_limit(actors, monkeypatch, database_flavour):
    admin = actors(Role.admin_agent)
    add_customers(admin, [f"Customer {number}" for number in range(5)])
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)

    items, pages = walk(admin, "/v1/customers?size=2")
    assert len(items) == 5
    if database_flavour == "sqlite":
        assert [page["totalCount"] for page in pages] == [5, 5, 5]
    else:
        # PostgreSQL's estimate, never below what was counted, until the last page knows the exact size.
        assert all(page["totalCount"] >= 4 for page in pages[:-1])
        assert pages[-1]["totalCount"] == 5


@pytest.mark.both_engines
def test_the_small_lists_stay_exact_and_offset_paging_still_works(shop):
    customer = shop.customer()
    for _ in range(4):
        shop.buy(customer, software_line(OFFICE_FR))
    everything = shop.buyer.get(f"/v1/customers/{customer}/orders").json()
    assert everything["totalCount"] == 4
    by_offset = shop.buyer.get(f"/v1/customers/{customer}/orders?offset=2&size=1").json()
    assert [item["id"] for item in by_offset["items"]] == [everything["items"][2]["id"]]
    following = shop.buyer.get(by_offset["links"]["next"]["uri"]).json()
    assert [item["id"] for item in following["items"]] == [everything["items"][3]["id"]]


LIST_QUERIES = {
    "ix_customers_partner_list": "SELECT id FROM customers WHERE partner_id = 'p' "
                                 "ORDER BY company_name_folded, id LIMIT 51",
    "ix_customers_list": "SELECT id FROM customers ORDER BY company_name_folded, id LIMIT 51",
    "ix_orders_customer_list": "SELECT id FROM orders WHERE customer_id = 'c' ORDER BY created_at DESC, id LIMIT 51",
    "ix_subscriptions_customer_list": "SELECT id FROM subscriptions WHERE customer_id = 'c' "
                                      "ORDER BY created_at DESC, id LIMIT 51",
    "ix_entitlements_customer_type_list": "SELECT id FROM entitlements WHERE customer_id = 'c' AND "
                                          "entitlement_type = 'software' ORDER BY created_at DESC, id LIMIT 51",
    "ix_service_requests_partner_list": "SELECT id FROM service_requests WHERE partner_id = 'p' "
                                        "ORDER BY created_at DESC, id LIMIT 51",
    "ix_invoices_partner_list": "SELECT id FROM invoices WHERE partner_id = 'p' "
                                "ORDER BY billing_period DESC, currency, id LIMIT 51",
    "ix_invoice_line_items_invoice_list": "SELECT id FROM invoice_line_items WHERE invoice_id = 'i' "
                                          "ORDER BY created_at, order_id, order_line_number, id LIMIT 51",
}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("index", sorted(LIST_QUERIES))
def test_each_list_reads_its_index_in_order_without_a_sort(desk, index):
    with desk.database.session() as db:
        # An empty table: without this, the planner reads it whole; what counts is that the index serves the order.
        db.execute(text("SET LOCAL enable_seqscan = off"))
        db.execute(text("SET LOCAL enable_bitmapscan = off"))
        plan = "\n".join(db.scalars(text("EXPLAIN " + LIST_QUERIES[index])))
    assert f"using {index} on" in plan and "Sort" not in plan, plan


@pytest.mark.both_engines
@pytest.mark.parametrize(("prefix", "expected"), [
    ("fab", ["Fab", "Fab-Est", "Fabé", "Fabz"]),     # read as the range fab <= name < fac
    ("Fab-", ["Fab-Est"]),                            # no range: the LIKE alone
    ("faz", ["Fazz"]),
])
def test_a_name_prefix_finds_exactly_the_names_that_start_with_it(actors, prefix, expected):
    admin = actors(Role.admin_agent)
    add_customers(admin, ["Fab", "Fab-Est", "Fabé", "Fabz", "Fac", "Fa", "Fazz", "Contoso"])
    found = admin.get("/v1/customers", params={"companyName": prefix}).json()["items"]
    assert sorted(item["companyProfile"]["companyName"] for item in found) == sorted(expected)
