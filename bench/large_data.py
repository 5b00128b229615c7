"""Large data: 1,000,000 customers and 10,000,000 orders on PostgreSQL, and the list endpoints measured on them.

    .venv/bin/python bench/large_data.py run [--customers 1000000] [--orders 10000000] [--seconds 10] [--clients 16]
    .venv/bin/python bench/large_data.py generate --database-url URL --data-dir DIR [--customers N] [--orders N]
    .venv/bin/python bench/large_data.py measure --database-url URL --data-dir DIR [--seconds 10] [--clients 16]
    .venv/bin/python bench/large_data.py explain --database-url URL --data-dir DIR

`run` starts a throwaway PostgreSQL cluster (Debian's binaries, in the temp dir, fsync off), generates the
data set in it, measures, prints the figures and removes the cluster. `generate` and `measure` work on a
database you give (`partnerdesk migrate` is run first; the database should be empty); `generate` writes
what `measure` needs (tokens, ids) to DIR/large_data.json.

What is generated (`--customers`/`--orders` make smaller sets for a quick check):

- the schema by the app's migrations, the demo catalog, the partner "Contoso Reseller" with one agent of
  each role and its API token, and a template customer with two real purchases made by the checkout service
  (a one-time software licence and an annual software subscription);
- `--partners` partners (2,000); customers spread over them as real resellers are, a few with very many
  (the largest, Contoso, gets ~8% of them, the smallest ~170 at a million), with names from ten company
  names and a number;
- orders in time order over two years, one line each, copying the template purchases' rows column by column
  (so every row is one the app wrote itself, with new ids, customers and dates): one customer, "Ten Thousand
  Orders", has one order in a thousand (10,000 at 10M), the rest ~10 per customer; each order's subscription
  and entitlement (entitlements for Contoso's customers, the slice the entitlements list is measured on);
- one service request in fifty orders, across the partners; Contoso's invoices of 24 months and their lines
  (one per order line of its customers).

Rows are written by PostgreSQL itself (`INSERT ... SELECT ... FROM generate_series`), in chunks of
`CHUNK` rows, each its own transaction, with a Rich progress bar; then `VACUUM ANALYZE` (visibility maps
for index-only counts, statistics for the planner). Measured on this 2-core box: see docs/operations.md.

`measure` serves the app (`bench/bench_app.py`, uvicorn, one worker) and drives each list endpoint with
`wrk` at `--clients` connections for `--seconds`: the first page, a deep page (a `links.next` token
taken 200 pages in, so the request is the one a client paging through makes), and a filtered list;
beside the app's constant endpoint in the same run. `explain` prints `EXPLAIN (ANALYZE, BUFFERS)` of each
list's page query, as the app sends it (`--without-indexes` first drops the large-data indexes of
migration 0017, to show the plans before them, then puts them back).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import downloads_bench as kit  # noqa: E402  (servers, wrk, the machine)

CHUNK = 250_000
PARTNERS = 2_000
BIG_CUSTOMER_EVERY = 1_000  # one order in a thousand is the big customer's
MONTHS = 24
START = datetime(2024, 12, 1, tzinfo=UTC)
SOFTWARE = ("DG7GMGF0DVT5", "0001")  # Windows Server 2022 Standard, one-time (the demo catalog)
MARKET = "FR"
COMPANY_NAMES = ("Contoso", "Fabrikam", "Northwind", "Adatum", "Litware", "Tailspin", "Wingtip", "Woodgrove",
                 "Proseware", "Relecloud")
COMPANY_FORMS = ("SARL", "GmbH", "Ltd", "Inc", "SA", "BV")
ROLES = ("operator", "admin_agent", "sales_agent", "helpdesk_agent", "billing_admin")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Manifest:
    """What `measure` needs from `generate`."""

    customers: int
    orders: int
    partners: int
    contoso_id: str
    big_customer_id: str
    tokens: dict[str, str]
    invoice_id: str
    generated_seconds: float
    sizes: dict[str, str]

    def save(self, data_dir: Path) -> None:
        (data_dir / "large_data.json").write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, data_dir: Path) -> Manifest:
        return cls(**json.loads((data_dir / "large_data.json").read_text()))


def _coprime(multiplier: int, modulus: int) -> int:
    """A multiplier that walks all of 0..modulus-1 (so `n * m % modulus` spreads orders evenly)."""
    while math.gcd(multiplier, modulus) != 1:
        multiplier += 2
    return multiplier


# --- the start: schema, catalog, Contoso's agents and a template customer's real purchases --------------

@dataclass(frozen=True)
class Bootstrap:
    contoso_id: str
    template_customer_id: str
    tokens: dict[str, str]


def bootstrap(database_url: str, data_dir: Path) -> Bootstrap:
    """Everything the app makes itself: the rows the bulk phase copies come from here."""
    from sqlalchemy import select

    from partnerdesk.accounts import service as accounts
    from partnerdesk.accounts.models import Role
    from partnerdesk.catalog import demo as demo_catalog
    from partnerdesk.catalog.models import Availability
    from partnerdesk.core.desk import Desk
    from partnerdesk.customers import service as customers
    from partnerdesk.customers.schemas import CustomerIn
    from partnerdesk.migrations import runner
    from partnerdesk.orders import flows
    from partnerdesk.orders import service as orders
    from partnerdesk.orders.service import CartLine
    from partnerdesk.support import service as support

    runner.upgrade(database_url)
    desk = Desk.from_settings(kit.app_settings(database_url, data_dir))
    try:
        now = desk.clock.now()
        with desk.database.session() as db:
            demo_catalog.load(db, now, lambda _line: None)
            tokens, agents = {}, {}
            for role in ROLES:
                agent = accounts.add_agent(db, email=f"{role}@large.example", role=Role(role), now=now,
                                           partner_name=None if role == "operator" else "Contoso Reseller")
                agents[role] = agent
                tokens[role] = accounts.issue_token(db, agent, now=now)
            sales = accounts.principal_of(agents["sales_agent"])
            customer = customers.create_customer(db, principal=sales, now=now, data=CustomerIn.model_validate({
                "companyProfile": {"domain": "template.large.example", "companyName": "Template SAS"},
                "billingProfile": {"companyName": "Template SAS", "email": "it@template.large.example",
                                   "culture": "fr-FR", "language": "fr",
                                   "defaultAddress": {"country": MARKET, "city": "Lyon",
                                                      "addressLine1": "1 rue de la République",
                                                      "postalCode": "69001"}}}))
            one_time = db.scalar(select(Availability).where(
                Availability.product_id == SOFTWARE[0], Availability.sku_id == SOFTWARE[1],
                Availability.country == MARKET))
            annual = db.scalar(select(Availability).where(Availability.country == MARKET,
                                                          Availability.billing_plan == "annual")
                               .order_by(Availability.product_id, Availability.sku_id, Availability.id).limit(1))
            for availability in (one_time, annual):
                line = CartLine(id=0, catalog_item_id=f"{availability.product_id}:{availability.sku_id}:"
                                f"{availability.id}", quantity=1, billing_cycle=availability.billing_plan,
                                term_duration=availability.term_duration, friendly_name=None,
                                provisioning_context={})
                cart = orders.create_cart(db, principal=sales, customer_id=customer.id, lines=[line], now=now)
                flows.checkout(db, principal=sales, customer_id=customer.id, cart_id=cart.cart.id, now=now)
            helpdesk = accounts.principal_of(agents["helpdesk_agent"])
            support.file_request(db, principal=helpdesk, now=now, new=support.NewServiceRequest(
                agent_locale="en-US", title="Activation fails", description="The key is refused on activation.",
                severity="minimal", support_topic_id=support.SUPPORT_TOPICS[-1].id, customer_id=customer.id,
                contact=support.Contact(first_name="Ada", last_name="Martin", email="ada@template.large.example",
                                        phone_number="+33 4 72 00 00 00")))
            return Bootstrap(agents["admin_agent"].partner_id, customer.id, tokens)
    finally:
        desk.database.dispose()


# --- the bulk: rows copied from the template's, by PostgreSQL, in chunks ----------------------------------

@dataclass(frozen=True)
class Shape:
    """Who owns what, as SQL expressions of an order's number `n` (1..orders) and a customer's `c` (1..customers).

    Customer 1 is "Ten Thousand Orders" (one order in `BIG_CUSTOMER_EVERY`); the others share the rest evenly
    through a multiplicative walk. A customer's partner follows a cube law (partner 0, Contoso, is the
    largest), over a second walk so each partner's customers are spread in time as they would be.
    """

    customers: int
    orders: int
    partners: int
    contoso_id: str

    @property
    def span_seconds(self) -> float:
        return (START.replace(year=START.year + MONTHS // 12) - START).total_seconds()

    def customer_of_order(self, n: str = "n") -> str:
        walk = _coprime(7919, self.customers - 1)
        return (f"(CASE WHEN {n} % {BIG_CUSTOMER_EVERY} = 0 THEN 1 "
                f"ELSE 2 + ({n}::bigint * {walk}) % {self.customers - 1} END)")

    def partner_of_customer(self, c: str = "c") -> str:
        walk = _coprime(104729, self.customers)
        return (f"(CASE WHEN {c} = 1 THEN 0 ELSE least({self.partners - 1}, floor({self.partners} * "
                f"power((({c}::bigint * {walk}) % {self.customers})::float8 / {self.customers}, 3)))::int END)")

    @staticmethod
    def customer_id(c: str = "c") -> str:
        return f"md5('c' || {c})::uuid::text"

    def partner_id(self, p: str = "p") -> str:
        return f"(CASE WHEN {p} = 0 THEN '{self.contoso_id}' ELSE md5('p' || {p})::uuid::text END)"

    def order_time(self, n: str = "n") -> str:
        step = self.span_seconds / self.orders
        return f"(timestamp '{START:%Y-%m-%d %H:%M:%S}' + make_interval(secs => {n} * {step!r}))"

    def customer_time(self, c: str = "c") -> str:
        step = 365 * 86400 / self.customers
        return f"(timestamp '{START:%Y-%m-%d %H:%M:%S}' - interval '1 year' + make_interval(secs => {c} * {step!r}))"

    def orders_from(self) -> str:
        """The FROM of every per-order copy: the order number, its customer and partner, its template row."""
        return (f"generate_series(%(low)s::bigint, %(high)s::bigint) AS g(n) "
                f"CROSS JOIN LATERAL (SELECT {self.customer_of_order()} AS c) AS cu "
                f"CROSS JOIN LATERAL (SELECT {self.partner_of_customer()} AS p) AS pa ")


def _columns(connection, table: str) -> list[str]:
    rows = connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        (table,)).fetchall()
    return [row[0] for row in rows]


def copy_statement(connection, table: str, template: str, overrides: dict[str, str], source: str,
                   where: str = "") -> str:
    """INSERT INTO table SELECT ... with each column from `overrides` or else the template row's own.

    Order `n` copies template purchase `(n + n / BIG_CUSTOMER_EVERY) % templates`: the kinds alternate for
    every customer, the big one (whose orders are multiples of BIG_CUSTOMER_EVERY) too."""
    columns = _columns(connection, table)
    values = [overrides.get(column, f"t.{column}") for column in columns]
    statement = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source} "
                 f"JOIN {template} AS t ON t.k = (n + n / {BIG_CUSTOMER_EVERY}) % (SELECT count(*) FROM {template}) "
                 f"{where}")
    # SQL's modulo is psycopg's placeholder sign: doubled, but for the two placeholders of the chunk.
    return statement.replace("%", "%%").replace("%%(low)s", "%(low)s").replace("%%(high)s", "%(high)s")


def make_templates(connection, template_customer_id: str) -> None:
    """tpl_* tables: the template customer's rows, numbered k = 0, 1, ... by order (the same k across tables)."""
    connection.execute("""
        CREATE TEMP TABLE tpl_orders AS
            SELECT o.*, (row_number() OVER (ORDER BY o.billing_cycle) - 1)::int AS k
            FROM orders o WHERE o.customer_id = %(c)s""", {"c": template_customer_id})
    for table, key in (("order_line_items", "order_id"), ("subscriptions", "order_id"), ("entitlements", "order_id"),
                       ("invoice_line_items", "order_id")):
        connection.execute(f"CREATE TEMP TABLE tpl_{table} AS SELECT x.*, o.k FROM {table} x "
                           f"JOIN tpl_orders o ON o.id = x.{key}")
    connection.execute("CREATE TEMP TABLE tpl_customers AS SELECT *, 0 AS k FROM customers WHERE id = %(c)s",
                       {"c": template_customer_id})
    connection.execute("CREATE TEMP TABLE tpl_partners AS SELECT *, 0 AS k FROM partners WHERE id = "
                       "(SELECT partner_id FROM customers WHERE id = %(c)s)", {"c": template_customer_id})
    connection.execute("CREATE TEMP TABLE tpl_invoices AS SELECT *, 0 AS k FROM invoices WHERE id = "
                       "(SELECT invoice_id FROM tpl_invoice_line_items LIMIT 1)")
    connection.execute("CREATE TEMP TABLE tpl_service_requests AS SELECT *, 0 AS k FROM service_requests "
                       "WHERE customer_id = %(c)s", {"c": template_customer_id})


