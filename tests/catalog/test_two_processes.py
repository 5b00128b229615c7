"""Two `partnerdesk serve` processes on one PostgreSQL, each with its own catalog cache: a change made through
one shows on the other's very next answer, and a token revoked through one is refused by both at once."""

from __future__ import annotations

from contextlib import ExitStack

import httpx
import pytest

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Role
from tests.catalog.factories import SOFTWARE_ID, build_catalog
from tests.support.actors import customer_body
from tests.support.served import PARTNERDESK_SERVE, served

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

PRODUCT = {"productType": {"id": "Software", "subType": {"id": "Perpetual"}}}


@pytest.fixture
def two_servers(settings, tmp_path):
    with ExitStack() as stack:
        yield [stack.enter_context(served(settings, PARTNERDESK_SERVE, log=tmp_path / f"server-{name}.log"))[0]
               for name in ("a", "b")]


def test_a_catalog_change_through_one_process_shows_on_the_others_next_answer(actors, desk, two_servers):
    build_catalog(desk, markets=("FR",))
    sales, operator = actors(Role.sales_agent), actors(Role.operator)
    customer = actors(Role.admin_agent).post("/v1/customers", json=customer_body(country="FR")).json()["id"]
    path = f"/v1/customers/{customer}/products?targetView=Software"
    first, second = two_servers
    held = {}
    for base in two_servers:  # each process fills its own cache, then answers 304 from it
        answer = httpx.get(f"{base}{path}", headers=sales.headers(), timeout=60)
        assert [item["title"] for item in answer.json()["items"]] == ["Windows Server 2022"]
        held[base] = answer.headers["etag"]
        again = httpx.get(f"{base}{path}", headers=sales.headers({"If-None-Match": held[base]}), timeout=60)
        assert again.status_code == 304
    assert held[first] == held[second]

    renamed = httpx.put(f"{first}/v1/products/{SOFTWARE_ID}", json={"title": "Windows Server 2025", **PRODUCT},
                        headers=operator.headers(), timeout=60)
    assert renamed.status_code == 200, renamed.text

    for base in (second, first):
        answer = httpx.get(f"{base}{path}", headers=sales.headers({"If-None-Match": held[base]}), timeout=60)
        assert answer.status_code == 200
        assert [item["title"] for item in answer.json()["items"]] == ["Windows Server 2025"]


def test_a_token_revoked_through_one_process_is_refused_by_both_on_the_next_request(actors, desk, two_servers):
    build_catalog(desk, markets=("FR",))
    sales = actors(Role.sales_agent)
    path = "/v1/products?country=FR&targetView=Software"
    for base in two_servers:
        assert httpx.get(f"{base}{path}", headers=sales.headers(), timeout=60).status_code == 200
    # Revoked as `partnerdesk agents revoke-tokens` does it, in the database both processes read.
    with desk.database.session() as db:
        assert accounts.revoke_tokens(db, accounts.get_agent_by_email(db, sales.email), now=desk.clock.now()) == 1
    for base in reversed(two_servers):
        refused = httpx.get(f"{base}{path}", headers=sales.headers(), timeout=60)
        assert refused.status_code == 401
