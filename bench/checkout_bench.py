"""Checkout throughput beside two baselines of the same app, on SQLite and on PostgreSQL. Not a test: prints figures.

Each round, for each engine, it seeds a fresh database (a sales agent, a French customer, one software
catalog item), serves the app with uvicorn (one worker, the baselines of `bench/baselines.py` added by
`bench/bench_app.py`) and drives it with `wrk` (apt-get install wrk) at the same concurrency for four
workloads:

- constant: GET /bench/constant (the HTTP stack's ceiling)
- insert:   POST /bench/insert (a naive single ORM INSERT per request)
- checkout: POST a cart with one software line, then POST its checkout; the pair counts as one checkout
- checkout, MS-RequestId: the same, each request with a fresh `MS-RequestId` as Partner Center clients
  send it, so both writes are also remembered for retries (core.idempotency)

With `--compare-with GIT_REV` it measures two versions of the code in the same run: that revision,
checked out with `git worktree add` in a temporary folder, and this checkout (working tree included).
The rounds alternate between them (old, new, then new, old, ...), so a machine whose speed drifts
weighs on both alike. Each version is served and seeded by its own code (PYTHONPATH=<its root>/src;
the seeding is its own `bench/checkout_bench.py:seed`, run in a subprocess) in a fresh database, with
its own way of adding the baselines: `bench/bench_app.py` when it has one, else the
`PARTNERDESK_BENCH_ROUTES=1` setting of the versions that still shipped them.

Each wrk thread owns one connection, so the Lua script can chain "create cart" then "check it out".
Run from the repository root:

    .venv/bin/python bench/checkout_bench.py [--seconds 8] [--clients 16] [--rounds 3]
        [--engines sqlite,postgresql] [--compare-with GIT_REV]

It prints, per engine, a Markdown table: each round of each version, then each version's medians, with
the server's CPU time per naive INSERT and per checkout (from /proc, the uvicorn process only: the figure
that moves least with the machine's load), and the load average when the engine's rounds began and ended.
`--new-rev GIT_REV` measures that revision instead of this checkout (two fixed versions, e.g. a change
on its own without what others committed meanwhile).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import postgres  # noqa: E402

SECRET_KEY = "bench-secret-key-not-secret"
WORKLOADS = ("constant", "insert", "checkout", "checkout_ids")

CHECKOUT_LUA = """
local token, customer, item = "%(token)s", "%(customer)s", "%(item)s"
local with_request_ids = %(with_request_ids)s
cart_id = nil
checkouts, failures = 0, 0
threads = {}
local cart_body = '{"lineItems": [{"id": 0, "catalogItemId": "' .. item ..
  '", "quantity": 1, "billingCycle": "one_time"}]}'
local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}

local function new_request_id()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    return string.format("%%x", c == "x" and math.random(0, 15) or math.random(8, 11))
  end))
end

function init(_args)
  math.randomseed(os.time() * 1000 + thread_number)  -- each thread its own sequence of request ids
end

function request()
  if with_request_ids then
    headers["MS-RequestId"] = new_request_id()
  end
  if cart_id == nil then
    return wrk.format("POST", "/v1/customers/" .. customer .. "/carts", headers, cart_body)
  end
  local path = "/v1/customers/" .. customer .. "/carts/" .. cart_id .. "/checkout"
  cart_id = nil
  return wrk.format("POST", path, headers, "")
end

function response(status, _headers, body)
  if status == 201 and string.find(body, '"objectType":"Cart"', 1, true) then
    cart_id = string.match(body, '^{"id":"([^"]+)"')
  elseif status == 201 then
    checkouts = checkouts + 1
  else
    failures = failures + 1
    cart_id = nil
  end
end

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function done(summary, latency, requests)
  local total, failed = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("checkouts")
    failed = failed + thread:get("failures")
  end
  io.write(string.format("CHECKOUTS %%d FAILURES %%d\\n", total, failed))
