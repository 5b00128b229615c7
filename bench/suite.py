"""The whole bench in one command: every workload a reseller's day is made of, on SQLite and PostgreSQL, each beside
the app's own constant endpoint measured in the same run. Not a test: it prints a table.

    make bench-all        (or: .venv/bin/python bench/suite.py [--seconds 8] [--clients 16] [--engines ...])

For each engine it starts a throwaway database (PostgreSQL from Debian's binaries, on /dev/shm when there
is room) and data dir, seeds it (the demo catalog, a partner's agents, a customer with one software
purchase and its key, a small and a large installation file, and a second customer with `--orders` orders
made through the checkout service itself), serves the app with uvicorn (one worker, or `--workers N`;
`bench/bench_app.py` adds the constant endpoint) on 127.0.0.1, and drives it with `wrk` for `--seconds` per workload:

- constant:        GET /bench/constant (the HTTP stack's ceiling; every ratio is against it)
- naive INSERT:    POST /bench/insert, one ORM INSERT in the request's write transaction (the ceiling of any
                   request that writes; checkout's target is against it)
- catalog:         GET /v1/customers/{id}/products?targetView=Software (a sales agent)
- cart + checkout: POST a cart with one software line, then its checkout (rate = checkouts/s)
- keys and downloads: POST .../software/{id}/keysanddownloads (an admin agent; a fresh link each time)
- link redemption: GET /v1/downloads/{token} of a 64 KiB file (no login), every client on one link, then
                   each request on one of `--clients` links of the same file (many customers' links)
- order list:      GET /v1/customers/{id}/orders?size=50 for the customer with 10,000 orders, first page
- order list, deep: the same, 200 pages in (offset paging)

then fetches a 512 MiB file with curl from the desk and from nginx serving the same file (one client),
and reports MB/s and the ratio. The server's peak memory (resident set of its process tree, sampled every
50 ms) is measured per workload. Load stays on loopback; every run stops by itself.

A second table sets the targets of the issues beside what was measured in the same run: checkout at least
0.7x the naive INSERT, link redemption at least 0.5x the constant, the large file at least 0.5x nginx with
flat memory (the server grows by at most 10 MB while sending it), catalog and order list p99 under 50 ms.
The machine's load average is printed at the start and end of each engine's run: other work on the
machine weighs on every figure. `--only` measures some workloads (the constant always) while iterating.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import downloads_bench as kit  # noqa: E402  (servers, seeding, wrk, memory sampling)
from bench.checkout_bench import CHECKOUT_LUA, INSERT_LUA, Databases  # noqa: E402

SMALL_FILE = 64 * 1024
LARGE_FILE = 512 * 1024 * 1024
SMALL_CHOICE = ("2022", "en-US", "ISO x64")
LARGE_CHOICE = ("2022", "fr-FR", "ISO x64")
ORDERS = 10_000
WORKLOADS = ("insert", "catalog", "checkout", "keys", "link", "orders", "orders-deep", "large")
P99_TARGET_MS = 50.0

GET_WITH_TOKEN_LUA = """
wrk.headers["Authorization"] = "Bearer %(token)s"
"""
# Each request redeems one of several links, picked at random (wrk's threads each run their own copy).
MANY_LINKS_LUA = """
local paths = {%(paths)s}
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""
POST_WITH_TOKEN_LUA = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%(body)s'
"""


def seed_orders(database_url: str, data_dir: Path, count: int) -> str:
    """A second customer of the bench partner with `count` one-line orders, each made by the checkout service
    (cart, lines, order, subscription, entitlement, charge); returns the customer's id."""
    from partnerdesk.accounts import service as accounts
    from partnerdesk.core.desk import Desk
    from partnerdesk.customers import service as customers
    from partnerdesk.customers.schemas import CustomerIn
    from partnerdesk.orders import flows
    from partnerdesk.orders import service as orders
    from partnerdesk.orders.service import CartLine

    desk = Desk.from_settings(kit.app_settings(database_url, data_dir))
    try:
        with desk.database.session() as db:
            principal = accounts.principal_of(accounts.get_agent_by_email(db, "sales_agent@bench.example"))
            data = {**kit.BENCH_CUSTOMER, "companyProfile": {"domain": "orders-bench.example.com",
                                                             "companyName": "Ten Thousand Orders SAS"}}
            customer_id = customers.create_customer(db, principal=principal, now=desk.clock.now(),
                                                    data=CustomerIn.model_validate(data)).id
            item = _catalog_item(db)
        line = CartLine(id=0, catalog_item_id=item, quantity=1, billing_cycle="one_time", term_duration=None,
                        friendly_name=None, provisioning_context={})
        done = 0
        while done < count:
            with desk.database.session() as db:
                for _ in range(min(500, count - done)):
                    now = desk.clock.now()
                    cart = orders.create_cart(db, principal=principal, customer_id=customer_id, lines=[line], now=now)
                    flows.checkout(db, principal=principal, customer_id=customer_id, cart_id=cart.cart.id, now=now)
                    done += 1
            kit.progress(f"  {done:,} of {count:,} orders")
        return customer_id
    finally:
        desk.database.dispose()


