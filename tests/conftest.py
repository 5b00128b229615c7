"""Shared fixtures: every database test runs on SQLite; what can differ between engines also runs on PostgreSQL.

`database_url` is parametrized per test by `pytest_generate_tests` below, with the ids `sqlite`,
`postgresql` and `pgbouncer`:

- every test that uses a database (through `desk`, `client`, `actors`, `settings`) runs on SQLite;
- the paths in `BOTH_ENGINES`, the tests marked `@pytest.mark.both_engines` and the modules whose name
  says concurrency, race or crash also run on a real PostgreSQL server the fixtures start themselves;
- the paths in `THROUGH_PGBOUNCER` and the tests marked `@pytest.mark.pgbouncer` also run on PostgreSQL
  through PgBouncer in transaction pooling mode (`database_flavour` tells which one is running).

A test that parametrizes `database_url` itself (`@pytest.mark.parametrize("database_url", ["sqlite"],
indirect=True)`) runs on the engines it names and no others.

Each test gets a fresh database copied from a template that was migrated once with Alembic, so tests
see exactly the schema users get, and commit for real. Under pytest-xdist each worker starts its own
PostgreSQL cluster (and PgBouncer) when its first test needs one.

Every test runs with logging at DEBUG (SQL and its parameters included), and fails at teardown if anything
it logged holds a product key or a download link's token (`secrets_stay_out_of_the_logs`, at the end).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
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
from partnerdesk.core.logging import RedactSecretsFilter
from partnerdesk.migrations import runner
from tests.support import pgbouncer, postgres
from tests.support.actors import Actors

# What can differ between SQLite and PostgreSQL: locking and concurrency, idempotency (unique-index
# races), storage types (money, UTC times, NUL bytes, big integers), triggers, dialect-specific
# statements (INSERT ... ON CONFLICT, FOR UPDATE [SKIP LOCKED]), migrations and the CLI's schema check.
# A directory ends with "/"; "file.py::test_name" picks one test. Everything else runs on SQLite only.
BOTH_ENGINES = (
    # Purchases: carts, checkout (row locks, credit limits), cancellation, races over real HTTP.
    "tests/orders/test_checkout.py",
    "tests/orders/test_cancellation.py",
    "tests/orders/test_concurrency.py",
    "tests/orders/test_data_path.py",
    "tests/orders/test_properties.py",
    "tests/reservations/",
    # Invoices and credit limits: money columns, dialect-specific upserts, the billing CLI.
    "tests/billing/test_billing.py",
    # Retried writes: the request id's unique index, concurrent retries.
    "tests/test_idempotency.py",
    "tests/catalog/test_api.py::test_a_retried_create_with_the_same_request_id_makes_one_product",
    "tests/webhooks/test_api.py::test_a_retried_create_makes_one_endpoint_and_does_not_show_the_secret_again",
    # Migrations and what they build: schema comparison, catalog version triggers (plpgsql vs SQLite's).
    "tests/test_migrations.py",
    "tests/catalog/test_migration.py",
    "tests/catalog/test_cache.py",
    # Price-list import: bulk upserts in the engine's dialect, NUL characters.
    "tests/catalog/test_pricelist.py",
    # Text PostgreSQL refuses (NUL), LIKE's case rules, unique domains, stable ordering of pages.
    "tests/catalog/test_api.py::test_perpetual_software_has_no_term_and_types_must_exist",
    "tests/webhooks/test_api.py::test_a_description_with_control_characters_is_refused",
    "tests/webhooks/test_api.py::test_odd_ids_are_simply_not_found",
    "tests/customers/test_api.py::test_search_by_company_name_and_domain_and_partner_center_filter",
    "tests/customers/test_api.py::test_pagination_is_stable_and_links_to_the_next_page",
    "tests/customers/test_api.py::test_a_domain_belongs_to_one_customer_only",
    # Whatever arrives, no 5xx: generated input holds what PostgreSQL refuses or reads otherwise (NUL,
    # integers past its column types, LIKE escapes, very long text).
    "tests/test_api_fuzz.py",
    "tests/web/test_robustness.py",
    # The job queue (FOR UPDATE SKIP LOCKED, leases, several workers) and webhook delivery through it.
    "tests/jobs/",
    "tests/webhooks/test_delivery.py",
    "tests/webhooks/test_purge.py",
    # The append-only activity log (enforced by triggers; a big-integer key), filters on UTC times.
    "tests/audit/",
    # The sandbox clock row (read FOR UPDATE), moved by the API and the CLI.
    "tests/sandbox/",
    # CLI commands: on PostgreSQL they require the schema at head, on SQLite they apply it.
    "tests/accounts/test_cli.py",
    "tests/catalog/test_cli.py",
    "tests/webhooks/test_cli.py",
)
# Modules whose name says concurrency, race or crash run on both engines wherever they are.
BOTH_ENGINES_MODULE_NAME = re.compile(r"(^|_)(concurren\w*|races?|racing|crash\w*)(_|\.py$)")
# PostgreSQL through PgBouncer in transaction pooling mode, as deployments run it: what purchases and
# retried writes do on a connection must hold when each transaction gets another server connection.
THROUGH_PGBOUNCER = (
    "tests/orders/test_checkout.py",
    "tests/orders/test_cancellation.py",
    "tests/orders/test_concurrency.py",
    "tests/orders/test_data_path.py",
    "tests/reservations/",
    "tests/test_idempotency.py",
)
FLAVOURS = ("sqlite", "postgresql", "pgbouncer")

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEMPLATE_DB = f"partnerdesk_template_{WORKER}"
_database_numbers = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    # The whole suite logs at DEBUG (see `secrets_stay_out_of_the_logs`); pytest's own report of a failed
    # test keeps to warnings and errors unless asked (--log-level), so a failure is not buried under SQL.
    if config.getoption("log_level", None) is None and not config.getini("log_level"):
        config.option.log_level = "WARNING"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--sqlite-only", action="store_true",
                     help="Skip the PostgreSQL and PgBouncer halves of the suite.")


def _listed(nodeid: str, paths: tuple[str, ...]) -> bool:
    return any(nodeid == path or nodeid.startswith(path if path.endswith("/") else f"{path}::") for path in paths)


def database_flavours(item: pytest.Item) -> list[str]:
    """The `database_url` flavours a test runs on, from the lists and markers above."""
    nodeid = item.nodeid.split("[", 1)[0]
    module_name = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    through_pgbouncer = _listed(nodeid, THROUGH_PGBOUNCER) or item.get_closest_marker("pgbouncer") is not None
    both = (through_pgbouncer or _listed(nodeid, BOTH_ENGINES) or item.get_closest_marker("both_engines") is not None
            or BOTH_ENGINES_MODULE_NAME.search(module_name) is not None)
    return ["sqlite", *(["postgresql"] if both else []), *(["pgbouncer"] if through_pgbouncer else [])]


def _parametrizes_database_url(metafunc: pytest.Metafunc) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if "database_url" in names:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames and not _parametrizes_database_url(metafunc):
        flavours = database_flavours(metafunc.definition)
        if metafunc.config.getoption("--sqlite-only"):
            flavours = ["sqlite"]
        metafunc.parametrize("database_url", flavours, indirect=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    """With PARTNERDESK_REQUIRE_POSTGRES=1 (`make test`) a missing server or PgBouncer stops the run at once,
    before any pytest-xdist worker starts (a worker that exits loses the reason)."""
    if os.environ.get("PARTNERDESK_REQUIRE_POSTGRES") != "1" or session.config.getoption("--sqlite-only"):
        return
    if not postgres.available():
        pytest.exit("PostgreSQL is required (PARTNERDESK_REQUIRE_POSTGRES=1) but its binaries are missing; "
                    "run scripts/install-system-deps.sh", 2)
    if pgbouncer.binary() is None:
        pytest.exit("PgBouncer is required (PARTNERDESK_REQUIRE_POSTGRES=1) but /usr/sbin/pgbouncer is missing; "
                    "run scripts/install-system-deps.sh", 2)


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Iterator[postgres.PostgresServer | None]:
    if request.config.getoption("--sqlite-only"):
        yield None
        return
    server = postgres.start(in_memory=True)
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
def pg_bouncer(pg_server: postgres.PostgresServer | None) -> Iterator[pgbouncer.PgBouncer | None]:
    """PgBouncer in transaction pooling mode in front of `pg_server`, or None (then its tests skip)."""
    if pg_server is None:
        yield None
        return
    bouncer = pgbouncer.start(pg_server.admin_url)
    if bouncer is None and os.environ.get("PARTNERDESK_REQUIRE_POSTGRES") == "1":
        pytest.exit("PgBouncer is required (PARTNERDESK_REQUIRE_POSTGRES=1) but /usr/sbin/pgbouncer is missing; "
                    "run scripts/install-system-deps.sh", 2)
    yield bouncer
    if bouncer is not None:
        bouncer.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    runner.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_flavour(request: pytest.FixtureRequest) -> str:
    """`sqlite`, `postgresql` or `pgbouncer` (PostgreSQL through PgBouncer): the test's `database_url` id."""
    callspec = getattr(request.node, "callspec", None)
    return callspec.params.get("database_url", "sqlite") if callspec else "sqlite"


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    flavour = getattr(request, "param", "sqlite")
    assert flavour in FLAVOURS, f"unknown database_url flavour {flavour!r}"
    if flavour == "sqlite":
        path = tmp_path / "partnerdesk.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    server: postgres.PostgresServer | None = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip("no PostgreSQL server available")
    bouncer: pgbouncer.PgBouncer | None = None
    if flavour == "pgbouncer":
        bouncer = request.getfixturevalue("pg_bouncer")
        if bouncer is None:
            pytest.skip("PgBouncer is not installed (/usr/sbin/pgbouncer)")
        # PgBouncer 1.18 in transaction mode keeps no server-side prepared statement across transactions;
        # the `settings` fixture turns them off, and this does for desks and CLI processes a test makes.
        monkeypatch.setenv("PARTNERDESK_DATABASE_PREPARED_STATEMENTS", "0")
    name = f"pd_test_{WORKER}_{os.getpid()}_{next(_database_numbers)}"
    admin = create_engine(server.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
    url = server.url(name)
    yield bouncer.url(url) if bouncer else url
    with admin.connect() as connection:
        _drop_database(connection, name)
    admin.dispose()


def _drop_database(connection, name: str) -> None:
    """Drops a test database, ending the connections still open to it (PgBouncer keeps its own)."""
    # DROP ... WITH (FORCE) ends them too, but then checks every 100 ms that they are gone: ending them
    # first and watching for them takes a few milliseconds instead.
    ended = connection.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).scalar()
    deadline = time.monotonic() + 5
    while ended and time.monotonic() < deadline and connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"), {"name": name}).scalar():
        time.sleep(0.005)
    connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, database_flavour: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        # Through PgBouncer in transaction mode, as a deployment behind it must be configured.
        database_prepared_statements=database_flavour != "pgbouncer",
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
    # Logging is left as the tests set it (DEBUG, captured and checked for secrets), not reconfigured.
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level=None, lifespan="on")
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


