"""The sandbox test clock drives recurring charges and month-end closing: `partnerdesk sandbox advance`
(or `POST /v1/sandbox/clock`), then the worker, charge what fell due in the moved time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from partnerdesk.accounts.models import Role
from partnerdesk.billing.models import Invoice
from partnerdesk.cli import app as cli_app
from tests.billing.recurring_support import add_recurring_prices, buy_one, charges_of, monthly_ri_line, run_worker
from tests.orders.factories import OFFICE_US, software_line

pytestmark = pytest.mark.both_engines


def test_sandbox_advance_then_the_worker_charge_the_next_month_and_close_the_last(shop, desk, settings, actors):
    add_recurring_prices(desk)
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    _order, subscription = buy_one(shop, customer, monthly_ri_line())
    env = {"PARTNERDESK_DATABASE_URL": settings.database_url, "PARTNERDESK_DATA_DIR": str(settings.data_dir),
           "PARTNERDESK_SECRET_KEY": settings.secret_key, "PARTNERDESK_SANDBOX": "1"}
    runner = CliRunner()
    moved = runner.invoke(cli_app, ["sandbox", "advance", "--days", "31"], env=env)
    assert moved.exit_code == 0, moved.output
    worker = runner.invoke(cli_app, ["worker", "--once"], env=env)
    assert worker.exit_code == 0, worker.output
    charges = charges_of(desk, subscription)
    assert [(c.charge_type, c.billing_period) for c in charges] == [("new", "2026-11"), ("cycleCharge", "2026-12")]
    november = [i for i in actors(Role.billing_admin).get("/v1/invoices?period=2026-11").json()["items"]]
    assert [i["invoiceNumber"] for i in november] == ["PD-2026-000001"]

    # The API's test clock moves the same offset; the next month is charged once the worker runs.
    assert actors(Role.operator).post("/v1/sandbox/clock", json={"advanceDays": 31}).status_code == 200
    run_worker(desk)
    assert [c.billing_period for c in charges_of(desk, subscription)] == ["2026-11", "2026-12", "2027-01"]


def test_the_cli_closes_ended_invoices_and_writes_a_statement(shop, desk, settings, tmp_path):
    shop.buy(shop.customer("FR"), software_line())
    shop.buy(shop.customer("US"), software_line(OFFICE_US))
    env = {"PARTNERDESK_DATABASE_URL": settings.database_url, "PARTNERDESK_DATA_DIR": str(settings.data_dir),
           "PARTNERDESK_SECRET_KEY": settings.secret_key}
    # The CLI reads the wall clock: one invoice of a month long gone (made before closing jobs existed),
    # one of a month far ahead.
    with desk.database.session() as db:
        invoices = {invoice.currency: invoice for invoice in db.scalars(select(Invoice))}
        for invoice, year in ((invoices["EUR"], 2020), (invoices["USD"], 2999)):
            invoice.period_start = datetime(year, 1, 1, tzinfo=UTC)
            invoice.period_end = datetime(year, 2, 1, tzinfo=UTC)
        ended, ahead = invoices["EUR"].id, invoices["USD"].id
    runner = CliRunner()
    closed = runner.invoke(cli_app, ["billing", "close"], env=env)
    assert closed.exit_code == 0, closed.output
    assert f"PD-2020-000001  2026-11 EUR  {ended}" in closed.output and "closed 1 invoice(s)" in closed.output
    assert ahead not in closed.output
    target = tmp_path / "statement.pdf"
    written = runner.invoke(cli_app, ["billing", "statement", ended, "--output", str(target), "--language", "fr"],
                            env=env)
    assert written.exit_code == 0, written.output
    assert target.read_bytes().startswith(b"%PDF-")
    missing = runner.invoke(cli_app, ["billing", "statement", "no-such-invoice", "--output", str(target)], env=env)
    assert missing.exit_code == 1 and "No invoice with id no-such-invoice" in missing.output
