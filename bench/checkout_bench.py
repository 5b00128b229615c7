"""Checkout throughput beside two baselines of the same app, on SQLite and on PostgreSQL. Not a test: prints figures.

For each engine it seeds a fresh database (a sales agent, a French customer, one software catalog item),
serves the app with the baselines of `bench/baselines.py` (`bench/bench_app.py`, uvicorn, one worker)
and drives it with `wrk` (apt-get install wrk) at the same concurrency for four workloads:

- constant: GET /bench/constant (the HTTP stack's ceiling)
- insert:   POST /bench/insert (a naive single ORM INSERT per request)
- checkout: POST a cart with one software line, then POST its checkout; the pair counts as one checkout
- checkout, MS-RequestId: the same, each request with a fresh `MS-RequestId` as Partner Center clients
  send it, so both writes are also remembered for retries (core.idempotency)

Each wrk thread owns one connection, so the Lua script can chain "create cart" then "check it out".
Run from the repository root: `.venv/bin/python bench/checkout_bench.py [--seconds 8] [--clients 16] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from partnerdesk.accounts import service as accounts  # noqa: E402
from partnerdesk.accounts.models import Role  # noqa: E402
from partnerdesk.config import Settings  # noqa: E402
from partnerdesk.core.desk import Desk  # noqa: E402
from partnerdesk.customers import service as customers  # noqa: E402
from partnerdesk.customers.schemas import CustomerIn  # noqa: E402
from partnerdesk.migrations import runner  # noqa: E402
from tests.orders.factories import OFFICE_FR, load_catalog  # noqa: E402
from tests.support import postgres  # noqa: E402

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(settings: Settings) -> tuple[str, str]:
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


def serve(settings: Settings, port: int) -> subprocess.Popen:
    env = {**os.environ, "PARTNERDESK_DATABASE_URL": settings.resolved_database_url,
           "PARTNERDESK_DATA_DIR": str(settings.data_dir), "PARTNERDESK_SECRET_KEY": settings.secret_key or ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.bench_app:serve_bench_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bench/constant").status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the app did not start")


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


def _median(values: list[float]) -> float:
    return statistics.median(values)


def run_engine(name: str, database_url: str, data_dir: Path, *, seconds: int, clients: int, rounds: int) -> float:
    """Runs the three workloads `rounds` times, alternating, and prints medians; returns the median ratio.

    Alternating rounds keep the comparison fair on a shared machine whose speed drifts: each
    checkout round is compared with the insert round just before it.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key="bench-secret-key-not-secret")
    token, customer = seed(settings)
    port = free_port()
    server = serve(settings, port)
    base = f"http://127.0.0.1:{port}"
    scripts = {kind: CHECKOUT_LUA % {"token": token, "customer": customer, "item": OFFICE_FR,
                                     "with_request_ids": "true" if kind == "checkout_ids" else "false"}
               for kind in ("checkout", "checkout_ids")}
    results: dict[str, list[dict[str, float]]] = {"constant": [], "insert": [], "checkout": [], "checkout_ids": []}
    try:
        wrk(f"{base}/bench/constant", seconds=2, clients=clients, script=None, workdir=data_dir)  # warm-up
        wrk(base, seconds=2, clients=clients, script=scripts["checkout"], workdir=data_dir)
        for _ in range(rounds):
            results["constant"].append(
                wrk(f"{base}/bench/constant", seconds=seconds, clients=clients, script=None, workdir=data_dir))
            results["insert"].append(
                wrk(f"{base}/bench/insert", seconds=seconds, clients=clients, script=INSERT_LUA, workdir=data_dir))
            for kind, script in scripts.items():
                results[kind].append(wrk(base, seconds=seconds, clients=clients, script=script, workdir=data_dir))
    finally:
        server.terminate()
        server.wait(timeout=30)
    def ratios_of(kind: str) -> list[float]:
        return [checkout["checkouts_per_s"] / insert["rps"]
                for checkout, insert in zip(results[kind], results["insert"], strict=True)]

    ratios = ratios_of("checkout")

    def figures(kind: str, rate_key: str = "rps") -> tuple[float, float, int]:
        runs = results[kind]
        return (_median([run[rate_key] for run in runs]), _median([run["p99_ms"] for run in runs]),
                sum(int(run["errors"]) for run in runs))

    constant, insert = figures("constant"), figures("insert")
    print(f"\n{name}: {clients} concurrent clients, {rounds} alternating rounds of {seconds}s, uvicorn 1 worker, "
          f"{os.cpu_count()} cores; medians")
    print(f"  constant  GET /bench/constant    {constant[0]:9.0f} req/s    p99 {constant[1]:7.1f} ms"
          f"   errors {constant[2]}")
    print(f"  insert    POST /bench/insert     {insert[0]:9.0f} req/s    p99 {insert[1]:7.1f} ms"
          f"   errors {insert[2]}")
    for kind, label in (("checkout", "cart + checkout       "), ("checkout_ids", "the same, MS-RequestId")):
        checkout, checkout_requests = figures(kind, "checkouts_per_s"), figures(kind)
        print(f"  {kind:<12}  {label} {checkout[0]:9.0f} checkouts/s ({checkout_requests[0]:.0f} req/s)"
              f"  p99 {checkout[1]:7.1f} ms per request   errors {checkout[2]}")
    for kind in ("checkout", "checkout_ids"):
        print(f"  ratio {kind} / naive insert, per round: {', '.join(f'{ratio:.2f}' for ratio in ratios_of(kind))};"
              f" median {_median(ratios_of(kind)):.2f}")
    return _median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory(prefix="partnerdesk-bench-") as scratch:
        root = Path(scratch)
        if "sqlite" in engines:
            run_engine("SQLite", f"sqlite:///{root / 'sqlite' / 'bench.db'}", root / "sqlite",
                       seconds=args.seconds, clients=args.clients, rounds=args.rounds)
        if "postgresql" in engines:
            server = postgres.start()
            if server is None:
                print("\nPostgreSQL: skipped (no server binaries found)")
                return
            try:
                admin = create_engine(server.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(text("CREATE DATABASE partnerdesk_bench"))
                admin.dispose()
                run_engine("PostgreSQL", server.url("partnerdesk_bench"), root / "postgresql",
                           seconds=args.seconds, clients=args.clients, rounds=args.rounds)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
