"""Invoice pages: the billing admin and the operator read invoices and their lines."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.billing.models import Invoice
from tests.billing.recurring_support import run_worker
from tests.orders.factories import Shop, software_line
from tests.support.portal import signed_in


def test_the_billing_admin_sees_the_invoice_with_the_line(app, desk, shop: Shop):
    customer_id = shop.customer("FR")
    order = shop.buy(customer_id, software_line(quantity=2))["orders"][0]
    with desk.database.session(write=False) as db:
        invoice_id = db.scalar(select(Invoice.id))
    browser = signed_in(app, desk, Role.billing_admin)
    listing = browser.page("/invoices")
    assert 'href="/invoices" aria-current="page"' in listing.html
    assert listing.h1 == "Invoices"
    assert listing.shows("1 invoice") and listing.shows("Open invoice for November 2026")
    assert listing.shows("€2,962.94") and listing.shows("In progress")  # after FR's 20% VAT
    assert f'href="/invoices/{invoice_id}"' in listing.html
    page = browser.page(f"/invoices/{invoice_id}")
    assert page.h1 == "Open invoice for November 2026"
    assert page.shows("Given when the invoice is closed, at the end of the month.")
    assert page.shows("Office LTSC Professional Plus 2024") and page.shows(order["id"])
    assert page.shows("Charge: purchase") and page.shows("at 20 %")
    assert page.shows("€1,234.56") and page.shows("€2,469.12") and page.shows("€493.82") and page.shows("€2,962.94")
    assert page.shows("1 line")
    assert f'href="/invoices/{invoice_id}/statement.pdf"' in page.html
    assert f'href="/invoices/{invoice_id}/reconciliation.csv"' in page.html


def test_a_closed_invoice_shows_its_number_period_and_labelled_lines_in_both_languages(app, desk, shop: Shop,
                                                                                         clock, actors):
    customer_id = shop.customer("FR")
    order = shop.buy(customer_id, software_line(quantity=2))["orders"][0]
    clock.advance(timedelta(days=7))
    run_worker(desk)  # November closes: PD-2026-000001
    cancelled = actors(Role.admin_agent).patch(f"/v1/customers/{customer_id}/orders/{order['id']}",
                                                json={"status": "cancelled"})
    assert cancelled.status_code == 200
    with desk.database.session(write=False) as db:
        november, december = db.scalars(select(Invoice.id).order_by(Invoice.billing_period)).all()
    english = signed_in(app, desk, Role.billing_admin)
    closed = english.page(f"/invoices/{november}")
    assert closed.h1 == "Invoice PD-2026-000001"
    assert closed.shows("November 2026") and closed.shows("closed on Dec 1, 2026")
    assert closed.shows("Total before tax") and closed.shows("€2,962.94")
    credit = english.page(f"/invoices/{december}")
    assert credit.shows("Credit: cancellation") and credit.shows("-€2,469.12") and credit.shows("-€493.82")
    french = signed_in(app, desk, Role.billing_admin, accept_language="fr")
    closed = french.page(f"/invoices/{november}")
    assert closed.h1 == "Facture PD-2026-000001"
    assert closed.shows("novembre 2026") and closed.shows("Total TTC") and closed.shows("Facturation : achat")
    assert french.page(f"/invoices/{december}").shows("Avoir : annulation")
    pdf = french.get(f"/invoices/{november}/statement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"] == 'attachment; filename="PD-2026-000001.pdf"'
    reconciliation = english.get(f"/invoices/{november}/reconciliation.csv")
    assert reconciliation.status_code == 200 and "PD-2026-000001" in reconciliation.text
    for role in (Role.sales_agent, Role.helpdesk_agent, Role.admin_agent):
        browser = signed_in(app, desk, role)
        assert browser.get(f"/invoices/{november}/statement.pdf").status_code == 403
        assert browser.get(f"/invoices/{november}/reconciliation.csv").status_code == 403
    rival = signed_in(app, desk, Role.billing_admin, "Rival")
    assert rival.get(f"/invoices/{november}/statement.pdf").status_code == 404
    assert signed_in(app, desk, Role.operator).get(f"/invoices/{november}/statement.pdf").status_code == 200


def test_the_invoice_speaks_french(app, desk, shop: Shop):
    shop.buy(shop.customer("FR"), software_line())
    page = signed_in(app, desk, Role.billing_admin, accept_language="fr").page("/invoices")
    assert page.h1 == "Factures" and page.shows("1 facture")


def test_the_operator_sees_every_partners_invoices_with_the_partner(app, desk, shop: Shop):
    shop.buy(shop.customer("FR"), software_line())
    page = signed_in(app, desk, Role.operator).page("/invoices")
    assert page.shows("Contoso Reseller") and page.shows("1 invoice")


def test_agents_may_not_read_invoices_and_other_partners_invoices_are_not_found(app, desk, shop: Shop):
    shop.buy(shop.customer("FR"), software_line())
    with desk.database.session(write=False) as db:
        invoice_id = db.scalar(select(Invoice.id))
    for role in (Role.sales_agent, Role.helpdesk_agent, Role.admin_agent):
        browser = signed_in(app, desk, role)
        assert browser.get("/invoices").status_code == 403
        assert 'href="/invoices"' not in browser.page("/customers").html
    rival = signed_in(app, desk, Role.billing_admin, "Rival")
    assert rival.page("/invoices").shows("There are no invoices yet.")
    assert rival.get(f"/invoices/{invoice_id}").status_code == 404
