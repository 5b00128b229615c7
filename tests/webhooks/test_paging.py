"""Webhook endpoints and their deliveries page by keyset (issue 18, item 5): links.next carries the last row's
sort key (endpoints oldest first, deliveries newest first; then the id), so rows added while a client pages
are never read twice and none is skipped; only admin agents read them, on every page."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest

from partnerdesk.accounts.models import Role
from tests.audit.paging import check_every_row_once, check_roles_on_the_next_page, walk_adding_rows
from tests.webhooks.helpers import create_endpoint

pytestmark = pytest.mark.both_engines
URL = "https://erp.fabrikam.example/hooks/partnerdesk"
numbers = count(1)


def add_endpoint(admin, clock, *, same_second: bool = False) -> str:
    if not same_second:
        clock.advance(timedelta(seconds=1))
    return create_endpoint(admin, f"{URL}/{next(numbers)}")["id"]


def send_test_event(admin, clock, endpoint_id: str) -> None:
    clock.advance(timedelta(seconds=1))
    sent = admin.post(f"/v1/webhooks/{endpoint_id}/test")
    assert sent.status_code == 202, sent.text


def test_paging_reads_every_endpoint_once_while_endpoints_are_added(actors, clock):
    admin = actors(Role.admin_agent)
    for number in range(7):
        add_endpoint(admin, clock, same_second=number % 3 == 0)
    before = [endpoint["id"] for endpoint in admin.get("/v1/webhooks?size=100").json()["items"]]

    walked, pages = walk_adding_rows(admin, "/v1/webhooks?size=2", lambda: add_endpoint(admin, clock))

    check_every_row_once(before, [endpoint["id"] for endpoint in walked], pages)
    # Oldest first: the endpoints added during the walk come after where it was, and it reads them too.
    assert len(walked) > len(before)


def test_paging_reads_every_delivery_once_while_events_are_sent(actors, clock):
    admin = actors(Role.admin_agent)
    endpoint = add_endpoint(admin, clock)
    for _ in range(7):
        send_test_event(admin, clock, endpoint)
    path = f"/v1/webhooks/{endpoint}/deliveries"
    before = [delivery["id"] for delivery in admin.get(f"{path}?size=100").json()["items"]]
    assert len(before) == 7

    walked, pages = walk_adding_rows(admin, f"{path}?size=2", lambda: send_test_event(admin, clock, endpoint))

    check_every_row_once(before, [delivery["id"] for delivery in walked], pages)
    assert len(walked) == len(before)  # newest first: the new ones are before where the walk was


def test_the_next_pages_answer_each_role_as_the_first(actors, clock):
    admin = actors(Role.admin_agent)
    endpoint = add_endpoint(admin, clock)
    add_endpoint(admin, clock)
    for _ in range(2):
        send_test_event(admin, clock, endpoint)
    check_roles_on_the_next_page(actors, "/v1/webhooks?size=1", (Role.admin_agent,))
    check_roles_on_the_next_page(actors, f"/v1/webhooks/{endpoint}/deliveries?size=1", (Role.admin_agent,))