def _catalog_item(db) -> str:
    from sqlalchemy import select

    from partnerdesk.catalog.models import Availability

    availability = db.scalar(select(Availability.id).where(
        Availability.product_id == kit.PRODUCT, Availability.sku_id == kit.SKU, Availability.country == kit.MARKET))
    return f"{kit.PRODUCT}:{kit.SKU}:{availability}"


def run_wrk(url: str, *, seconds: int, clients: int, script: str | None, scratch: Path) -> dict[str, float]:
    path = None
    if script is not None:
        path = scratch / f"workload-{abs(hash(script))}.lua"
        path.write_text(script)
    figures = kit.wrk(url, seconds=seconds, clients=clients, threads=min(clients, 4), script=path)
    return figures


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU time (user + system) used so far by a process and its descendants, from /proc."""
    total, pending = 0.0, [root_pid]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def measure(label: str, sampler: kit.RssSampler, **load) -> dict[str, float]:
    """wrk's figures, the server's peak memory, and its CPU time per request: the CPU figure depends far
    less than the rate on what else the machine runs (PostgreSQL's own processes are not counted)."""
    kit.progress(f"  {label}")
    sampler.reset()
    cpu = tree_cpu_seconds(sampler.pid)
    figures = run_wrk(**load)
    figures["peak_mb"] = kit.mb(sampler.peak())
    figures["cpu_ms"] = 1000 * (tree_cpu_seconds(sampler.pid) - cpu) / max(figures["requests"], 1)
    return figures


def checkout_rate(base: str, seeded: kit.Seeded, *, seconds: int, clients: int, scratch: Path,
                  sampler: kit.RssSampler) -> dict[str, float]:
    """wrk over the cart + checkout script: its own count of checkouts is the rate; latency is per request."""
    script = CHECKOUT_LUA % {"token": seeded.sales_token, "customer": seeded.customer_id,
                             "item": seeded.catalog_item_id, "with_request_ids": "false"}
    path = scratch / "checkout.lua"
    path.write_text(script)
    kit.progress("  cart + checkout")
    sampler.reset()
    cpu = tree_cpu_seconds(sampler.pid)
    command = ["wrk", f"-t{min(clients, 4)}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "--latency",
               "-s", str(path), base]
    finished = subprocess.run(command, capture_output=True, text=True)
    output = finished.stdout
    counted = re.search(r"CHECKOUTS (\d+) FAILURES (\d+)", output)
    if finished.returncode != 0 or counted is None:
        raise RuntimeError(f"wrk failed: {finished.stderr or output}")
    checkouts = int(counted.group(1))
    figures = {"rps": checkouts / seconds, "errors": int(counted.group(2)), "peak_mb": kit.mb(sampler.peak()),
               "cpu_ms": 1000 * (tree_cpu_seconds(sampler.pid) - cpu) / max(checkouts, 1)}  # per checkout (2 requests)
    for percentile in ("50", "99"):
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        figures[f"p{percentile}"] = kit.milliseconds(*found.groups())
    return figures


def large_file(desk_url: str, nginx_url: str) -> tuple[float, float]:
    """MB/s of one curl fetching the large file from the desk, then from nginx."""
    rates = []
    for url in (desk_url, nginx_url):
        fetched = kit.fetch_all(url, 1, LARGE_FILE)
        rates.append(fetched.bytes / fetched.seconds / 1e6)
    return rates[0], rates[1]


@dataclass
class EngineRun:
    """One engine's figures: each workload's wrk figures, the large file's, and the load around them."""

    name: str
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    large: dict[str, float] = field(default_factory=dict)
    load_before: str = ""
    load_after: str = ""


def run_engine(name: str, databases: Databases, options: argparse.Namespace, scratch: Path) -> EngineRun:
    wanted = set(options.only.split(",")) if options.only else set(WORKLOADS)
    kit.progress(f"{name}: seeding")
    run = EngineRun(name)
    with databases.fresh("suite") as (database_url, data_dir):
        seeded = kit.seed(database_url, data_dir)
        kit.store_file(database_url, data_dir, SMALL_CHOICE, SMALL_FILE)
        large_path = kit.store_file(database_url, data_dir, LARGE_CHOICE, LARGE_FILE) if "large" in wanted else None
        orders_wanted = wanted & {"orders", "orders-deep"}
        orders_customer = seed_orders(database_url, data_dir, options.orders) if orders_wanted else None
        nginx_root = scratch / f"nginx-{name}"
        nginx_root.mkdir()
        if large_path is not None:
            (nginx_root / "large.iso").symlink_to(large_path)
        with ExitStack() as stack:
            desk = stack.enter_context(kit.served_app(database_url, data_dir, workers=options.workers))
            nginx = stack.enter_context(kit.served_nginx(nginx_root, scratch / f"nginx-run-{name}"))
            purchase = kit.Purchase(desk.base, seeded)
            small_link = purchase.link(SMALL_CHOICE)
            large_link = purchase.link(LARGE_CHOICE) if large_path is not None else None
            keys_path = purchase.software_url.removeprefix(desk.base) + "/keysanddownloads"
            version, language, file_type = SMALL_CHOICE
            body = json.dumps({"version": version, "language": language, "fileType": file_type})
            load = {"seconds": options.seconds, "clients": options.clients, "scratch": scratch}
            sales = GET_WITH_TOKEN_LUA % {"token": seeded.sales_token}
            results = run.results
            run.load_before = kit.load_average()
            with kit.RssSampler(desk.pid) as sampler:
                run_wrk(f"{desk.base}/bench/constant", seconds=2, clients=options.clients, script=None,
                        scratch=scratch)  # warm-up
                results["constant"] = measure("constant", sampler, url=f"{desk.base}/bench/constant", script=None,
                                              **load)
                if "insert" in wanted:
                    results["naive INSERT"] = measure("naive INSERT", sampler, url=f"{desk.base}/bench/insert",
                                                      script=INSERT_LUA, **load)
                if "catalog" in wanted:
                    # The first read of a customer's catalog fills the catalog cache (seconds): not what is measured.
                    catalog_url = f"{desk.base}/v1/customers/{seeded.customer_id}/products?targetView=Software"
                    # Each request on a new connection, so that every worker process most likely fills its own.
                    for _ in range(4 * options.workers - 3):
                        httpx.get(catalog_url, headers={"Authorization": f"Bearer {seeded.sales_token}"}, timeout=120)
                    results["catalog for a customer"] = measure(
                        "catalog", sampler, url=catalog_url, script=sales, **load)
                if "checkout" in wanted:
                    results["cart + checkout"] = checkout_rate(desk.base, seeded, sampler=sampler, **load)
                if "keys" in wanted:
                    results["keys and downloads"] = measure(
                        "keys and downloads", sampler, url=f"{desk.base}{keys_path}",
                        script=POST_WITH_TOKEN_LUA % {"token": seeded.admin_token, "body": body}, **load)
                if "link" in wanted:
                    results[LINK_ROW] = measure("link redemption", sampler, url=f"{desk.base}{small_link}",
                                                script=None, **load)
                    # One link's redemptions wait for each other (each takes the link's row lock from its
                    # UPDATE to its commit, so the limit holds); many customers' links do not.
                    paths = ", ".join(f'"{purchase.link(SMALL_CHOICE)}"' for _ in range(options.clients))
                    results[f"link redemption, {options.clients} links"] = measure(
                        "link redemption, one link per client", sampler, url=f"{desk.base}{small_link}",
                        script=MANY_LINKS_LUA % {"paths": paths}, **load)
                if "orders" in wanted:
                    results[f"order list ({options.orders:,} orders)"] = measure(
                        "order list", sampler, url=f"{desk.base}/v1/customers/{orders_customer}/orders?size=50",
                        script=sales, **load)
                if "orders-deep" in wanted:
                    deep = max(0, options.orders - 50)
                    results["order list, last page"] = measure(
                        "order list, last page", sampler,
                        url=f"{desk.base}/v1/customers/{orders_customer}/orders?size=50&offset={deep}",
                        script=sales, **load)
                if large_link is not None:
                    kit.progress("  large file")
                    sampler.reset()
                    before = kit.tree_rss_bytes(desk.pid)
                    desk_rate, nginx_rate = large_file(f"{desk.base}{large_link}", f"{nginx.base}/large.iso")
                    run.large = {"desk": desk_rate, "nginx": nginx_rate, "peak_mb": kit.mb(sampler.peak()),
                                 "growth_mb": kit.mb(sampler.peak() - before)}
            run.load_after = kit.load_average()
    return run


LINK_ROW = "link redemption (64 KiB)"


def workload_rows(run: EngineRun) -> list[list[str]]:
    constant = run.results["constant"]["rps"]
    rows = [[run.name, workload, f"{figures['rps']:,.0f}/s", f"{figures['p50']:.1f}", f"{figures['p99']:.1f}",
             str(int(figures["errors"])), f"{figures['peak_mb']:.0f}", f"{figures['cpu_ms']:.2f}",
             f"{figures['rps'] / constant:.3f}"]
            for workload, figures in run.results.items()]
    if run.large:
        large = run.large
        rows.append([run.name, "large file (512 MiB, 1 client)", f"{large['desk']:,.0f} MB/s", "", "", "0",
                     f"{large['peak_mb']:.0f}", "",
                     f"{large['desk'] / large['nginx']:.2f} × nginx ({large['nginx']:,.0f} MB/s)"])
    return rows


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def target_rows(run: EngineRun) -> list[list[str]]:
    """The targets of the earlier issues beside this run's figures, each against a baseline of the same run."""
    results, rows = run.results, []
    if "cart + checkout" in results and "naive INSERT" in results:
        ratio = results["cart + checkout"]["rps"] / results["naive INSERT"]["rps"]
        rows.append([run.name, "checkout ÷ naive INSERT", "≥ 0.70",
                     f"{ratio:.2f} ({results['cart + checkout']['rps']:,.0f} ÷ {results['naive INSERT']['rps']:,.0f})",
                     verdict(ratio >= 0.7)])
    if LINK_ROW in results:
        ratio = results[LINK_ROW]["rps"] / results["constant"]["rps"]
        rows.append([run.name, "link redemption ÷ constant", "≥ 0.50",
                     f"{ratio:.3f} ({results[LINK_ROW]['rps']:,.0f} ÷ {results['constant']['rps']:,.0f})",
                     verdict(ratio >= 0.5)])
    if run.large:
        large = run.large
        ratio = large["desk"] / large["nginx"]
        rows.append([run.name, "large file ÷ nginx", "≥ 0.50", f"{ratio:.2f}", verdict(ratio >= 0.5)])
        rows.append([run.name, "large file: server memory growth", f"≤ {kit.FLAT_WITHIN_MB} MB",
                     f"{large['growth_mb']:.0f} MB (peak {large['peak_mb']:.0f} MB)",
                     verdict(large["growth_mb"] <= kit.FLAT_WITHIN_MB)])
    for workload, figures in results.items():
        if workload.startswith(("catalog", "order list")):
            rows.append([run.name, f"{workload} p99", f"< {P99_TARGET_MS:.0f} ms", f"{figures['p99']:.1f} ms",
                         verdict(figures["p99"] < P99_TARGET_MS)])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes (production runs several stateless ones; CPU is their sum)")
    parser.add_argument("--only", default="", help=f"some of {','.join(WORKLOADS)} (the constant is always measured)")
    options = parser.parse_args()
    unknown = set(filter(None, options.only.split(","))) - set(WORKLOADS)
    if unknown:
        sys.exit(f"--only: unknown workload(s) {', '.join(sorted(unknown))}; choose among {', '.join(WORKLOADS)}")
    for tool in ("wrk", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install -y wrk nginx curl")
    if kit.NGINX is None:
        sys.exit("nginx is missing: apt-get install -y nginx")
    kit.stop_on_sigterm()
    runs: list[EngineRun] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="partnerdesk-bench-") as folder:
        scratch = Path(folder)
        for name in options.engines.split(","):
            if name == "sqlite":
                runs.append(run_engine(name, Databases("sqlite", scratch), options, scratch))
            else:
                with kit.postgres_server() as server:
                    if server is None:
                        sys.exit("PostgreSQL is missing: bash scripts/install-system-deps.sh")
                    runs.append(run_engine(name, Databases("postgresql", scratch, server), options, scratch))
    print()
    print(f"Machine: {kit.machine()}; "
          f"{options.seconds} s per workload, {options.clients} clients, {options.workers} uvicorn worker"
          f"{'s' if options.workers > 1 else ''}; run took {time.monotonic() - started:.0f} s")
    for run in runs:
        print(f"{run.name}: {run.load_before} at the start, {run.load_after} at the end")
    print()
    kit.print_table([["engine", "workload", "rate", "p50 ms", "p99 ms", "errors", "peak MB", "CPU ms/req",
                      "÷ constant"],
                     *[row for run in runs for row in workload_rows(run)]])
    targets = [row for run in runs for row in target_rows(run)]
    if targets:
        print()
        kit.print_table([["engine", "target", "wanted", "measured", "verdict"], *targets])

if __name__ == "__main__":
    main()
