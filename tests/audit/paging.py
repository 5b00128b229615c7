"""Walking a keyset list while rows are added between its pages: shared by the paging tests of the activity
and audit lists, webhooks and their deliveries, and the Hybrid Benefit estimates and rates."""

from __future__ import annotations

from collections.abc import Callable

from partnerdesk.accounts.models import Role


def walk_adding_rows(caller, uri: str, add_row: Callable[[], None]) -> tuple[list[dict], list[dict]]:
    """Every item and every page, following links.next from `uri` as a client does, with a row added before
    each following page is asked for."""
    items, pages = [], []
    response = caller.get(uri)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        items += page["items"]
        following = page["links"].get("next")
        if following is None:
            return items, pages
        assert page["continuationToken"] == following["headers"][0]["value"]
        add_row()
        response = caller.get(following["uri"])


def check_every_row_once(before: list[str], walked: list[str], pages: list[dict]) -> None:
    """Each row there before the walk is read exactly once and in the list's order, a row added meanwhile at
    most once; totalCount is the first page's until the last page, which counts what the walk read."""
    assert len(walked) == len(set(walked)), "a row was read twice"
    assert [row for row in walked if row in set(before)] == before
    assert len(pages) > 2
    assert all(page["totalCount"] == len(before) for page in pages[:-1])
    assert pages[-1]["totalCount"] == len(walked)


def check_roles_on_the_next_page(actors, uri: str, allowed: tuple[Role, ...]) -> None:
    """The next page's link answers each role as the list's first page does: 200 or 403."""
    first = actors(allowed[0]).get(uri).json()
    following = first["links"]["next"]["uri"]
    for role in Role:
        answer = actors(role).get(following)
        assert answer.status_code == (200 if role in allowed else 403), (role, answer.text)
