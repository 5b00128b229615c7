"""The activity log and the audit records page by keyset (issue 18, item 5): links.next carries the last row's
sort key (newest first: time, then id), so rows written while a client pages are never read twice and none
is skipped; `offset` still works; only the operator and admin agents read them, on every page."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count

import pytest

from partnerdesk.accounts.models import Role
from tests.audit.paging import check_every_row_once, check_roles_on_the_next_page, walk_adding_rows
from tests.support.actors import customer_body

pytestmark = pytest.mark.both_engines
LISTS = ["/v1/activitylogs", "/v1/auditrecords"]
READERS = (Role.admin_agent, Role.operator)
numbers = count(1)


def key(record: dict) -> str:
    """What tells records apart: the activity log's id; an audit record (Partner Center's shape has no id) whole,
    as each is about a customer of its own here."""
    return record["id"] if "id" in record else json.dumps(record, sort_keys=True)


def add_customer(admin, clock) -> None:
    """A customer created: one more activity record, a second later."""
    clock.advance(timedelta(seconds=1))
    created = admin.post("/v1/customers", json=customer_body(domain=f"paging-{next(numbers)}.onmicrosoft.com"))
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("path", LISTS)
def test_paging_reads_every_record_once_while_records_are_written(actors, clock, path):
    admin = actors(Role.admin_agent)
    for _ in range(7):
        add_customer(admin, clock)
    # Several records in the same second: the id breaks the tie at a page's edge.
    for _ in range(2):
        assert admin.post("/v1/customers", json=customer_body()).status_code == 201
    before = [key(record) for record in admin.get(f"{path}?size=500").json()["items"]]
    assert len(before) >= 9

    walked, pages = walk_adding_rows(admin, f"{path}?size=2", lambda: add_customer(admin, clock))

    check_every_row_once(before, [key(record) for record in walked], pages)
    # Newest first: the records written during the walk come before where it was, so it never meets them.
    assert len(walked) == len(before)
    # The same page by offset, as before.
    by_offset = admin.get(f"{path}?offset=2&size=2").json()
    assert len(by_offset["items"]) == 2


@pytest.mark.parametrize("path", LISTS)
def test_the_next_page_answers_each_role_as_the_first(actors, clock, path):
    admin = actors(Role.admin_agent)
    for _ in range(3):
        add_customer(admin, clock)
    check_roles_on_the_next_page(actors, f"{path}?size=1", READERS)


def test_a_token_of_one_list_is_refused_by_the_other(actors, clock):
    admin = actors(Role.admin_agent)
    for _ in range(3):
        add_customer(admin, clock)
    token = admin.get("/v1/activitylogs?size=1").json()["continuationToken"]
    refused = admin.get("/v1/auditrecords?size=1&seekOperation=Next", headers={"MS-ContinuationToken": token})
    assert refused.status_code == 400 and refused.json()["code"] == 1700
