"""Catalog benchmark (not a test): price-list import speed, and a customer's catalog under HTTP load.

    .venv/bin/python bench/catalog_bench.py                 # the full run: 10,000 SKUs x 240 markets
    .venv/bin/python bench/catalog_bench.py --skus 1000     # a quicker look

1. Imports a 100,000-row price list with `partnerdesk catalog import` (the operator's command, in a
   subprocess, into a fresh SQLite database) and reports rows per second.
2. Builds a catalog of SKUS x MARKETS prices (one availability each) in another fresh SQLite
   database through the same import code path, fed from a generator instead of a file.
3. Serves the app with uvicorn (one worker; `bench/bench_app.py`, the app with the baselines of
   `bench/baselines.py`) and loads it with wrk: `/bench/constant` (the HTTP stack's ceiling) and
   `GET /v1/customers/{id}/products?targetView=Software` for a customer in FR, in the same run, and
   prints median, p99 and requests/s for each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SKUS_PER_PRODUCT = 4


def price_list_lines(skus: int, markets: list[str], *, limit: int | None = None) -> Iterator[str]:
    """CSV lines of a synthetic price list: half software (perpetual), half Reserved Instances (P1Y)."""
    from partnerdesk.catalog.pricelist import COLUMNS

    yield ",".join(COLUMNS) + "\n"
    produced = 0
    for sku_number in range(skus):
        product_number, sku_index = divmod(sku_number, SKUS_PER_PRODUCT)
        reserved = product_number % 2 == 1
        product_id = f"BENCH{product_number:07d}"
        sku_id = f"{sku_index + 1:04d}"
        if reserved:
            title, kind, term = (
                f"Reserved VM Instance, Series {product_number}",
                "Azure,VirtualMachines",
                "P1Y",
            )
        else:
            title, kind, term = f"Server Product {product_number}", "Software,Perpetual", ""
        prefix = (
            f'"{title}",{product_id},{sku_id},Edition {sku_index + 1},Bench Publisher,'
            f"Bench SKU {sku_number},1 license,{term},OneTime,"
        )
        for market_number, market in enumerate(markets):
            price = 100 + (sku_number * 7 + market_number) % 5000
            yield (
                f"{prefix}{market},USD,{price}.00,,,2026-01-01T00:00:00Z,,,,Commercial,"
                f"{market_number + 1:04d},{kind}\n"
            )
            produced += 1
            if limit is not None and produced >= limit:
                return


def markets_for_bench(count: int) -> list[str]:
    from partnerdesk.core.markets import all_markets

    markets = sorted(all_markets())
    # FR is the bench customer's market: keep it whatever the count.
    chosen = [market for market in markets if market != "FR"][: count - 1] + ["FR"]
    return sorted(chosen)


def bench_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PARTNERDESK_")}
    env.update(
        PARTNERDESK_DATA_DIR=str(data_dir),
        PARTNERDESK_SECRET_KEY="bench-secret-key-not-for-production",
    )
    return env


def measure_cli_import(workdir: Path, rows: int, markets: list[str]) -> tuple[float, str]:
    """Seconds for `partnerdesk catalog import` of a `rows`-row file, and the command's own report."""
    path = workdir / "pricelist-100k.csv"
    skus = rows // len(markets) + 1
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(price_list_lines(skus, markets, limit=rows))
    env = bench_env(workdir / "import-data")
    subprocess.run(
        [str(VENV_BIN / "partnerdesk"), "db", "upgrade"], env=env, check=True, capture_output=True
    )
    started = time.perf_counter()
    result = subprocess.run(
        [str(VENV_BIN / "partnerdesk"), "catalog", "import", str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, result.stdout.strip()


def build_catalog(data_dir: Path, skus: int, markets: list[str]) -> tuple[float, int, str, str]:
    """Imports SKUS x MARKETS prices; returns seconds, rows, and a sales agent's token and FR customer id."""
    from partnerdesk.accounts import service as accounts
    from partnerdesk.accounts.models import Role
    from partnerdesk.catalog import pricelist
    from partnerdesk.config import Settings
    from partnerdesk.core.desk import Desk
    from partnerdesk.customers import service as customers
    from partnerdesk.customers.schemas import CustomerIn
    from partnerdesk.migrations import runner

    settings = Settings(data_dir=data_dir, secret_key="bench-secret-key-not-for-production")
    data_dir.mkdir(parents=True, exist_ok=True)
    runner.upgrade(settings.resolved_database_url)
    desk = Desk.from_settings(settings)
    started = time.perf_counter()
    with desk.database.session() as db:
        report = pricelist.import_price_list(
            db, price_list_lines(skus, markets), now=desk.clock.now(), source="bench"
        )
    seconds = time.perf_counter() - started
    with desk.database.session() as db:
        now = desk.clock.now()
        agent = accounts.add_agent(
            db,
            email="bench@contoso.example",
            role=Role.sales_agent,
            now=now,
            partner_name="Contoso Reseller",
        )
        token = accounts.issue_token(db, agent, now=now)
        customer = customers.create_customer(
            db,
            principal=accounts.principal_of(agent),
            now=now,
            data=CustomerIn.model_validate(
                {
                    "companyProfile": {"domain": "bench-fr.onmicrosoft.com", "companyName": "Bench France"},
                    "billingProfile": {
                        "companyName": "Bench France",
                        "email": "it@bench.fr",
                        "culture": "fr-FR",
                        "language": "fr",
                        "defaultAddress": {"country": "FR"},
                    },
                }
            ),
        )
        customer_id = customer.id
    desk.database.dispose()
    return seconds, report.rows, token, customer_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    command = [
        str(VENV_BIN / "uvicorn"),
        "bench.bench_app:serve_bench_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command, env=bench_env(data_dir), cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("uvicorn did not start")


def wrk(
    url: str, *, seconds: int, connections: int, threads: int, token: str | None = None
) -> dict[str, float]:
    command = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for label, key in (("50%", "p50"), ("90%", "p90"), ("99%", "p99")):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
        figures[key] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["errors"] = float(errors.group(1)) if errors else 0.0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--markets", type=int, default=240)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15, help="Length of each wrk run.")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (concurrent clients).")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument(
        "--keep",
        type=Path,
        help="Build in this folder and keep it; a later run reuses the catalog built there.",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    sys.path.insert(0, str(ROOT / "src"))
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="partnerdesk-catalog-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    markets = markets_for_bench(args.markets)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite in {workdir}"
    )

    if args.import_rows:
        seconds, summary = measure_cli_import(workdir, args.import_rows, markets)
        print(
            f"import (CLI, {args.import_rows:,} rows, fresh SQLite): {seconds:.1f}s wall, "
            f"{args.import_rows / seconds:,.0f} rows/s  [{summary}]"
        )

    data_dir = workdir / "catalog-data"
    saved = workdir / "catalog-data.json"
    if args.keep and saved.exists():
        token, customer_id = json.loads(saved.read_text())
        print(f"catalog reused from {data_dir}")
    else:
        seconds, rows, token, customer_id = build_catalog(data_dir, args.skus, markets)
        saved.write_text(json.dumps([token, customer_id]))
        size = (data_dir / "partnerdesk.db").stat().st_size / 1e6
        print(
            f"catalog built: {args.skus:,} SKUs x {len(markets)} markets = {rows:,} prices in {seconds:.1f}s "
            f"({rows / seconds:,.0f} rows/s); database {size:,.0f} MB"
        )

    port = free_port()
    server = start_server(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    hot = f"{base}/v1/customers/{customer_id}/products?targetView=Software"
    try:
        check = subprocess.run(
            ["curl", "-s", "-H", f"Authorization: Bearer {token}", hot], capture_output=True, text=True
        ).stdout
        total = re.search(r'"totalCount":(\d+)', check)
        print(
            f"hot query answers totalCount={total.group(1) if total else '?'} (first page of 100 products)"
        )
        results = {}
        for name, url, auth in (
            ("/bench/constant", f"{base}/bench/constant", None),
            ("GET /v1/customers/{id}/products?targetView=Software", hot, token),
        ):
            wrk(url, seconds=2, connections=args.connections, threads=args.threads, token=auth)  # warm up
            results[name] = wrk(
                url, seconds=args.seconds, connections=args.connections, threads=args.threads, token=auth
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s, uvicorn with one worker:")
    print(f"{'endpoint':55} {'median ms':>10} {'p90 ms':>8} {'p99 ms':>8} {'req/s':>9} {'errors':>7}")
    for name, figures in results.items():
        print(
            f"{name:55} {figures['p50']:10.2f} {figures['p90']:8.2f} {figures['p99']:8.2f} "
            f"{figures['rps']:9.0f} {figures['errors']:7.0f}"
        )
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