end
"""

INSERT_LUA = 'wrk.method = "POST"\n'

# Run in a subprocess by `seed_version`, with the served version's PYTHONPATH: argv is that version's
# bench/ folder, the data dir and the database URL.
SEED_SCRIPT = f"""
import json, sys
sys.path.insert(0, sys.argv[1])
import checkout_bench
from partnerdesk.config import Settings
from tests.orders.factories import OFFICE_FR
settings = Settings(data_dir=sys.argv[2], database_url=sys.argv[3], secret_key={SECRET_KEY!r})
token, customer = checkout_bench.seed(settings)
print("SEEDED " + json.dumps([token, customer, OFFICE_FR]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(settings) -> tuple[str, str]:
    """Migrates the database and adds the bench's data; returns a sales agent's token and the customer id.

    Called by SEED_SCRIPT in the process of the version being measured (so it imports that version)."""
    from partnerdesk.accounts import service as accounts
    from partnerdesk.accounts.models import Role
    from partnerdesk.core.desk import Desk
    from partnerdesk.customers import service as customers
    from partnerdesk.customers.schemas import CustomerIn
    from partnerdesk.migrations import runner
    from tests.orders.factories import load_catalog

    runner.upgrade(settings.resolved_database_url)
    desk = Desk.from_settings(settings)
    try:
        load_catalog(desk)
        now = desk.clock.now()
        with desk.database.session() as db:
            agent = accounts.add_agent(db, email="bench@contoso.example", role=Role.sales_agent, now=now,
                                       partner_name="Contoso Reseller")
            token = accounts.issue_token(db, agent, now=now)
            customer = customers.create_customer(db, principal=accounts.principal_of(agent), now=now,
                                                 data=CustomerIn.model_validate({
                                                     "companyProfile": {"domain": "bench.example.com",
                                                                        "companyName": "Bench SARL"},
                                                     "billingProfile": {"companyName": "Bench SARL",
                                                                        "email": "it@bench.example", "culture": "fr-FR",
                                                                        "language": "fr",
                                                                        "defaultAddress": {"country": "FR"}}}))
            return token, customer.id
    finally:
        desk.database.dispose()


@dataclass(frozen=True)
class Version:
    """A version of the code: a checkout of the repository whose `src/` is what its processes import."""

    label: str
    root: Path

    def env(self, database_url: str, data_dir: Path) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PARTNERDESK_")}
        env.update(PYTHONPATH=str(self.root / "src"), PARTNERDESK_DATABASE_URL=database_url,
                   PARTNERDESK_DATA_DIR=str(data_dir), PARTNERDESK_SECRET_KEY=SECRET_KEY)
        return env

    def app_factory(self) -> tuple[str, dict[str, str]]:
        """The uvicorn factory serving the app with the baselines, and the settings it needs."""
        if (self.root / "bench" / "bench_app.py").exists():
            return "bench.bench_app:serve_bench_app", {}
        return "partnerdesk.app:serve_app", {"PARTNERDESK_BENCH_ROUTES": "1"}


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def checked_out(revision: str, scratch: Path) -> Iterator[Version]:
    """`revision` checked out in a git worktree under `scratch`, removed afterwards."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    path = scratch / f"worktree-{commit[:12]}"
    git("worktree", "add", "--detach", str(path), commit)
    try:
        yield Version(commit[:7] if commit.startswith(revision.lower()) else f"{revision} ({commit[:7]})", path)
    finally:
        git("worktree", "remove", "--force", str(path))


class Databases:
    """Fresh, empty databases on one engine: files in `scratch` (SQLite) or on a PostgreSQL server."""

    def __init__(self, name: str, scratch: Path, server: postgres.PostgresServer | None = None) -> None:
        self.name, self.scratch, self.server = name, scratch, server

    def _admin(self, statement: str) -> None:
        admin = create_engine(self.server.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(statement))
        admin.dispose()

    @contextmanager
    def fresh(self, name: str) -> Iterator[tuple[str, Path]]:
        """A new database's URL and a data dir for it, both removed afterwards."""
        data_dir = self.scratch / self.name / name
        data_dir.mkdir(parents=True)
        try:
            if self.server is None:
                yield f"sqlite:///{data_dir / 'bench.db'}", data_dir
                return
            self._admin(f"CREATE DATABASE {name}")
            try:
                yield self.server.url(name), data_dir
            finally:
                self._admin(f"DROP DATABASE {name} WITH (FORCE)")
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


def seed_version(version: Version, database_url: str, data_dir: Path) -> tuple[str, str, str]:
    """Seeds the database with `version`'s own code; returns a token, the customer id and the catalog item."""
    finished = subprocess.run(
        [sys.executable, "-c", SEED_SCRIPT, str(version.root / "bench"), str(data_dir), database_url],
        env=version.env(database_url, data_dir), cwd=version.root, capture_output=True, text=True)
    seeded = re.search(r"^SEEDED (.+)$", finished.stdout, re.MULTILINE)
    if finished.returncode != 0 or seeded is None:
        raise RuntimeError(f"seeding {version.label} failed:\n{finished.stderr or finished.stdout}")
    token, customer, item = json.loads(seeded.group(1))
    return token, customer, item


@dataclass(frozen=True)
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(version: Version, database_url: str, data_dir: Path) -> Iterator[Server]:
    """`version`'s app with the baselines, served by uvicorn with one worker (its own process)."""
    factory, settings = version.app_factory()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log"],
        env={**version.env(database_url, data_dir), **settings}, cwd=version.root,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, f"{base}/bench/constant", version.label)
        yield Server(base, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_until_up(server: subprocess.Popen, url: str, label: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            status = httpx.get(url).status_code
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        if status != 200:
            raise RuntimeError(f"the app of {label} answers {url} with {status}: are its baselines served?")
        return
    raise RuntimeError(f"the app of {label} did not start")


def wrk(url: str, *, seconds: int, clients: int, script: str | None, workdir: Path) -> dict[str, float]:
    command = ["wrk", f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--latency"]
    if script is not None:
        path = workdir / f"script-{abs(hash(script))}.lua"
        path.write_text(script)
        command += ["-s", str(path)]
    finished = subprocess.run([*command, url], capture_output=True, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed: {finished.stderr or finished.stdout}")
    output = finished.stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    figures["p99_ms"] = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["errors"] = int(non_2xx.group(1)) if non_2xx else 0
    checkouts = re.search(r"CHECKOUTS (\d+) FAILURES (\d+)", output)
    if checkouts:
        figures["checkouts_per_s"] = int(checkouts.group(1)) / seconds
        figures["errors"] = int(checkouts.group(2))
    return figures


def run_workloads(server: Server, token: str, customer: str, item: str, *, seconds: int, clients: int,
                  workdir: Path) -> dict[str, dict[str, float]]:
    """Warms the app up, then runs each workload once; returns wrk's figures by workload, with the server's
    CPU milliseconds per request (per checkout, a cart and its checkout, for the checkout workloads)."""
    base = server.base
    urls = {"constant": f"{base}/bench/constant", "insert": f"{base}/bench/insert",
            "checkout": base, "checkout_ids": base}
    scripts = {"constant": None, "insert": INSERT_LUA}
    for kind in ("checkout", "checkout_ids"):
        scripts[kind] = CHECKOUT_LUA % {"token": token, "customer": customer, "item": item,
                                        "with_request_ids": "true" if kind == "checkout_ids" else "false"}
    for kind in ("constant", "checkout"):  # warm-up
        wrk(urls[kind], seconds=2, clients=clients, script=scripts[kind], workdir=workdir)
    runs = {}
    for kind in WORKLOADS:
        before = server.cpu_seconds()
        figures = wrk(urls[kind], seconds=seconds, clients=clients, script=scripts[kind], workdir=workdir)
        done = figures.get("checkouts_per_s", figures["rps"]) * seconds
        figures["cpu_ms"] = 1000 * (server.cpu_seconds() - before) / max(done, 1)
        runs[kind] = figures
    return runs


def measure(version: Version, databases: Databases, name: str, *, seconds: int, clients: int) -> dict[str, float]:
    """One round of `version` in a fresh database: the figures of its row in the table."""
    with databases.fresh(name) as (database_url, data_dir):
        token, customer, item = seed_version(version, database_url, data_dir)
        with served(version, database_url, data_dir) as server:
            runs = run_workloads(server, token, customer, item, seconds=seconds, clients=clients, workdir=data_dir)
    return row_of(runs)


def row_of(runs: dict[str, dict[str, float]]) -> dict[str, float]:
    insert = runs["insert"]["rps"]
    return {
        "constant": runs["constant"]["rps"], "insert": insert,
        "checkout": runs["checkout"]["checkouts_per_s"], "checkout_ids": runs["checkout_ids"]["checkouts_per_s"],
        "ratio": runs["checkout"]["checkouts_per_s"] / insert,
        "ratio_ids": runs["checkout_ids"]["checkouts_per_s"] / insert,
        "p99": runs["checkout"]["p99_ms"], "p99_ids": runs["checkout_ids"]["p99_ms"],
        "cpu_insert": runs["insert"]["cpu_ms"], "cpu_checkout": runs["checkout"]["cpu_ms"],
        "errors": sum(runs[kind]["errors"] for kind in WORKLOADS),
    }


def medians(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median across rounds (the ratios too: the median of the rounds' ratios); errors summed."""
    return {key: sum(row[key] for row in rows) if key == "errors" else statistics.median(row[key] for row in rows)
            for key in rows[0]}


def load_average() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def run_engine(databases: Databases, versions: list[Version], *, seconds: int, clients: int,
               rounds: int) -> dict[str, list[dict[str, float]]]:
    """`rounds` rounds, each measuring every version once (their order flips every round); rows by version."""
    print(f"{databases.name}: {load_average()} at the start", flush=True)
    rows: dict[str, list[dict[str, float]]] = {version.label: [] for version in versions}
    for round_number in range(1, rounds + 1):
        ordered = versions if round_number % 2 else versions[::-1]
        for version in ordered:
            name = f"partnerdesk_bench_{round_number}_{versions.index(version)}"
            print(f"{databases.name}: round {round_number}, {version.label}", file=sys.stderr, flush=True)
            rows[version.label].append(measure(version, databases, name, seconds=seconds, clients=clients))
    print(f"{databases.name}: {load_average()} at the end", flush=True)
    return rows


# The table's columns: heading, key of a row, format.
COLUMNS = (
    ("constant req/s", "constant", "{:.0f}"),
    ("naive insert req/s", "insert", "{:.0f}"),
    ("checkouts/s", "checkout", "{:.1f}"),
    ("checkouts/s, MS-RequestId", "checkout_ids", "{:.1f}"),
    ("checkout / insert", "ratio", "{:.3f}"),
    ("MS-RequestId / insert", "ratio_ids", "{:.3f}"),
    ("checkout p99 ms", "p99", "{:.1f}"),
    ("MS-RequestId p99 ms", "p99_ids", "{:.1f}"),
    ("CPU ms/insert", "cpu_insert", "{:.2f}"),
    ("CPU ms/checkout", "cpu_checkout", "{:.2f}"),
    ("errors", "errors", "{:.0f}"),
)


def print_table(name: str, rows: dict[str, list[dict[str, float]]], *, seconds: int, clients: int,
                rounds: int) -> None:
    print(f"\n{name}: {clients} concurrent clients, {rounds} round(s) of {seconds}s per workload, "
          f"uvicorn 1 worker, {os.cpu_count()} cores\n")
    lines = [["version", "round", *(heading for heading, _key, _format in COLUMNS)]]
    for label, runs in rows.items():
        lines += [[label, str(number), *cells(row)] for number, row in enumerate(runs, start=1)]
    lines += [[label, "median", *cells(medians(runs))] for label, runs in rows.items()]
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    lines.insert(1, ["-" * width for width in widths])
    for line in lines:
        print("| " + " | ".join(cell.rjust(width) if column > 1 else cell.ljust(width)
                                for column, (cell, width) in enumerate(zip(line, widths, strict=True))) + " |")
    if len(rows) == 2:
        (old_label, old), (new_label, new) = ((label, medians(runs)) for label, runs in rows.items())
        changes = ", ".join(f"{heading} x{new[key] / old[key]:.2f}" for heading, key, _format in COLUMNS
                            if key in ("constant", "insert", "checkout", "checkout_ids", "cpu_insert", "cpu_checkout"))
        print(f"\n{new_label} / {old_label}, medians: {changes}")


def cells(row: dict[str, float]) -> list[str]:
    return [template.format(row[key]) for _heading, key, template in COLUMNS]


def run(engines: list[str], versions: list[Version], scratch: Path, **options: int) -> None:
    if "sqlite" in engines:
        print_table("SQLite", run_engine(Databases("sqlite", scratch), versions, **options), **options)
    if "postgresql" in engines:
        server = postgres.start()
        if server is None:
            print("\nPostgreSQL: skipped (no server binaries found)")
            return
        try:
            rows = run_engine(Databases("postgresql", scratch, server), versions, **options)
        finally:
            server.stop()
        print_table("PostgreSQL", rows, **options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="Length of each wrk run.")
    parser.add_argument("--clients", type=int, default=16, help="Concurrent connections (one wrk thread each).")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-with", metavar="GIT_REV",
                        help="Also measure this revision (a git worktree of it), alternating with this checkout.")
    parser.add_argument("--new-rev", metavar="GIT_REV",
                        help="With --compare-with: measure this revision (a worktree) instead of this checkout.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    options = {"seconds": args.seconds, "clients": args.clients, "rounds": args.rounds}
    current = Version("working tree", ROOT)
    with tempfile.TemporaryDirectory(prefix="partnerdesk-bench-") as scratch, ExitStack() as stack:
        if args.compare_with is None:
            run(args.engines.split(","), [current], Path(scratch), **options)
            return
        old = stack.enter_context(checked_out(args.compare_with, Path(scratch)))
        if args.new_rev is not None:
            current = stack.enter_context(checked_out(args.new_rev, Path(scratch)))
        run(args.engines.split(","), [old, current], Path(scratch), **options)


if __name__ == "__main__":
    main()
