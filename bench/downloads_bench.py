"""Public download links under load: redemptions, throughput beside nginx, and the server's memory. Prints figures.

Three measures, each beside baselines taken in the same run on the same machine:

1. Redemptions: `wrk -c 32` on one link to a 1 MiB file. Each GET is one counted download (a
   conditional UPDATE and an activity-log INSERT in a write transaction, then the file streamed).
   Beside it, at the same concurrency and in every round: the app's `GET /bench/constant` (the HTTP
   stack's ceiling; target: redemptions at least half its rate), its `POST /bench/insert` (one ORM
   INSERT in a write transaction: the ceiling of any request that writes) and nginx sending the same
   stored 1 MiB file (the ceiling for moving those bytes on this machine). On SQLite and on PostgreSQL
   (a throwaway cluster, started as `bench/checkout_bench.py` starts one). The operator policy
   `download_link_max_downloads` is raised to 1,000,000 in the bench's database so the link never runs
   out (the default is 50); `counted` shows what the link lost.
2. Throughput: a 64 MiB and a 2 GiB file (real bytes, stored through the software service into the
   app's own store) fetched by `curl -o /dev/null` on loopback from Partner Desk and from nginx
   (Debian's, started by the bench on a free port, one worker, `sendfile on`, serving the very same
   stored file), one client, then four at once. Target: Partner Desk at least half of nginx's MB/s.
   Measured on the first engine only: a download touches the database once.
3. Memory: the RSS of the server's process tree, sampled from /proc every 50 ms while each load runs,
   against the RSS at idle. Target: flat and under 200 MB whatever the file's size (the 64 MiB and
   2 GiB rows show whether it is).

Each app server is uvicorn with one worker serving `bench/bench_app.py` (the app and its baselines) in a
fresh database and data dir under a temporary folder; nginx has one worker too. The load stays on
127.0.0.1. Servers, the PostgreSQL cluster and every temporary file (the 2 GiB one included) are
removed at the end, on Ctrl-C, SIGTERM or failure too. Needs `wrk`, `curl` and `nginx`
(apt-get install -y wrk nginx curl). Run from the repository root (about 5 minutes on 2 cores):

    .venv/bin/python bench/downloads_bench.py [--seconds 8] [--rounds 3] [--clients 32] [--threads 2]
        [--engines sqlite,postgresql] [--transfer-runs 3] [--big-mib 2048]

MB are 10^6 bytes (MB/s and RSS alike); MiB are 2^20.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The seeding runs this checkout's code, as the served app does (PYTHONPATH=ROOT/src), whatever checkout
# the virtual environment was installed from.
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench.checkout_bench import SECRET_KEY, Databases, free_port, wait_until_up  # noqa: E402
from tests.support import postgres  # noqa: E402

MIB = 1024 * 1024
MAX_DOWNLOADS = 1_000_000  # the policy's ceiling: the benchmark's link never runs out
# Windows Server 2022 Standard from the demo catalog, bought in France; one (version, language, file
# type) per file so that each keys-and-downloads answer holds exactly one link.
PRODUCT, SKU, MARKET = "DG7GMGF0DVT5", "0001", "FR"
SMALL, MEDIUM, BIG = ("2022", "en-US", "ISO x64"), ("2022", "fr-FR", "ISO x64"), ("2019", "en-US", "ISO x64")
MB = 1_000_000
RSS_TARGET_MB = 200
FLAT_WITHIN_MB = 10  # how far apart two downloads' peaks may be and still count as flat
# Debian installs nginx in /usr/sbin, which a non-root PATH often leaves out.
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


# --- the machine -----------------------------------------------------------------------------------

def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    nginx = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip().removeprefix("nginx version: ")
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()[1]
    return (f"{cpu}, {os.cpu_count()} cores, {memory_kib / 1024**2:.0f} GiB RAM, Linux {platform.release()}; "
            f"Python {platform.python_version()}, {nginx}, wrk {wrk}, curl {curl}; {load_average()}")


def load_average() -> str:
    """Other work on the machine weighs on every figure, baselines included: shown at the start and the end."""
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


# --- memory: the RSS of a process tree, sampled while a load runs ----------------------------------

def tree_rss_bytes(root_pid: int) -> int:
    """The resident memory of a process and all its descendants (0 once it is gone)."""
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(found.group(1)) * 1024 if found else 0
    return total


class RssSampler:
    """Samples a process tree's RSS every 50 ms in a thread; `peak()` gives the highest since `reset()`."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every = pid, every
        self.highest = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            self.highest = max(self.highest, tree_rss_bytes(self.pid))

    def __enter__(self) -> RssSampler:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join()

    def reset(self) -> None:
        self.highest = tree_rss_bytes(self.pid)

    def peak(self) -> int:
        return max(self.highest, tree_rss_bytes(self.pid))


