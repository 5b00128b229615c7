"""Invoice numbers under concurrency (issue 15, item 3): 50 invoices closed at once, each in its own
transaction on its own connection, get the numbers 1 to 50 of their year, none twice and none skipped;
a closing that fails after taking a number gives it back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from babel.numbers import list_currencies
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.billing import closing
from partnerdesk.billing.models import Invoice
from partnerdesk.billing.service import period_of
from partnerdesk.core.db import Database
from partnerdesk.core.money import is_currency
from tests.webhooks.helpers import partner_id_of

CLOSINGS = 50
NOVEMBER = period_of(datetime(2026, 11, 15, tzinfo=UTC))


class Boom(Exception):
    pass


def _november_invoices(desk, partner_id: str, count: int) -> list[str]:
    """One ended November invoice per currency (the unique key is partner, month and currency)."""
    currencies = [code for code in sorted(list_currencies()) if is_currency(code)][:count]
    assert len(currencies) == count
    with desk.database.session() as db:
        invoices = [Invoice(partner_id=partner_id, billing_period=NOVEMBER.name, currency=currency,
                            period_start=NOVEMBER.start, period_end=NOVEMBER.end, created_at=NOVEMBER.start)
                    for currency in currencies]
        db.add_all(invoices)
        db.flush()
        return [invoice.id for invoice in invoices]


def test_fifty_concurrent_closings_number_invoices_without_gaps(settings, desk, actors, clock):
    partner_id = partner_id_of(desk, actors(Role.billing_admin))
    invoice_ids = _november_invoices(desk, partner_id, CLOSINGS + 1)
    clock.advance(NOVEMBER.end - clock.now())
    # A pool as large as the closings, so all 50 transactions are open at once.
    database = Database(settings.resolved_database_url, pool_size=CLOSINGS + 1,
                        prepared_statements=settings.database_prepared_statements)
    start = threading.Barrier(CLOSINGS + 1)

    def close(invoice_id: str, fail: bool) -> str | None:
        start.wait(timeout=60)
        try:
            with database.session() as db:
                invoice = closing.close_invoice(db, invoice_id=invoice_id, prefix="PD", now=clock.now())
                if fail:  # the number was taken in this transaction; the rollback must give it back
                    raise Boom(invoice.number)
                return invoice.number
        except Boom:
            return None

    try:
        with ThreadPoolExecutor(max_workers=CLOSINGS + 1) as pool:
            results = list(pool.map(close, invoice_ids, [False] * CLOSINGS + [True]))
    finally:
        database.dispose()
    numbers = [number for number in results if number is not None]
    assert sorted(numbers) == [f"PD-2026-{sequence:06d}" for sequence in range(1, CLOSINGS + 1)]
    with desk.database.session(write=False) as db:
        stored = dict(db.execute(select(Invoice.id, Invoice.number)).all())
    assert stored[invoice_ids[-1]] is None  # the failed closing left its invoice open
    assert sorted(number for number in stored.values() if number) == sorted(numbers)
    # Closing the last one now takes the next number: 51, still no gap.
    with desk.database.session() as db:
        assert closing.close_invoice(db, invoice_id=invoice_ids[-1], prefix="PD", now=clock.now()).number == \
            "PD-2026-000051"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_numbers_start_again_at_one_each_year(desk, actors, clock):
    partner_id = partner_id_of(desk, actors(Role.billing_admin))
    [november] = _november_invoices(desk, partner_id, 1)
    december = period_of(datetime(2026, 12, 15, tzinfo=UTC))
    january = period_of(datetime(2027, 1, 15, tzinfo=UTC))
    with desk.database.session() as db:
        later = [Invoice(partner_id=partner_id, billing_period=period.name, currency="EUR", period_start=period.start,
                         period_end=period.end, created_at=period.start) for period in (december, january)]
        db.add_all(later)
        db.flush()
        december_id, january_id = (invoice.id for invoice in later)
    clock.advance(january.end - clock.now())
    with desk.database.session() as db:
        numbers = [closing.close_invoice(db, invoice_id=invoice_id, prefix="PD", now=clock.now()).number
                   for invoice_id in (january_id, november, december_id)]
    assert numbers == ["PD-2027-000001", "PD-2026-000001", "PD-2026-000002"]