@dataclass(frozen=True)
class Step:
    label: str
    rows: int                   # how many numbers the step walks (1..rows)
    statement: str              # with %(low)s and %(high)s


def steps(connection, shape: Shape) -> list[Step]:
    order_time = shape.order_time()
    customer = shape.customer_id()
    partner = shape.partner_id()
    order_id, subscription_id = "md5('o' || n)::uuid::text", "md5('s' || n)::uuid::text"
    year_later = f"CASE WHEN t.{{0}} IS NULL THEN NULL ELSE {order_time} + interval '1 year' END"
    company = (f"(ARRAY{list(COMPANY_NAMES)})[1 + c % {len(COMPANY_NAMES)}] || ' ' || "
               f"(ARRAY{list(COMPANY_FORMS)})[1 + (c / {len(COMPANY_NAMES)}) % {len(COMPANY_FORMS)}] || ' ' || c")
    big_company = "'Ten Thousand Orders SAS'"
    company = f"(CASE WHEN c = 1 THEN {big_company} ELSE {company} END)"
    customers_from = (f"generate_series(%(low)s::bigint, %(high)s::bigint) AS g(c) "
                      f"CROSS JOIN LATERAL (SELECT {shape.partner_of_customer()} AS p) AS pa "
                      f"CROSS JOIN LATERAL (SELECT 0 AS n) AS zero ")
    requests = max(shape.orders // 50, 1)
    every = shape.span_seconds / requests
    request_time = f"(timestamp '{START:%Y-%m-%d %H:%M:%S}' + make_interval(secs => n * {every!r}))"
    return [
        Step("partners", shape.partners - 1, copy_statement(
            connection, "partners", "tpl_partners",
            {"id": "md5('p' || n)::uuid::text", "name": "'Partner ' || n", "created_at": "t.created_at"},
            "generate_series(%(low)s::bigint, %(high)s::bigint) AS g(n)")),
        Step("customers", shape.customers, copy_statement(
            connection, "customers", "tpl_customers",
            {"id": customer, "partner_id": partner, "domain": "'c' || c || '.large.example'",
             "company_name": company, "company_name_folded": f"lower({company})", "billing_company_name": company,
             "email": "'it@c' || c || '.large.example'", "created_at": shape.customer_time()},
            customers_from)),
        Step("orders", shape.orders, copy_statement(
            connection, "orders", "tpl_orders",
            {"id": order_id, "partner_id": partner, "customer_id": customer, "cart_id": "NULL",
             "created_at": order_time}, shape.orders_from())),
        Step("order lines", shape.orders, copy_statement(
            connection, "order_line_items", "tpl_order_line_items",
            {"order_id": order_id, "subscription_id": subscription_id}, shape.orders_from())),
        Step("subscriptions", shape.orders, copy_statement(
            connection, "subscriptions", "tpl_subscriptions",
            {"id": subscription_id, "partner_id": partner, "customer_id": customer, "order_id": order_id,
             "created_at": order_time, "effective_start": order_time,
             "commitment_end": year_later.format("commitment_end")}, shape.orders_from())),
        Step("entitlements (Contoso's customers)", shape.orders, copy_statement(
            connection, "entitlements", "tpl_entitlements",
            {"id": "md5('e' || n)::uuid::text", "partner_id": partner, "customer_id": customer,
             "order_id": order_id, "subscription_id": subscription_id, "created_at": order_time,
             "expiry_date": year_later.format("expiry_date")}, shape.orders_from(), where="WHERE p = 0")),
        Step("service requests", requests, copy_statement(
            connection, "service_requests", "tpl_service_requests",
            {"id": "md5('r' || n)::uuid::text", "partner_id": partner, "customer_id": customer,
             "created_at": request_time, "updated_at": request_time,
             "status": "(ARRAY['open', 'attention_needed', 'closed', 'closed'])[1 + n % 4]",
             "closed_at": f"CASE WHEN n % 4 >= 2 THEN {request_time} + interval '2 days' END"},
            # A request is about the customer of one of the orders: every partner files some.
            f"generate_series(%(low)s::bigint, %(high)s::bigint) AS g(n) "
            f"CROSS JOIN LATERAL (SELECT {shape.customer_of_order('(n * 50 + 1)')} AS c) AS cu "
            f"CROSS JOIN LATERAL (SELECT {shape.partner_of_customer()} AS p) AS pa ")),
        Step("Contoso's invoices", MONTHS, copy_statement(
            connection, "invoices", "tpl_invoices",
            {"id": "md5('i' || n)::uuid::text", "billing_period": f"to_char({month_start('n - 1')}, 'YYYY-MM')",
             "period_start": month_start("n - 1"), "period_end": month_start("n"),
             "created_at": month_start("n - 1")},
            "generate_series(%(low)s::bigint, %(high)s::bigint) AS g(n)")),
        Step("invoice lines (the big customer's orders)", shape.orders // BIG_CUSTOMER_EVERY, copy_statement(
            connection, "invoice_line_items", "tpl_invoice_line_items",
            {"id": "md5('l' || n)::uuid::text", "invoice_id": f"md5('i' || (1 + (n - 1) * {MONTHS} / {shape.orders}))"
             "::uuid::text", "customer_id": customer, "customer_name": big_company,
             "customer_domain": "'c1.large.example'", "order_id": order_id, "subscription_id": subscription_id,
             "charge_start": order_time, "charge_end": year_later.format("charge_end"), "order_date": order_time,
             "created_at": order_time},
            f"generate_series(%(low)s::bigint, %(high)s::bigint) AS g(m) "
            f"CROSS JOIN LATERAL (SELECT m * {BIG_CUSTOMER_EVERY} AS n) AS big "
            f"CROSS JOIN LATERAL (SELECT 1 AS c) AS cu CROSS JOIN LATERAL (SELECT 0 AS p) AS pa ")),
    ]