def mb(size: float) -> float:
    return size / MB


# --- servers ---------------------------------------------------------------------------------------

def stop_process(process: subprocess.Popen, *, stop_signal: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Served:
    base: str
    pid: int


def app_env(database_url: str, data_dir: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PARTNERDESK_")}
    env.update(PYTHONPATH=str(ROOT / "src"), PARTNERDESK_DATABASE_URL=database_url,
               PARTNERDESK_DATA_DIR=str(data_dir), PARTNERDESK_SECRET_KEY=SECRET_KEY,
               PARTNERDESK_BASE_URL=f"http://127.0.0.1:{port}")
    return env


@contextmanager
def served_app(database_url: str, data_dir: Path, *, workers: int = 1) -> Iterator[Served]:
    """The app with the baselines, served by uvicorn on 127.0.0.1 (one worker process unless told otherwise;
    with several, `pid` is uvicorn's supervisor, whose process tree holds the workers)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.bench_app:serve_bench_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=app_env(database_url, data_dir, port), cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(server, f"{base}/bench/constant", "the working tree")
        yield Served(base, server.pid)
    finally:
        stop_process(server)


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
%(user)s
pid %(scratch)s/nginx.pid;
error_log %(scratch)s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    default_type application/octet-stream;
    client_body_temp_path %(scratch)s/client_body;
    proxy_temp_path %(scratch)s/proxy;
    fastcgi_temp_path %(scratch)s/fastcgi;
    uwsgi_temp_path %(scratch)s/uwsgi;
    scgi_temp_path %(scratch)s/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
    }
}
"""


@contextmanager
def served_nginx(root: Path, scratch: Path) -> Iterator[Served]:
    """nginx in the foreground serving the files under `root`, one worker, on a free port."""
    scratch.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # Run as root, nginx's worker would become `nobody`, who cannot enter the 0700 temporary folders.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = scratch / "nginx.conf"
    conf.write_text(NGINX_CONF % {"user": user, "scratch": scratch, "port": port, "root": root})
    error_log = scratch / "error.log"
    server = subprocess.Popen([NGINX, "-p", str(scratch), "-c", str(conf), "-e", str(error_log)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while server.poll() is None and time.monotonic() < deadline:
            try:
                httpx.head(base)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        if server.poll() is not None:
            raise RuntimeError(f"nginx did not start: {error_log.read_text() if error_log.exists() else ''}")
        yield Served(base, server.pid)
    finally:
        stop_process(server, stop_signal=signal.SIGQUIT)  # graceful: the workers finish and exit


@contextmanager
def postgres_server() -> Iterator[postgres.PostgresServer | None]:
    server = postgres.start()
    try:
        yield server
    finally:
        if server is not None:
            try:
                server.stop()
            except subprocess.CalledProcessError:  # already down (a signal reached it): its files still go
                if server.data_dir is not None:
                    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


# --- seeding: a software purchase, its keys and files, and links to them ---------------------------

def random_keys(count: int) -> list[str]:
    alphabet = string.ascii_uppercase + string.digits
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(5)) for _ in range(count)]


def patterned_chunks(size: int) -> Iterator[bytes]:
    """`size` real bytes (a random 1 MiB block over and over): nothing sparse, nothing to compress away."""
    block = os.urandom(MIB)
    for start in range(0, size, MIB):
        yield block[:min(MIB, size - start)]


@dataclass(frozen=True)
class Seeded:
    sales_token: str
    admin_token: str
    customer_id: str
    catalog_item_id: str


def app_settings(database_url: str, data_dir: Path):
    from partnerdesk.config import Settings

    return Settings(data_dir=data_dir, database_url=database_url, secret_key=SECRET_KEY)


def seed(database_url: str, data_dir: Path) -> Seeded:
    """Migrates; adds the demo catalog, a partner's sales and admin agents, a French customer, a key
    pool, and raises the link's download limit so the bench never uses it up."""
    from sqlalchemy import select

    from partnerdesk.accounts import service as accounts
    from partnerdesk.accounts.models import Role
    from partnerdesk.catalog import demo as demo_catalog
    from partnerdesk.catalog.models import Availability
    from partnerdesk.core.desk import Desk
    from partnerdesk.customers import service as customers
    from partnerdesk.customers.schemas import CustomerIn
    from partnerdesk.migrations import runner
    from partnerdesk.policies import service as policies
    from partnerdesk.software import service as software

    runner.upgrade(database_url)
    desk = Desk.from_settings(app_settings(database_url, data_dir))
    try:
        now = desk.clock.now()
        with desk.database.session() as db:
            demo_catalog.load(db, now, lambda _line: None)
            policies.set_policy(db, key="download_link_max_downloads", value=MAX_DOWNLOADS, principal=None, now=now)
            software.import_keys(db, desk.keyring, product_id=PRODUCT, sku_id=SKU, version="", lines=random_keys(5),
                                 principal=None, now=now)
            tokens = {}
            for role in (Role.sales_agent, Role.admin_agent):
                agent = accounts.add_agent(db, email=f"{role.value}@bench.example", role=role, now=now,
                                           partner_name="Contoso Reseller")
                tokens[role] = accounts.issue_token(db, agent, now=now)
            customer = customers.create_customer(db, principal=accounts.principal_of(agent), now=now,
                                                 data=CustomerIn.model_validate(BENCH_CUSTOMER))
            availability = db.scalar(select(Availability.id).where(
                Availability.product_id == PRODUCT, Availability.sku_id == SKU, Availability.country == MARKET))
        return Seeded(tokens[Role.sales_agent], tokens[Role.admin_agent], customer.id,
                      f"{PRODUCT}:{SKU}:{availability}")
    finally:
        desk.database.dispose()


BENCH_CUSTOMER = {
    "companyProfile": {"domain": "downloads-bench.example.com", "companyName": "Bench SARL"},
    "billingProfile": {"companyName": "Bench SARL", "email": "it@bench.example", "culture": "fr-FR",
                       "language": "fr", "defaultAddress": {"country": MARKET}},
}


def store_file(database_url: str, data_dir: Path, choice: tuple[str, str, str], size: int) -> Path:
    """Stores a `size`-byte installation file for `choice` through the software service; returns its path."""
    from partnerdesk.core.desk import Desk
    from partnerdesk.software import service as software
    from partnerdesk.software.storage import open_storage

    version, language, file_type = choice
    desk = Desk.from_settings(app_settings(database_url, data_dir))
    try:
        new = software.NewFile(product_id=PRODUCT, sku_id=SKU, version=version, language=language,
                               file_type=file_type, file_name=f"bench-{version}-{language}-{size}.iso")
        row = software.add_file(desk.database, open_storage(desk.settings), new, patterned_chunks(size),
                                actor="bench", principal=None, now=desk.clock.now())
        return desk.settings.resolved_files_dir / row.storage_key
    finally:
        desk.database.dispose()


class Purchase:
    """The customer's software purchase, bought through the API, and fresh links to its files."""

    def __init__(self, base: str, seeded: Seeded) -> None:
        self.seeded = seeded
        customer = f"{base}/v1/customers/{seeded.customer_id}"
        sales = {"Authorization": f"Bearer {seeded.sales_token}"}
        cart = httpx.post(f"{customer}/carts", headers=sales, json={"lineItems": [
            {"id": 0, "catalogItemId": seeded.catalog_item_id, "quantity": 1, "billingCycle": "one_time"}]})
        checkout = httpx.post(f"{customer}/carts/{checked(cart, 201)['id']}/checkout", headers=sales)
        checked(checkout, 201)
        software = httpx.get(f"{customer}/software", headers=self.admin_headers)
        self.software_url = f"{customer}/software/{checked(software, 200)['items'][0]['id']}"

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.seeded.admin_token}"}

    def link(self, choice: tuple[str, str, str]) -> str:
        """A fresh download link's path for the purchase's file of `choice`."""
        version, language, file_type = choice
        answer = httpx.post(f"{self.software_url}/keysanddownloads", headers=self.admin_headers,
                            json={"version": version, "language": language, "fileType": file_type})
        downloads = checked(answer, 200)["downloads"]
        if len(downloads) != 1:
            raise RuntimeError(f"expected one link for {choice}, got {downloads}")
        return urlsplit(downloads[0]["uri"]).path


def checked(response: httpx.Response, status: int) -> dict:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url} answered {response.status_code}: "
                           f"{response.text[:500]}")
    return response.json()


