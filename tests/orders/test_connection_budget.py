"""The connection budget: a process never opens more connections than its pool size, and requests
beyond it wait their turn instead of failing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.orders.factories import software_line

pytestmark = pytest.mark.both_engines

POOL_SIZE = 3


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"database_pool_size": POOL_SIZE})


def _purchase(live_server: str, token: str, customer: str) -> tuple[int, int]:
    with httpx.Client(base_url=live_server, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
        cart = client.post(f"/v1/customers/{customer}/carts", json={"lineItems": [software_line()]})
        placed = client.post(f"/v1/customers/{customer}/carts/{cart.json()['id']}/checkout")
        return cart.status_code, placed.status_code


def test_many_more_buyers_than_connections_all_succeed_within_the_budget(shop, desk, live_server, pg_server,
                                                                         database_flavour):
    customer = shop.customer("FR")
    start = threading.Event()
    peak = [0]
    stop = threading.Event()

    def watch_connections() -> None:
        """On PostgreSQL: the most connections the app held to its database at once."""
        engine = create_engine(pg_server.admin_url, poolclass=NullPool)
        name = desk.database.engine.url.database
        with engine.connect() as connection:
            while not stop.is_set():
                count = connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name "
                                                "AND pid <> pg_backend_pid()"), {"name": name}).scalar_one()
                peak[0] = max(peak[0], count)
        engine.dispose()

    watcher = threading.Thread(target=watch_connections) if database_flavour == "postgresql" else None
    if watcher:
        watcher.start()

    def buy(_index: int) -> tuple[int, int]:
        start.wait()
        return _purchase(live_server, shop.buyer.token, customer)

    with ThreadPoolExecutor(max_workers=24) as pool:
        futures = [pool.submit(buy, index) for index in range(24)]
        start.set()
        answers = [future.result() for future in futures]
    stop.set()
    if watcher:
        watcher.join()
        assert 1 <= peak[0] <= POOL_SIZE
    assert answers == [(201, 201)] * 24