def month_start(months: str) -> str:
    return f"(timestamp '{START:%Y-%m-%d %H:%M:%S}' + make_interval(months => ({months})::int))"


BULK_TABLES = ("customers", "orders", "order_line_items", "subscriptions", "entitlements", "service_requests",
               "invoices", "invoice_line_items")


def skip_foreign_key_checks(connection) -> None:
    """The copies reference rows that exist by construction: PostgreSQL's per-row foreign key checks (triggers)
    would double the load's time. Needs a superuser (the throwaway cluster's); elsewhere the checks stay on."""
    import psycopg

    try:
        connection.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        progress("not a superuser: foreign keys are checked row by row (slower)")


def set_indexes_aside(connection) -> list[str]:
    """Drops the bulk tables' secondary indexes (those no constraint holds) and returns their definitions: one
    sorted build at the end costs a fraction of ten million random insertions into each."""
    rows = connection.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        (list(BULK_TABLES),)).fetchall()
    for name, _definition in rows:
        connection.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in rows]


def psycopg_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def generate(database_url: str, data_dir: Path, *, customers: int, orders: int, partners: int) -> Manifest:
    """Fills the database; returns (and saves in `data_dir`) what `measure` needs."""
    import psycopg
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if customers < 2 or orders < BIG_CUSTOMER_EVERY or partners < 1:
        raise SystemExit(f"--customers must be at least 2, --orders at least {BIG_CUSTOMER_EVERY}, "
                         f"--partners at least 1.")
    started = time.monotonic()
    data_dir.mkdir(parents=True, exist_ok=True)
    progress("migrating and making the template purchases with the app's own services ...")
    start = bootstrap(database_url, data_dir)
    shape = Shape(customers, orders, partners, start.contoso_id)
    with psycopg.connect(psycopg_url(database_url), autocommit=True) as connection:
        connection.execute("SET synchronous_commit = off")
        connection.execute("SET maintenance_work_mem = '512MB'")
        skip_foreign_key_checks(connection)
        make_templates(connection, start.template_customer_id)
        plan = steps(connection, shape)
        indexes = set_indexes_aside(connection)
        with Progress(TextColumn("{task.description:<42}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=False) as bar:
            for step in plan:
                task = bar.add_task(step.label, total=step.rows)
                for low in range(1, step.rows + 1, CHUNK):
                    high = min(low + CHUNK - 1, step.rows)
                    connection.execute(step.statement, {"low": low, "high": high})
                    bar.update(task, completed=high)
            task = bar.add_task("indexes (built again)", total=len(indexes))
            for number, definition in enumerate(indexes, start=1):
                connection.execute(definition)
                bar.update(task, completed=number)
            task = bar.add_task("VACUUM ANALYZE", total=1)
            connection.execute("VACUUM (ANALYZE)")
            bar.update(task, completed=1)
        sizes = {table: connection.execute(
            "SELECT to_char(reltuples, 'FM999,999,999') || ' rows, ' || pg_size_pretty(pg_total_relation_size(oid)) "
            "FROM pg_class WHERE relname = %s", (table,)).fetchone()[0]
            for table in ("customers", "orders", "order_line_items", "subscriptions", "entitlements",
                          "service_requests", "invoice_line_items")}
        big_customer = connection.execute("SELECT md5('c' || 1)::uuid::text").fetchone()[0]
        invoice = connection.execute("SELECT md5('i' || %s)::uuid::text", (MONTHS,)).fetchone()[0]
    manifest = Manifest(customers, orders, partners, start.contoso_id, big_customer, start.tokens, invoice,
                        round(time.monotonic() - started, 1), sizes)
    manifest.save(data_dir)
    progress(f"generated in {manifest.generated_seconds:.0f} s: " + "; ".join(f"{k} {v}" for k, v in sizes.items()))
    return manifest


# --- measure: each list endpoint under wrk, beside the constant endpoint ----------------------------------

DEEP_OFFSET = 5_000  # where the deep pages start: 100 pages of 50 in
PAGE = 50


@dataclass(frozen=True)
class Workload:
    label: str
    role: str
    uri: str                    # path and query; a deep page's is links.next of the page at DEEP_OFFSET
    deep: bool = False


def workloads(manifest: Manifest) -> list[Workload]:
    big, invoice = manifest.big_customer_id, manifest.invoice_id
    orders_of = f"/v1/customers/{big}"
    lists = [
        ("customers (a partner's)", "sales_agent", f"/v1/customers?size={PAGE}", True),
        ("customers, filtered (companyName=fab)", "sales_agent", f"/v1/customers?size={PAGE}&companyName=fab", False),
        ("customers (operator, every partner)", "operator", f"/v1/customers?size={PAGE}", True),
        ("orders (10,000-order customer)", "sales_agent", f"{orders_of}/orders?size={PAGE}", True),
        ("orders, filtered (billingType=recurring)", "sales_agent",
         f"{orders_of}/orders?size={PAGE}&billingType=recurring", False),
        ("subscriptions", "sales_agent", f"{orders_of}/subscriptions?size={PAGE}", True),
        ("entitlements (entitlementType=software)", "sales_agent",
         f"{orders_of}/entitlements?size={PAGE}&entitlementType=software", True),
        ("service requests (a partner's)", "helpdesk_agent", f"/v1/servicerequests?size={PAGE}", True),
        ("service requests, filtered (status=open)", "helpdesk_agent", f"/v1/servicerequests?size={PAGE}&status=open",
         False),
        ("service requests (operator)", "operator", f"/v1/servicerequests?size={PAGE}", True),
        ("invoices", "billing_admin", f"/v1/invoices?size={PAGE}", False),
        ("invoice lines", "billing_admin", f"/v1/invoices/{invoice}/lineitems?size={PAGE}", False),
    ]
    found = []
    for label, role, uri, has_deep in lists:
        found.append(Workload(f"{label}, first page", role, uri))
        if has_deep:
            found.append(Workload(f"{label}, page 101 (links.next)", role, uri, deep=True))
    found.append(Workload(f"orders, page 101 by offset={DEEP_OFFSET} (compatibility)", "sales_agent",
                          f"{orders_of}/orders?size={PAGE}&offset={DEEP_OFFSET}"))
    return found


def resolve(base: str, manifest: Manifest, workload: Workload) -> str | None:
    """The URI to load: for a deep page, links.next of the page at DEEP_OFFSET, as a client paging would hold."""
    headers = {"Authorization": f"Bearer {manifest.tokens[workload.role]}"}
    answer = httpx.get(base + workload.uri, headers=headers, timeout=120)
    if answer.status_code != 200:
        raise RuntimeError(f"{workload.uri}: {answer.status_code} {answer.text[:300]}")
    if not workload.deep:
        return workload.uri
    deep = httpx.get(f"{base}{workload.uri}&offset={DEEP_OFFSET - PAGE}", headers=headers, timeout=300).json()
    following = deep["links"].get("next")
    if following is None:
        progress(f"  {workload.label}: fewer than {DEEP_OFFSET + PAGE} rows in this set, left out")
        return None
    checked = httpx.get(base + following["uri"], headers=headers, timeout=120)
    if checked.status_code != 200 or not checked.json()["items"]:
        raise RuntimeError(f"{following['uri']}: {checked.status_code} {checked.text[:300]}")
    return following["uri"]


def measure(database_url: str, data_dir: Path, *, seconds: int, clients: list[int]) -> list[dict]:
    manifest = Manifest.load(data_dir)
    scratch = Path(tempfile.mkdtemp(prefix="large-data-"))
    rows: list[dict] = []
    try:
        with kit.served_app(database_url, data_dir) as served:
            progress(f"serving {served.base}; {kit.load_average()}")
            plan = [(workload, uri) for workload in workloads(manifest)
                    if (uri := resolve(served.base, manifest, workload)) is not None]
            for count in clients:
                constant = kit.wrk(f"{served.base}/bench/constant", seconds=seconds, clients=count,
                                   threads=min(count, 2))
                rows.append({"workload": "constant endpoint", "clients": count, **constant})
                for workload, uri in plan:
                    script = scratch / f"{workload.role}.lua"
                    script.write_text(f'wrk.headers["Authorization"] = "Bearer {manifest.tokens[workload.role]}"\n')
                    progress(f"  {workload.label}, {count} clients")
                    figures = kit.wrk(served.base + uri, seconds=seconds, clients=count, threads=min(count, 2),
                                      script=script)
                    rows.append({"workload": workload.label, "clients": count, **figures})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows


def print_table(rows: list[dict], manifest: Manifest, *, seconds: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"List endpoints on {manifest.customers:,} customers / {manifest.orders:,} orders "
                        f"(PostgreSQL, one uvicorn worker, wrk {seconds} s each, pages of {PAGE})")
    for heading in ("workload", "clients", "req/s", "p50 ms", "p99 ms", "errors", "p99 < 50 ms"):
        table.add_column(heading, justify="left" if heading == "workload" else "right")
    for row in rows:
        table.add_row(row["workload"], str(row["clients"]), f"{row['rps']:,.0f}", f"{row['p50']:.1f}",
                      f"{row['p99']:.1f}", str(row["errors"]),
                      "" if row["workload"] == "constant endpoint" else ("yes" if row["p99"] < 50 else "NO"))
    console = Console(width=140)
    console.print(table)
    console.print(f"machine: {kit.machine()}")


# --- explain: the plans of each list's queries, before and after migration 0017's indexes -----------------

def _explain_class():
    from sqlalchemy.ext.compiler import compiles
    from sqlalchemy.sql.expression import ClauseElement, Executable

    class ExplainAnalyze(Executable, ClauseElement):
        inherit_cache = False

        def __init__(self, statement) -> None:
            self.statement = statement

    @compiles(ExplainAnalyze, "postgresql")
    def _compile(element, compiler, **kw) -> str:
        return "EXPLAIN (ANALYZE, BUFFERS) " + compiler.process(element.statement, **kw)

    return ExplainAnalyze


def list_queries(db, manifest: Manifest):
    """(label, principal's role, statement, sort key) of each list as its route builds it."""
    from partnerdesk.billing import service as billing
    from partnerdesk.customers import service as customers
    from partnerdesk.orders import service as orders
    from partnerdesk.support import service as support

    big = manifest.big_customer_id
    return [
        ("customers (a partner's)", "sales_agent",
         lambda who: customers.search(who, customers.CustomerSearch()), customers.CUSTOMER_LIST_ORDER),
        ("customers (operator)", "operator",
         lambda who: customers.search(who, customers.CustomerSearch()), customers.CUSTOMER_LIST_ORDER),
        ("orders", "sales_agent", lambda who: orders.search_orders(db, principal=who, customer_id=big),
         orders.ORDER_LIST_ORDER),
        ("subscriptions", "sales_agent", lambda who: orders.search_subscriptions(db, principal=who, customer_id=big),
         orders.SUBSCRIPTION_LIST_ORDER),
        ("entitlements (software)", "sales_agent",
         lambda who: orders.search_entitlements(db, principal=who, customer_id=big, entitlement_type="software"),
         orders.ENTITLEMENT_LIST_ORDER),
        ("service requests (a partner's)", "helpdesk_agent",
         lambda who: support.search_requests(db, principal=who, filters=support.RequestFilter()),
         support.REQUEST_LIST_ORDER),
        ("invoices", "billing_admin", lambda who: billing.search_invoices(who), billing.INVOICE_LIST_ORDER),
        ("invoice lines", "billing_admin",
         lambda who: billing.invoice_lines(db, principal=who, invoice_id=manifest.invoice_id),
         billing.INVOICE_LINE_LIST_ORDER),
    ]


def explain(database_url: str, data_dir: Path, *, label: str) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of each list's first page, its page after the row at DEEP_OFFSET (keyset), the
    same page by offset, and the capped count; prints the plans, returns a summary."""
    from sqlalchemy import func, select

    from partnerdesk.accounts import service as accounts
    from partnerdesk.core.desk import Desk
    from partnerdesk.core.pagination import EXACT_COUNT_LIMIT

    explain_analyze = _explain_class()
    manifest = Manifest.load(data_dir)
    desk = Desk.from_settings(kit.app_settings(database_url, data_dir))
    summary = []
    try:
        with desk.database.session() as db:
            for name, role, build, sort in list_queries(db, manifest):
                principal = accounts.authenticate_token(db, manifest.tokens[role])
                statement = build(principal)
                queries = {"first page": statement.limit(PAGE + 1)}
                deep_row = db.scalars(statement.offset(DEEP_OFFSET).limit(1)).first()
                if deep_row is not None:
                    queries["keyset page"] = statement.where(sort.after(sort.values_of(deep_row))).limit(PAGE + 1)
                    queries["offset page"] = statement.offset(DEEP_OFFSET).limit(PAGE + 1)
                matching = statement.order_by(None).with_only_columns(sort.columns[-1][0])
                queries["count"] = select(func.count()).select_from(
                    matching.limit(EXACT_COUNT_LIMIT + 1).subquery())
                for kind, query in queries.items():
                    plan = [row[0] for row in db.connection().execute(explain_analyze(query))]
                    took = next((float(line.split(":")[1].split()[0]) for line in plan
                                 if line.startswith("Execution Time")), float("nan"))
                    print(f"\n--- {label}: {name}, {kind} ({took:.2f} ms)\n" + "\n".join(plan))
                    nodes_all = [line.strip().removeprefix("->  ").split("  (")[0] for line in plan]
                    nodes = [step for step in nodes_all if " Scan " in step or step in ("Sort", "Incremental Sort")]
                    summary.append({"list": name, "query": kind, "ms": took, "plan": " > ".join(nodes)})
    finally:
        desk.database.dispose()
    return summary


def print_explain_summary(before: list[dict] | None, after: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="EXPLAIN (ANALYZE, BUFFERS): execution time of each list's queries")
    for heading in ("list", "query", *(["before 0017 ms", "before: top node"] if before else []), "after ms",
                    "after: top node"):
        table.add_column(heading)
    earlier = {(row["list"], row["query"]): row for row in before or []}
    for row in after:
        cells = [row["list"], row["query"]]
        if before:
            old = earlier.get((row["list"], row["query"]))
            cells += [f"{old['ms']:.2f}", old["plan"]] if old else ["", ""]
        table.add_row(*cells, f"{row['ms']:.2f}", row["plan"])
    Console(width=160).print(table)


def without_large_data_indexes(database_url: str):
    """Migration 0017 undone (its downgrade puts the earlier indexes back), for `explain`'s 'before'."""
    from alembic import command

    from partnerdesk.migrations import runner

    config = runner.alembic_config(database_url)
    progress("undoing migration 0017 (the large-data indexes) ...")
    command.downgrade(config, "0014_sessions")
    analyze(database_url)

    def restore() -> None:
        progress("redoing migration 0017 ...")
        command.upgrade(config, "head")
        analyze(database_url)

    return restore


def analyze(database_url: str) -> None:
    import psycopg

    with psycopg.connect(psycopg_url(database_url), autocommit=True) as connection:
        connection.execute("ANALYZE")


# --- the command ---------------------------------------------------------------------------------------------

@contextmanager
def throwaway_database() -> Iterator[str]:
    with kit.postgres_server() as server:
        if server is None:
            raise SystemExit("No PostgreSQL: install Debian's postgresql package (scripts/install-system-deps.sh).")
        import psycopg

        with psycopg.connect(psycopg_url(server.admin_url), autocommit=True) as connection:
            connection.execute("CREATE DATABASE large_data")
        yield server.url("large_data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("run", "generate", "measure", "explain"), nargs="?", default="run")
    parser.add_argument("--database-url", help="postgresql+psycopg://... (run: a throwaway cluster)")
    parser.add_argument("--data-dir", type=Path, help="the app's data dir and large_data.json (run: a temp dir)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--partners", type=int, default=PARTNERS)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", default="4,16", help="wrk connections, comma-separated runs")
    parser.add_argument("--without-indexes", action="store_true",
                        help="explain (and run): the plans before migration 0017's indexes too")
    options = parser.parse_args()
    clients = [int(count) for count in options.clients.split(",")]
    with ExitStack() as stack:
        url, data_dir = options.database_url, options.data_dir
        if options.command == "run":
            url = url or stack.enter_context(throwaway_database())
            data_dir = data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="large-data-")))
        if url is None or data_dir is None:
            parser.error(f"{options.command} needs --database-url and --data-dir")
        progress(f"machine: {kit.machine()}")
        if options.command in ("run", "generate"):
            generate(url, data_dir, customers=options.customers, orders=options.orders, partners=options.partners)
        if options.command in ("run", "explain"):
            before = None
            if options.without_indexes:
                restore = without_large_data_indexes(url)
                try:
                    before = explain(url, data_dir, label="before 0017")
                finally:
                    restore()
            print_explain_summary(before, explain(url, data_dir, label="with 0017"))
        if options.command in ("run", "measure"):
            manifest = Manifest.load(data_dir)
            rows = measure(url, data_dir, seconds=options.seconds, clients=clients)
            print_table(rows, manifest, seconds=options.seconds)
            progress(f"generated in {manifest.generated_seconds:.0f} s; "
                     + "; ".join(f"{table} {size}" for table, size in manifest.sizes.items()))


if __name__ == "__main__":
    main()