def downloads_remaining(url: str) -> int:
    """What the link has left (a HEAD does not count a download)."""
    answer = httpx.head(url)
    if answer.status_code != 200:
        raise RuntimeError(f"HEAD {url} answered {answer.status_code}")
    return int(answer.headers["x-downloads-remaining"])


# --- load: wrk for request rates, curl for throughput ----------------------------------------------

def milliseconds(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, *, seconds: int, clients: int, threads: int, script: Path | None = None) -> dict[str, float]:
    """One wrk run: requests/s, p50 and p99 in ms, errors (non-2xx and socket errors), requests done."""
    command = ["wrk", f"-t{min(threads, clients)}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    finished = subprocess.run([*command, url], capture_output=True, text=True)
    output = finished.stdout
    if finished.returncode != 0 or "Requests/sec" not in output:
        raise RuntimeError(f"wrk failed: {finished.stderr or output}")
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
               "requests": int(re.search(r"(\d+) requests in", output).group(1))}
    for percentile in ("50", "99"):
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        figures[f"p{percentile}"] = milliseconds(*found.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    figures["errors"] = (int(non_2xx.group(1)) if non_2xx else 0) + \
        (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return figures


@dataclass(frozen=True)
class Fetch:
    bytes: int
    seconds: float


def start_curl(url: str) -> subprocess.Popen:
    return subprocess.Popen(["curl", "-s", "-S", "-f", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                             url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fetch_all(url: str, clients: int, expected: int) -> Fetch:
    """`clients` curls downloading `url` at once: the bytes they got and the wall time from start to last byte."""
    started = time.perf_counter()
    running = [start_curl(url) for _ in range(clients)]
    got = 0
    try:
        for curl in running:
            out, err = curl.communicate()
            status, size = out.split() if out.strip() else ("000", "0")
            if curl.returncode != 0 or status not in ("200", "206") or int(size) != expected:
                raise RuntimeError(f"curl {url}: status {status}, {size} of {expected} bytes: {err.strip()}")
            got += int(size)
    finally:
        for curl in running:
            stop_process(curl)
    return Fetch(got, time.perf_counter() - started)


# --- measure 1: redemptions beside the constant endpoint ------------------------------------------

@dataclass(frozen=True)
class RedemptionTargets:
    """What each round loads: the link, and the baselines of the same run."""

    link: str            # the 1 MiB file's download link on Partner Desk
    constant: str        # GET /bench/constant: the app's HTTP ceiling
    insert: str          # POST /bench/insert: the app's ceiling for a request that writes
    insert_script: Path  # the Lua line making wrk POST
    nginx_file: str      # the same stored 1 MiB file from nginx: the ceiling for moving its bytes


@dataclass
class EngineResult:
    name: str
    rows: list[dict[str, float]] = field(default_factory=list)
    idle_rss: int = 0
    peak_rss: int = 0


def redemption_round(targets: RedemptionTargets, sampler: RssSampler, **load: int) -> dict[str, float]:
    constant = wrk(targets.constant, **load)
    insert = wrk(targets.insert, script=targets.insert_script, **load)
    nginx = wrk(targets.nginx_file, **load)
    before = downloads_remaining(targets.link)
    sampler.reset()
    redeem = wrk(targets.link, **load)
    peak = sampler.peak()
    return {"constant": constant["rps"], "constant_p99": constant["p99"], "insert": insert["rps"],
            "nginx": nginx["rps"], "rps": redeem["rps"], "p50": redeem["p50"], "p99": redeem["p99"],
            "errors": redeem["errors"], "baseline_errors": constant["errors"] + insert["errors"] + nginx["errors"],
            "counted": before - downloads_remaining(targets.link), "mbps": mb(redeem["rps"] * MIB),
            "per_constant": redeem["rps"] / constant["rps"], "per_insert": redeem["rps"] / insert["rps"],
            "per_nginx": redeem["rps"] / nginx["rps"], "peak_rss": mb(peak)}


def measure_redemptions(name: str, desk: Served, targets: RedemptionTargets, *, rounds: int, seconds: int,
                        clients: int, threads: int) -> EngineResult:
    result = EngineResult(name)
    load = {"seconds": seconds, "clients": clients, "threads": threads}
    with RssSampler(desk.pid) as sampler:
        result.idle_rss = tree_rss_bytes(desk.pid)
        wrk(targets.constant, seconds=2, clients=clients, threads=threads)  # warm-up
        wrk(targets.link, seconds=2, clients=clients, threads=threads)
        for number in range(1, rounds + 1):
            progress(f"{name}: redemptions and baselines, round {number} of {rounds}")
            result.rows.append(redemption_round(targets, sampler, **load))
    result.peak_rss = round(max(row["peak_rss"] for row in result.rows) * MB)
    return result


# --- measures 2 and 3: throughput beside nginx, and memory -----------------------------------------

@dataclass
class TransferRow:
    label: str
    clients: int
    size: int
    desk: list[float] = field(default_factory=list)   # MB/s per run
    nginx: list[float] = field(default_factory=list)
    desk_rss: int = 0    # peak, bytes
    nginx_rss: int = 0


def transfer(row: TransferRow, desk_url: str, nginx_url: str, desk: Served, nginx: Served, *, runs: int) -> None:
    """`runs` runs on each server, alternating which goes first, with each server's peak RSS."""
    servers = [("desk", desk_url, desk), ("nginx", nginx_url, nginx)]
    with RssSampler(desk.pid) as desk_sampler, RssSampler(nginx.pid) as nginx_sampler:
        for number in range(runs):
            for name, url, _server in servers if number % 2 == 0 else servers[::-1]:
                fetched = fetch_all(url, row.clients, row.size)
                getattr(row, name).append(mb(fetched.bytes / fetched.seconds))
        row.desk_rss, row.nginx_rss = desk_sampler.peak(), nginx_sampler.peak()


@dataclass
class TransferResult:
    engine: str
    rows: list[TransferRow]
    desk_idle_rss: int
    nginx_idle_rss: int


def measure_transfers(name: str, database_url: str, data_dir: Path, desk: Served, nginx: Served,
                      purchase: Purchase, *, big: int, runs: int) -> TransferResult:
    progress(f"{name}: storing the {size_label(MEDIUM_SIZE)} and {size_label(big)} files")
    files_dir = app_settings(database_url, data_dir).resolved_files_dir
    medium_path = store_file(database_url, data_dir, MEDIUM, MEDIUM_SIZE)
    big_path = store_file(database_url, data_dir, BIG, big)
    medium_link, big_link = desk.base + purchase.link(MEDIUM), desk.base + purchase.link(BIG)
    medium_nginx = f"{nginx.base}/{medium_path.relative_to(files_dir)}"
    big_nginx = f"{nginx.base}/{big_path.relative_to(files_dir)}"
    result = TransferResult(name, [TransferRow(size_label(MEDIUM_SIZE), 1, MEDIUM_SIZE),
                                   TransferRow(size_label(big), 1, big), TransferRow(size_label(big), 4, big)],
                            desk_idle_rss=tree_rss_bytes(desk.pid), nginx_idle_rss=tree_rss_bytes(nginx.pid))
    urls = [(medium_link, medium_nginx), (big_link, big_nginx), (big_link, big_nginx)]
    fetch_all(big_link, 1, big)  # warm-up
    for row, (desk_url, nginx_url) in zip(result.rows, urls, strict=True):
        progress(f"{name}: {row.label} x{row.clients}, {runs} runs on each server")
        transfer(row, desk_url, nginx_url, desk, nginx, runs=runs)
    return result


MEDIUM_SIZE = 64 * MIB


def size_label(size: int) -> str:
    return f"{size / 1024**3:g} GiB" if size >= 1024**3 else f"{size / MIB:g} MiB"


# --- running it all --------------------------------------------------------------------------------

def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


INSERT_LUA = 'wrk.method = "POST"\n'


def run_engine(databases: Databases, *, transfers: bool, options: argparse.Namespace,
               scratch: Path) -> tuple[EngineResult, TransferResult | None]:
    """Everything measured on one engine, in a fresh database, with nginx serving the app's own store."""
    with databases.fresh("partnerdesk_downloads_bench") as (database_url, data_dir):
        progress(f"{databases.name}: seeding")
        seeded = seed(database_url, data_dir)
        small_path = store_file(database_url, data_dir, SMALL, MIB)
        files_dir = app_settings(database_url, data_dir).resolved_files_dir
        insert_script = scratch / "insert.lua"
        insert_script.write_text(INSERT_LUA)
        with served_app(database_url, data_dir) as desk, served_nginx(files_dir, scratch / "nginx") as nginx:
            purchase = Purchase(desk.base, seeded)
            targets = RedemptionTargets(
                link=desk.base + purchase.link(SMALL), constant=f"{desk.base}/bench/constant",
                insert=f"{desk.base}/bench/insert", insert_script=insert_script,
                nginx_file=f"{nginx.base}/{small_path.relative_to(files_dir)}")
            redemptions = measure_redemptions(databases.name, desk, targets, rounds=options.rounds,
                                              seconds=options.seconds, clients=options.clients,
                                              threads=options.threads)
            moved = None
            if transfers:
                moved = measure_transfers(databases.name, database_url, data_dir, desk, nginx, purchase,
                                          big=options.big_mib * MIB, runs=options.transfer_runs)
    return redemptions, moved


def run(options: argparse.Namespace, scratch: Path) -> None:
    engines = options.engines.split(",")
    print(f"Machine: {machine()}", flush=True)
    results: list[EngineResult] = []
    transfer_result: TransferResult | None = None
    with ExitStack() as stack:
        for engine in engines:
            if engine == "sqlite":
                databases = Databases("SQLite", scratch)
            else:
                server = stack.enter_context(postgres_server())
                if server is None:
                    print("PostgreSQL: skipped (no server binaries found)")
                    continue
                databases = Databases("PostgreSQL", scratch, server)
            redemptions, moved = run_engine(databases, transfers=transfer_result is None, options=options,
                                            scratch=scratch)
            results.append(redemptions)
            transfer_result = transfer_result or moved
    print_redemptions(results, options)
    if transfer_result is not None:
        print_transfers(transfer_result)
        print_memory(results, transfer_result)
    print(f"\nAt the end: {load_average()}")


# --- tables ----------------------------------------------------------------------------------------

def print_table(lines: list[list[str]]) -> None:
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    lines.insert(1, ["-" * width for width in widths])
    for line in lines:
        print("| " + " | ".join(cell.ljust(width) if column == 0 else cell.rjust(width)
                                for column, (cell, width) in enumerate(zip(line, widths, strict=True))) + " |")


REDEMPTION_COLUMNS = (
    ("constant req/s", "constant", "{:.0f}"), ("constant p99 ms", "constant_p99", "{:.1f}"),
    ("insert req/s", "insert", "{:.0f}"), ("nginx 1 MiB req/s", "nginx", "{:.0f}"),
    ("redemptions/s", "rps", "{:.0f}"), ("p50 ms", "p50", "{:.1f}"), ("p99 ms", "p99", "{:.1f}"),
    ("MB/s", "mbps", "{:.0f}"), ("errors", "errors", "{:.0f}"), ("baseline errors", "baseline_errors", "{:.0f}"),
    ("counted", "counted", "{:.0f}"), ("/ constant", "per_constant", "{:.3f}"),
    ("/ insert", "per_insert", "{:.3f}"), ("/ nginx", "per_nginx", "{:.3f}"), ("peak RSS MB", "peak_rss", "{:.0f}"),
)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def print_redemptions(results: list[EngineResult], options: argparse.Namespace) -> None:
    print(f"\n1. Link redemptions of a 1 MiB file, one link (limit raised to {MAX_DOWNLOADS:,}): "
          f"wrk -t{options.threads} -c{options.clients}, {options.rounds} rounds of {options.seconds}s per workload "
          "after 2s warm-ups; uvicorn 1 worker, nginx 1 worker. Baselines in each round: the app's GET "
          "/bench/constant and POST /bench/insert (one ORM INSERT in a write transaction), and nginx sending the "
          "same stored file. `counted`: downloads the link lost (wrk reports only finished requests); errors: "
          "non-2xx and socket errors; medians per column, errors and counts summed.\n")
    lines = [["engine, round", *(heading for heading, _key, _format in REDEMPTION_COLUMNS)]]
    for result in results:
        lines += [[f"{result.name} {number}", *redemption_cells(row)] for number, row in enumerate(result.rows, 1)]
    for result in results:
        lines.append([f"{result.name} median", *redemption_cells(median_row(result.rows))])
    print_table(lines)
    print()
    for result in results:
        ratio = median_row(result.rows)["per_constant"]
        print(f"{result.name}: redemptions / constant = {ratio:.3f} (target >= 0.50: {verdict(ratio >= 0.5)})")


def median_row(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: sum(row[key] for row in rows) if key in ("errors", "baseline_errors", "counted") else
            statistics.median(row[key] for row in rows) for key in rows[0]}


def redemption_cells(row: dict[str, float]) -> list[str]:
    return [template.format(row[key]) for _heading, key, template in REDEMPTION_COLUMNS]


def print_transfers(result: TransferResult) -> None:
    runs = len(result.rows[0].desk)
    print(f"\n2. Throughput on loopback, curl -o /dev/null, {runs} runs per server alternating which goes first "
          f"({result.engine}; the same stored file for both servers, in the page cache). MB/s = 10^6 bytes/s; "
          "with 4 clients, all bytes over the wall time from the first start to the last byte.\n")
    lines = [["file x clients", *(f"desk run {n}" for n in range(1, runs + 1)), "desk median MB/s",
              *(f"nginx run {n}" for n in range(1, runs + 1)), "nginx median MB/s", "desk / nginx", "target >= 0.50"]]
    for row in result.rows:
        desk, nginx = statistics.median(row.desk), statistics.median(row.nginx)
        lines.append([f"{row.label} x{row.clients}", *(f"{value:.0f}" for value in row.desk), f"{desk:.0f}",
                      *(f"{value:.0f}" for value in row.nginx), f"{nginx:.0f}", f"{desk / nginx:.3f}",
                      verdict(desk / nginx >= 0.5)])
    print_table(lines)


def print_memory(results: list[EngineResult], transfers: TransferResult) -> None:
    print(f"\n3. Server memory: RSS of the server's process tree (MB), sampled every 50 ms during each load; "
          f"target: under {RSS_TARGET_MB} MB and flat whatever the file's size. Idle: just before that load "
          "(the transfers start after the redemptions).\n")
    lines = [["server, load", "idle RSS MB", "peak RSS MB", "peak - idle MB", f"< {RSS_TARGET_MB} MB"]]
    for result in results:
        lines.append(memory_line(f"Partner Desk ({result.name}), 1 MiB redemptions x32", result.idle_rss,
                                 result.peak_rss))
    for row in transfers.rows:
        label = f"{row.label} download x{row.clients}"
        lines.append(memory_line(f"Partner Desk ({transfers.engine}), {label}", transfers.desk_idle_rss,
                                 row.desk_rss))
        lines.append(memory_line(f"nginx, {label}", transfers.nginx_idle_rss, row.nginx_rss))
    print_table(lines)
    medium, big = transfers.rows[0].desk_rss, transfers.rows[1].desk_rss
    print(f"\nPartner Desk's peak, {transfers.rows[1].label} minus {transfers.rows[0].label} (one client): "
          f"{mb(big - medium):+.1f} MB (flat: {verdict(abs(big - medium) <= FLAT_WITHIN_MB * MB)}, "
          f"within {FLAT_WITHIN_MB} MB)")


def memory_line(label: str, idle: int, peak: int) -> list[str]:
    return [label, f"{mb(idle):.0f}", f"{mb(peak):.0f}", f"{round(mb(peak - idle)):+d}",
            verdict(peak < RSS_TARGET_MB * MB)]


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the servers and temporary files are cleaned up either way."""
    def interrupt(_signum, _frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="Length of each wrk run.")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds per engine (median reported).")
    parser.add_argument("--clients", type=int, default=32, help="Concurrent connections for the redemptions.")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--engines", default="sqlite,postgresql",
                        help="Comma-separated; the throughput and memory measures run on the first.")
    parser.add_argument("--transfer-runs", type=int, default=3, help="curl runs per file and server.")
    parser.add_argument("--big-mib", type=int, default=2048, help="Size of the big file, in MiB.")
    options = parser.parse_args()
    missing = [tool for tool, path in (("wrk", shutil.which("wrk")), ("curl", shutil.which("curl")),
                                       ("nginx", NGINX)) if path is None]
    if missing:
        sys.exit(f"needed: {', '.join(missing)} (apt-get install -y wrk nginx curl)")
    stop_on_sigterm()
    try:
        with tempfile.TemporaryDirectory(prefix="partnerdesk-downloads-bench-") as scratch:
            run(options, Path(scratch))
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, temporary files removed")


if __name__ == "__main__":
    main()
