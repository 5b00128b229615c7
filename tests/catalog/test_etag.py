"""A page of products carries an ETag; a client sending it back gets 304 until the page changes, and any
change to the catalog (by the API or by anyone writing to the database) or the clock reaching a price's
start or end gives the new page at once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from partnerdesk.accounts.models import ApiToken, Role
from partnerdesk.catalog.models import Product
from partnerdesk.core.db import unpooled_engine
from partnerdesk.core.secrets import hash_token
from tests.catalog.factories import SOFTWARE_ID, START, build_catalog
from tests.support.actors import customer_body

# The catalog's version comes from database triggers, which each engine has its own of.
pytestmark = pytest.mark.both_engines

MARKET_LIST = "/v1/products?country=FR&targetView=Software"
READERS = [Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent]


def customer_list(actors, country: str = "FR") -> str:
    created = actors(Role.admin_agent).post("/v1/customers", json=customer_body(country=country))
    assert created.status_code == 201, created.text
    return f"/v1/customers/{created.json()['id']}/products?targetView=Software"


def titles(response) -> list[str]:
    return [item["title"] for item in response.json()["items"]]


@pytest.mark.parametrize("role", READERS)
def test_every_reader_gets_304_for_the_etag_it_holds(actors, desk, role):
    build_catalog(desk, markets=("FR",))
    caller = actors(role)
    for path in (MARKET_LIST, customer_list(actors)):
        first = caller.get(path)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"')
        assert first.headers["cache-control"] == "private, no-cache"
        again = caller.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        # The weak form, a list holding it, and `*` match too (RFC 9110's weak comparison).
        for sent in (f"W/{etag}", f'"something-else", {etag}', "*"):
            assert caller.get(path, headers={"If-None-Match": sent}).status_code == 304
        other = caller.get(path, headers={"If-None-Match": '"not-this-page"'})
        assert other.status_code == 200 and other.content == first.content


def test_a_role_that_may_not_read_gets_403_whatever_etag_it_sends(actors, desk):
    build_catalog(desk, markets=("FR",))
    etag = actors(Role.sales_agent).get(MARKET_LIST).headers["etag"]
    refused = actors(Role.billing_admin).get(MARKET_LIST, headers={"If-None-Match": etag})
    assert refused.status_code == 403
    assert "etag" not in refused.headers


def test_an_api_write_gives_the_new_page_to_a_client_holding_the_old_etag(actors, desk):
    build_catalog(desk, markets=("FR",))
    sales, operator = actors(Role.sales_agent), actors(Role.operator)
    path = customer_list(actors)
    etag = sales.get(path).headers["etag"]
    renamed = operator.put(f"/v1/products/{SOFTWARE_ID}", json={
        "title": "Windows Server 2025", "productType": {"id": "Software", "subType": {"id": "Perpetual"}}})
    assert renamed.status_code == 200, renamed.text
    after = sales.get(path, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert titles(after) == ["Windows Server 2025"]
    assert after.headers["etag"] != etag


def test_a_write_from_outside_the_app_ends_the_etag_at_once(actors, desk, database_url):
    build_catalog(desk, markets=("FR",))
    sales = actors(Role.sales_agent)
    etag = sales.get(MARKET_LIST).headers["etag"]
    engine = unpooled_engine(database_url)
    try:
        with engine.begin() as connection:  # as another app server or a script would, bypassing every service
            connection.execute(update(Product.__table__).where(Product.id == SOFTWARE_ID).values(title="Renamed"))
    finally:
        engine.dispose()
    after = sales.get(MARKET_LIST, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert titles(after) == ["Renamed"]


def test_the_clock_reaching_a_prices_end_changes_the_page(actors, desk, clock):
    build_catalog(desk, markets=("FR",), start=START, end=clock.now() + timedelta(hours=1))
    sales = actors(Role.sales_agent)
    path = customer_list(actors)
    before = sales.get(path)
    assert titles(before) == ["Windows Server 2022"]
    clock.advance(timedelta(minutes=59))
    assert sales.get(path, headers={"If-None-Match": before.headers["etag"]}).status_code == 304
    clock.advance(timedelta(minutes=1))
    ended = sales.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert ended.status_code == 200
    assert titles(ended) == [] and ended.json()["totalCount"] == 0


def test_customers_of_two_markets_each_see_their_own_links(actors, desk):
    build_catalog(desk, markets=("FR", "US"))
    sales = actors(Role.sales_agent)
    pages = {country: sales.get(customer_list(actors, country)) for country in ("FR", "US", "FR")}
    for country, page in pages.items():
        item = page.json()["items"][0]
        assert item["links"]["skus"]["uri"] == f"/v1/products/{SOFTWARE_ID}/skus?country={country}"
    assert pages["FR"].headers["etag"] != pages["US"].headers["etag"]


def test_the_body_is_the_json_it_always_was_with_links_to_other_pages(actors, desk):
    """The items come from the cache as bytes and the envelope is made per request: the whole must be the
    compact JSON the API writes everywhere, with the paging links of the request's own path."""
    build_catalog(desk, markets=("FR",))
    operator = actors(Role.operator)
    for product_id, title in (("EXTRA0000001", "Alpha Server"), ("EXTRA0000002", "Beta Server")):
        created = operator.post("/v1/products", json={
            "id": product_id, "title": title, "productType": {"id": "Software", "subType": {"id": "Perpetual"}}})
        assert created.status_code == 201, created.text
        assert operator.post(f"/v1/products/{product_id}/skus", json={
            "id": "0001", "title": "Standard", "supportedBillingCycles": ["one_time"]}).status_code == 201
        assert operator.post(f"/v1/products/{product_id}/skus/0001/availabilities", json={
            "id": "0001", "country": "FR", "currency": "EUR", "unitPrice": "10", "billingPlan": "one_time",
            "effectiveStartDate": START.isoformat()}).status_code == 201
    middle = operator.get(f"{MARKET_LIST}&size=1&offset=1")
    assert middle.status_code == 200
    parsed = middle.json()
    assert middle.content == json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).encode()
    assert parsed["totalCount"] == 3
    assert titles(middle) == ["Beta Server"]
    assert set(parsed["links"]) == {"self", "next", "previous"}
    assert parsed["links"]["self"]["uri"].startswith("/v1/products?")
    assert parsed["attributes"] == {"objectType": "Collection"}


def test_the_one_trip_check_refuses_a_missing_or_revoked_token_and_a_foreign_customer(actors, desk, database_url):
    """These two lists check the caller in the same worker-thread trip as their read (`allow_in_one_trip`): the
    same answers as every other route, a token revoked by another process refused on its very next request."""
    build_catalog(desk, markets=("FR",))
    sales = actors(Role.sales_agent)
    path = customer_list(actors)
    for listed in (MARKET_LIST, path):
        assert sales.client.get(listed).status_code == 401
        assert sales.client.get(listed, headers={"Authorization": "Bearer pdk_not-a-token"}).status_code == 401
    assert actors(Role.sales_agent, partner="Rival").get(path).status_code == 404
    assert sales.get(path).status_code == 200
    engine = unpooled_engine(database_url)
    try:
        with engine.begin() as connection:  # as `partnerdesk agents revoke-tokens` on another machine would
            connection.execute(update(ApiToken.__table__).where(ApiToken.token_hash == hash_token(sales.token))
                               .values(revoked_at=START))
    finally:
        engine.dispose()
    for listed in (MARKET_LIST, path):
        refused = sales.get(listed)
        assert refused.status_code == 401
        assert "etag" not in refused.headers
