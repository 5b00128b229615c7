"""Rule R4 under real HTTP concurrency: however many requests race for a link's last downloads, exactly
its limit are served, on SQLite and PostgreSQL, and with two server processes on one PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import select

from partnerdesk.software.models import DownloadLink
from tests.conftest import DOWNLOAD_TOKEN, PRODUCT_KEY
from tests.software.factories import CHOICE
from tests.support.served import PARTNERDESK_SERVE, served

REQUESTS = 500
LIMIT = 50
IN_FLIGHT = 100  # requests released together, five waves of them


def race(bases: list[str], path: str, expected: bytes) -> tuple[Counter, Counter]:
    """REQUESTS GETs of `path`, IN_FLIGHT at a time released together, spread over `bases` in turn.
    Returns the statuses, and which base served each complete, correct file."""
    start = threading.Barrier(IN_FLIGHT)
    digest = hashlib.sha256(expected).hexdigest()
    # A fresh connection per request: a kept-alive one the server closed while idle (a slow wave on a busy
    # machine) would reset, and a reset request cannot be told apart from one that was counted.
    clients = [httpx.Client(base_url=base, timeout=120,
                            limits=httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=0))
               for base in bases]

    def download(number: int) -> tuple[int, str | None]:
        client = clients[number % len(clients)]
        start.wait()
        answer = client.get(path)
        served = None
        if answer.status_code == 200:
            assert hashlib.sha256(answer.content).hexdigest() == digest  # the whole file, never a part
            served = str(client.base_url)
        else:
            assert answer.json()["data"] == ["used_up"]
        return answer.status_code, served

    try:
        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
            results = list(pool.map(download, range(REQUESTS)))
    finally:
        for client in clients:
            client.close()
    return Counter(status for status, _ in results), Counter(served for _, served in results if served)


def downloads_used(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(DownloadLink.downloads_used))


# Also through PgBouncer in transaction mode, as deployments run it.
@pytest.mark.pgbouncer
def test_500_concurrent_downloads_of_a_link_with_50_left_serve_exactly_50(software, live_server, actors,
                                                                           secrets_stay_out_of_the_logs):
    path = software.link()

    statuses, _served = race([live_server], path, software.content)

    assert statuses == {200: LIMIT, 410: REQUESTS - LIMIT}
    assert downloads_used(software.desk) == LIMIT
    assert software.download(path, "HEAD").status_code == 410
    records = software.admin.get(f"/v1/activitylogs?action=software.downloaded&size={REQUESTS}").json()
    assert records["totalCount"] == LIMIT and all(record["details"]["counted"] for record in records["items"])
    # The server's access log was checked for tokens as `partnerdesk serve` writes it (see tests/conftest.py).
    assert sum("uvicorn.access" in line for line in secrets_stay_out_of_the_logs.lines) >= REQUESTS


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_server_processes_on_one_postgresql_serve_exactly_50_of_500(software, settings, tmp_path):
    software_id = software.buy()
    logs = [tmp_path / "server-a.log", tmp_path / "server-b.log"]
    with ExitStack() as servers:
        bases = [servers.enter_context(served(settings, PARTNERDESK_SERVE, log=log))[0] for log in logs]
        shown = httpx.post(f"{bases[0]}/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads",
                           json=CHOICE, headers=software.admin.headers(), timeout=60)
        assert shown.status_code == 200, shown.text
        uri = shown.json()["downloads"][0]["uri"]
        path = uri[uri.index("/v1/downloads/"):]

        statuses, served_by = race(bases, path, software.content)

        assert statuses == {200: LIMIT, 410: REQUESTS - LIMIT}
        assert downloads_used(software.desk) == LIMIT
        assert [httpx.head(f"{base}{path}").status_code for base in bases] == [410, 410]
    print(f"downloads served per process: {dict(served_by)}")
    # What `partnerdesk serve` wrote (its access log included) holds no token and no key.
    written = "\n".join(log.read_text(errors="replace") for log in logs)
    assert "GET /v1/downloads/" in written
    assert not DOWNLOAD_TOKEN.search(written) and not PRODUCT_KEY.search(written)
    assert shown.json()["productKeys"][0]["key"] not in written
