"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL server.

Each test gets a fresh database copied from a template that was migrated once with
Alembic, so tests see exactly the schema users get, and commit for real.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from partnerdesk.app import create_app
from partnerdesk.config import Settings
from partnerdesk.core.clock import FrozenClock
from partnerdesk.core.desk import Desk
from partnerdesk.migrations import runner
from tests.support import postgres
from tests.support.actors import Actors

TEMPLATE_DB = "partnerdesk_template"
_database_numbers = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--sqlite-only", action="store_true", help="Skip the PostgreSQL half of the suite.")


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Iterator[postgres.PostgresServer | None]:
    if request.config.getoption("--sqlite-only"):
        yield None
        return
    server = postgres.start()
    if server is None and os.environ.get("PARTNERDESK_REQUIRE_POSTGRES") == "1":
        pytest.exit("PostgreSQL is required (PARTNERDESK_REQUIRE_POSTGRES=1) but no server could be started.", 2)
    if server is not None:
        admin = create_engine(server.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}"))
            connection.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
        admin.dispose()
        runner.upgrade(server.url(TEMPLATE_DB))
    yield server
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    runner.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "partnerdesk.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    server: postgres.PostgresServer | None = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip("no PostgreSQL server available")
    name = f"pd_test_{os.getpid()}_{next(_database_numbers)}"
    admin = create_engine(server.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
    yield server.url(name)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        sandbox=True,
        secret_key="test-secret-key-not-for-production",
        base_url="http://testserver",
        # The tests' webhook receivers listen on 127.0.0.1; tests/webhooks/test_targets.py turns this off.
        webhook_private_targets=True,
    )


@pytest.fixture
def desk(settings: Settings, clock: FrozenClock) -> Iterator[Desk]:
    desk = Desk.from_settings(settings, clock=clock)
    yield desk
    desk.database.dispose()


@pytest.fixture
def app(desk: Desk):
    return create_app(desk=desk)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def actors(desk: Desk, client: TestClient) -> Actors:
    return Actors(desk=desk, client=client)


class _ThreadedServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process keeps its own handlers
        pass


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a background thread: for real HTTP concurrency."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = _ThreadedServer(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
