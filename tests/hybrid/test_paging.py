"""The Hybrid Benefit lists page by keyset (issue 18, item 5): a customer's stored estimates (newest first) and
the operator's VM rate table (by currency, size and region); links.next carries the last row's sort key, so
rows added while a client pages are never read twice and none is skipped; every page answers the roles the
first does."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.hybrid.api import ESTIMATE_KEEPERS
from tests.audit.paging import check_every_row_once, check_roles_on_the_next_page, walk_adding_rows
from tests.hybrid.test_api import ISSUE_REQUEST

pytestmark = pytest.mark.both_engines
RATES = "/v1/hybridbenefit/rates"
numbers = count(1)


def keep_estimate(caller, clock, customer_id: str) -> None:
    clock.advance(timedelta(seconds=1))
    kept = caller.post(f"/v1/customers/{customer_id}/hybridbenefit/estimates", json=ISSUE_REQUEST)
    assert kept.status_code == 201, kept.text


def import_rates(operator, sizes: list[str]) -> None:
    rows = "".join(f"Standard_{size},westeurope,EUR,4,0.3540,0.2120\n" for size in sizes)
    imported = operator.post(RATES, content=("size,region,currency,vCpus,windowsRatePerHour,baseRatePerHour\n"
                                             + rows).encode(), headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text


def test_paging_reads_every_estimate_once_while_estimates_are_kept(market, actors, clock):
    customer = market.customer()
    admin = actors(Role.admin_agent)
    for _ in range(7):
        keep_estimate(admin, clock, customer)
    path = f"/v1/customers/{customer}/hybridbenefit/estimates"
    before = [estimate["id"] for estimate in admin.get(f"{path}?size=100").json()["items"]]
    assert len(before) == 7

    walked, pages = walk_adding_rows(admin, f"{path}?size=2", lambda: keep_estimate(admin, clock, customer))

    check_every_row_once(before, [estimate["id"] for estimate in walked], pages)
    assert len(walked) == len(before)  # newest first: the new ones are before where the walk was


def test_paging_reads_every_rate_once_while_rates_are_imported(market, actors):
    operator = actors(Role.operator)
    import_rates(operator, ["B2s", "D2s_v5", "F4s_v2", "M8ms", "X1a"])
    key = lambda rate: (rate["currency"], rate["size"], rate["region"])  # noqa: E731 - the table's own key
    before = [key(rate) for rate in operator.get(f"{RATES}?size=500").json()["items"]]
    # Sizes that sort before, among and after the rows already read.
    added = iter([["A0"], ["E4s_v5"], ["Z9"], ["A1"], ["G5"], ["Y2"]] * 200)

    walked, pages = walk_adding_rows(operator, f"{RATES}?size=7", lambda: import_rates(operator, next(added)))

    check_every_row_once(before, [key(rate) for rate in walked], pages)


def test_the_next_pages_answer_each_role_as_the_first(market, actors, clock):
    customer = market.customer()
    for _ in range(2):
        keep_estimate(actors(Role.admin_agent), clock, customer)
    check_roles_on_the_next_page(actors, f"/v1/customers/{customer}/hybridbenefit/estimates?size=1",
                                 tuple(ESTIMATE_KEEPERS))
    check_roles_on_the_next_page(actors, f"{RATES}?size=1", tuple(Role))
