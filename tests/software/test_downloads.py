"""Rule R4 at the link: no login, 50 downloads or 14 days whichever comes first, then 410; what counts as one
download (a GET answered from byte 0); HEAD, ETag and Range; the refusals' pages; the activity log."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest

from partnerdesk.accounts.models import Role

SIZE = 300_000
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def link(software) -> str:
    """A fresh link (`/v1/downloads/<token>`) to the 300 KB file of a new purchase: 50 downloads, 14 days."""
    return software.link()


def left(software, link: str) -> int:
    """Downloads the link has left, read with HEAD (which never counts)."""
    answer = software.download(link, "HEAD")
    assert answer.status_code == 200, answer.status_code
    return int(answer.headers["x-downloads-remaining"])


def assert_gone(answer, reason: str) -> None:
    assert answer.status_code == 410
    error = answer.json()
    assert error["code"] == 6011 and error["data"] == [reason]


def test_anyone_with_the_link_downloads_the_file_without_logging_in(software, link):
    answer = software.download(link)

    assert answer.status_code == 200
    assert answer.content == software.content
    headers = answer.headers
    assert headers["content-length"] == str(SIZE)
    assert headers["content-disposition"].startswith('attachment; filename="office-2024-fr.iso"')
    assert headers["etag"] == f'"{hashlib.sha256(software.content).hexdigest()}"'
    assert headers["accept-ranges"] == "bytes" and headers["x-downloads-remaining"] == "49"
    assert "no-store" in headers["cache-control"] and headers["referrer-policy"] == "no-referrer"


def test_the_50th_download_works_and_the_51st_is_gone(software, link):
    for number in range(1, 50):
        assert software.download(link).status_code == 200, number
    fiftieth = software.download(link)
    assert fiftieth.status_code == 200 and fiftieth.content == software.content
    assert fiftieth.headers["x-downloads-remaining"] == "0"

    fifty_first = software.download(link)

    assert_gone(fifty_first, "used_up")
    assert "all of its 50 downloads" in fifty_first.json()["description"]
    assert "new link" in fifty_first.json()["description"]
    # Spent is spent: no resume, no headers either.
    assert software.download(link, range="bytes=1000-").status_code == 410
    assert software.download(link, "HEAD").status_code == 410


def test_on_the_14th_day_the_link_works_and_just_after_14_days_it_is_gone(software, link, clock):
    expires_at = clock.now() + timedelta(days=14)
    clock.advance(timedelta(days=14) - timedelta(seconds=1))
    assert software.download(link).status_code == 200

    clock.advance(timedelta(seconds=1))

    gone = software.download(link)
    assert_gone(gone, "expired")
    assert f"expired on {expires_at:%Y-%m-%d %H:%M} UTC" in gone.json()["description"]
    assert "valid for 14 days" in gone.json()["description"]
    assert software.download(link, range="bytes=1000-").status_code == 410
    assert software.download(link, "HEAD").status_code == 410


def test_the_sandbox_clock_ends_links_too(software, link, actors):
    advance = actors(Role.operator).post("/v1/sandbox/clock", json={"advanceDays": 13})
    assert advance.status_code == 200
    assert software.download(link).status_code == 200
    actors(Role.operator).post("/v1/sandbox/clock", json={"advanceDays": 1})
    assert_gone(software.download(link), "expired")


def test_a_regenerated_link_works_while_the_old_one_is_spent(software, actors):
    operator = actors(Role.operator)
    assert operator.put("/v1/policies/download_link_max_downloads", json={"value": 2}).status_code == 200
    software_id = software.buy()
    old = software.link(software_id)
    assert [software.download(old).status_code for _ in range(3)] == [200, 200, 410]
    assert operator.put("/v1/policies/download_link_max_downloads", json={"value": 5}).status_code == 200

    new = software.link(software_id)

    assert new != old
    assert [software.download(new).status_code for _ in range(6)] == [200] * 5 + [410]  # the new policy's 5
    assert_gone(software.download(old), "used_up")


def test_a_regenerated_link_gets_fresh_days_while_the_old_one_has_expired(software, clock):
    software_id = software.buy()
    old = software.link(software_id)
    clock.advance(timedelta(days=15))

    answer = software.keys_and_downloads(software_id).json()["downloads"][0]

    assert datetime.fromisoformat(answer["expiresAt"]) == clock.now() + timedelta(days=14)
    assert software.download(answer["uri"].removeprefix("http://testserver")).status_code == 200
    assert_gone(software.download(old), "expired")


def test_a_link_keeps_the_days_it_was_made_with_when_the_policy_changes(software, actors, clock):
    software_id = software.buy()
    old = software.link(software_id)
    assert actors(Role.operator).put("/v1/policies/download_link_days", json={"value": 30}).status_code == 200

    answer = software.keys_and_downloads(software_id).json()["downloads"][0]
    clock.advance(timedelta(days=29))

    assert datetime.fromisoformat(answer["expiresAt"]) == clock.now() + timedelta(days=1)
    assert software.download(answer["uri"].removeprefix("http://testserver")).status_code == 200
    gone = software.download(old)
    assert_gone(gone, "expired")
    assert "valid for 14 days" in gone.json()["description"]  # what it was made with, not today's policy


def test_head_answers_the_headers_and_never_counts(software, link):
    for _ in range(60):
        head = software.download(link, "HEAD")
        assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(SIZE) and head.headers["x-downloads-remaining"] == "50"
    assert software.download(link).headers["x-downloads-remaining"] == "49"


def test_if_none_match_with_the_etag_is_a_304_that_does_not_count(software, link):
    etag = software.download(link, "HEAD").headers["etag"]

    for validator in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        answer = software.download(link, if_none_match=validator)
        assert answer.status_code == 304 and answer.content == b""
        assert answer.headers["etag"] == etag
        # A 304's Content-Length, when sent, is the file's (RFC 9110, 8.6), never 0.
        assert answer.headers.get("content-length", str(SIZE)) == str(SIZE)
    assert left(software, link) == 50
    changed = software.download(link, if_none_match='"another-version"')
    assert changed.status_code == 200 and changed.headers["x-downloads-remaining"] == "49"


def test_a_range_from_byte_0_is_a_download(software, link):
    answer = software.download(link, range="bytes=0-99")

    assert answer.status_code == 206
    assert answer.content == software.content[:100]
    assert answer.headers["content-range"] == f"bytes 0-99/{SIZE}" and answer.headers["content-length"] == "100"
    assert answer.headers["x-downloads-remaining"] == "49"


def test_resuming_from_a_later_byte_does_not_count_and_completes_the_file(software, link):
    first = software.download(link, range="bytes=0-99999")
    assert first.headers["x-downloads-remaining"] == "49"

    rest = software.download(link, range="bytes=100000-")
    again = software.download(link, range="bytes=100000-")

    assert rest.status_code == 206 and rest.headers["content-range"] == f"bytes 100000-{SIZE - 1}/{SIZE}"
    assert rest.headers["content-length"] == str(SIZE - 100_000)
    assert first.content + rest.content == software.content and again.content == rest.content
    assert left(software, link) == 49


def test_a_resume_is_honoured_only_while_the_file_is_the_same_one(software, link):
    etag = software.download(link, "HEAD").headers["etag"]
    same = software.download(link, range="bytes=5-", if_range=etag)
    assert same.status_code == 206 and same.content == software.content[5:]
    assert left(software, link) == 50

    changed = software.download(link, range="bytes=5-", if_range='"some-older-file"')

    assert changed.status_code == 200 and changed.content == software.content  # the whole file, counted
    assert changed.headers["x-downloads-remaining"] == "49"


def test_suffix_ranges_give_the_last_bytes(software, link):
    tail = software.download(link, range="bytes=-100")
    assert tail.status_code == 206 and tail.content == software.content[-100:]
    assert tail.headers["content-range"] == f"bytes {SIZE - 100}-{SIZE - 1}/{SIZE}"
    assert left(software, link) == 50  # the last bytes are a resume

    everything = software.download(link, range=f"bytes=-{SIZE * 2}")

    assert everything.status_code == 206 and everything.content == software.content
    assert everything.headers["content-range"] == f"bytes 0-{SIZE - 1}/{SIZE}"
    assert everything.headers["x-downloads-remaining"] == "49"  # from byte 0: a download


@pytest.mark.parametrize("wanted", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"])
def test_a_range_past_the_end_is_416_with_the_size_and_does_not_count(software, link, wanted):
    answer = software.download(link, range=wanted)

    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{SIZE}"
    assert answer.json()["code"] == 6012
    assert left(software, link) == 50


@pytest.mark.parametrize("wanted", ["bytes=0-9,20-29", "items=0-9", "bytes=abc", "bytes=50-10"])
def test_a_range_the_desk_does_not_serve_is_ignored_and_the_whole_file_sent(software, link, wanted):
    answer = software.download(link, range=wanted)
    assert answer.status_code == 200 and answer.content == software.content
    assert answer.headers["x-downloads-remaining"] == "49"


@pytest.mark.parametrize("token", ["A" * 43, "short", "A" * 44, "A" * 42 + "="])
def test_an_unknown_link_is_404_as_json_for_programs_and_a_page_for_browsers(software, token):
    software.link()  # there are links, just not this one

    as_json = software.download(f"/v1/downloads/{token}")
    as_page = software.download(f"/v1/downloads/{token}", **HTML)

    assert as_json.status_code == 404 and as_json.json()["code"] == 6010
    assert "whole link was copied" in as_json.json()["description"]
    assert as_page.status_code == 404 and as_page.headers["content-type"].startswith("text/html")
    assert "<h1>Download link not found</h1>" in as_page.text and "copié en entier" in as_page.text


def test_a_link_cannot_reach_out_of_the_download_path(software):
    software.link()
    answer = software.download("/v1/downloads/%2E%2E%2F%2E%2E%2Fsecret.key")
    assert answer.status_code == 404 and answer.content != software.content and b"secret" not in answer.content


def test_a_spent_link_explains_itself_to_a_browser_and_to_a_program(software, actors):
    actors(Role.operator).put("/v1/policies/download_link_max_downloads", json={"value": 1})
    link = software.link()
    software.download(link)

    page = software.download(link, **HTML)
    as_json = software.download(link, accept="application/json")

    assert page.status_code == 410 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Download link no longer valid</h1>" in page.text
    assert "used for all of its 1 downloads" in page.text and "new link" in page.text
    assert 'lang="fr"' in page.text and "<script" not in page.text
    assert as_json.status_code == 410 and as_json.headers["content-type"] == "application/json"
    assert as_json.json()["description"] in page.text.replace("&#x27;", "'")


def test_every_get_is_in_the_activity_log_for_the_partners_admin_and_the_operator(software, link, actors):
    software.download(link, user_agent="curl/8.5.0")
    software.download(link, range="bytes=1000-", user_agent="curl/8.5.0")
    software.download(link, if_none_match=software.download(link, "HEAD").headers["etag"])

    for reader in (Role.admin_agent, Role.operator):
        answer = actors(reader).get("/v1/activitylogs?action=software.downloaded")
        assert answer.status_code == 200
        records = answer.json()["items"]
        assert len(records) == 3  # the three GETs; HEAD is not a download
        whole, resumed, not_modified = reversed(records)
        assert whole["details"]["ip"] == "testclient" and whole["details"]["userAgent"] == "curl/8.5.0"
        assert (whole["details"]["bytes"], whole["details"]["counted"], whole["details"]["status"]) == (SIZE, True, 200)
        assert (resumed["details"]["firstByte"], resumed["details"]["bytes"]) == (1000, SIZE - 1000)
        assert resumed["details"]["counted"] is False and resumed["details"]["status"] == 206
        assert not_modified["details"]["status"] == 304 and not_modified["details"]["bytes"] == 0
        assert whole["customerId"] == software.customer_id and whole["details"]["fileName"] == "office-2024-fr.iso"
        assert link.rsplit("/", 1)[1] not in answer.text
    for role in (Role.sales_agent, Role.helpdesk_agent, Role.billing_admin):
        assert actors(role).get("/v1/activitylogs?action=software.downloaded").status_code == 403
    rival = actors(Role.admin_agent, partner="Rival Reseller")
    assert rival.get("/v1/activitylogs?action=software.downloaded").json()["totalCount"] == 0


def test_a_file_missing_from_the_store_is_a_503_and_the_download_is_not_counted(software, link):
    [stored] = [path for path in software.desk.settings.resolved_files_dir.rglob("*") if path.is_file()]
    away = stored.rename(stored.with_name("elsewhere"))

    answer = software.download(link)
    page = software.download(link, **HTML)

    assert answer.status_code == 503 and answer.json()["code"] == 6013
    assert "was not counted" in answer.json()["description"]
    assert page.status_code == 503 and "Réessayez plus tard" in page.text
    assert software.download(link, "HEAD").status_code == 503
    away.rename(stored)  # the operator restores it: every download is still there
    assert software.download(link).headers["x-downloads-remaining"] == "49"