# --- Secrets never reach the logs ------------------------------------------------------------------
# The whole suite runs with logging at DEBUG (SQL statements with their parameters included), and after
# every test nothing logged may hold a product key or a download link's token. Records are formatted as
# they are emitted, kept in memory for the test, checked, and dropped.
PRODUCT_KEY = re.compile(r"[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4}")
DOWNLOAD_TOKEN = re.compile(r"/v1/downloads/[A-Za-z0-9_-]{43}")
DEBUG_LOGGERS = ("", "sqlalchemy.engine", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi",
                 "partnerdesk")


class LogCapture(logging.Handler):
    """Every record of the test, formatted as a handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        # `partnerdesk serve` puts this filter on uvicorn's handlers (`core.logging.uvicorn_log_config`):
        # uvicorn's own lines are checked as a deployment writes them, everything else as it is logged.
        self._as_served = RedactSecretsFilter()

    def emit(self, record: logging.LogRecord) -> None:
        # httpx's request lines are the tests' own HTTP client, which must hold a link to use it.
        if record.name == "httpx" and str(record.msg).startswith("HTTP Request:"):
            return
        if record.name.startswith("uvicorn"):
            self._as_served.filter(record)
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is logging's own problem, reported by it
            self.handleError(record)

    def leaks(self) -> list[str]:
        """Each logged line that holds a product key or a link token, secret masked, with its logger."""
        found = []
        for line in self.lines:
            if PRODUCT_KEY.search(line) or DOWNLOAD_TOKEN.search(line):
                masked = DOWNLOAD_TOKEN.sub("/v1/downloads/<token>", PRODUCT_KEY.sub("<product key>", line))
                found.append(masked[:300])
        return found


@pytest.fixture(scope="session")
def _log_capture() -> Iterator[LogCapture]:
    capture = LogCapture()
    root = logging.getLogger()
    root.addHandler(capture)
    yield capture
    root.removeHandler(capture)


@pytest.fixture(autouse=True)
def secrets_stay_out_of_the_logs(_log_capture: LogCapture) -> Iterator[LogCapture]:
    """Logging at DEBUG for the test (levels are set again each time: servers started by a test may
    configure them), then no product key and no download token in anything it logged."""
    for name in DEBUG_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        # A logger that does not hand its records up to the root (uvicorn's access log, once uvicorn has
        # configured it) gets the capture itself.
        if name and not logger.propagate and _log_capture not in logger.handlers:
            logger.addHandler(_log_capture)
    _log_capture.lines.clear()
    yield _log_capture
    leaks = _log_capture.leaks()
    _log_capture.lines.clear()
    assert not leaks, f"{len(leaks)} logged line(s) hold a product key or a download token: {leaks[:5]}"
