"""Invoice pages: the billing admin and the operator read invoices and their lines."""

from __future__ import annotations

from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.billing.models import Invoice
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
    assert listing.shows("1 invoice") and listing.shows(invoice_id) and listing.shows("€2,469.12")
    assert listing.shows("2026-11") and listing.shows("Open")
    page = browser.page(f"/invoices/{invoice_id}")
    assert page.h1 == f"Invoice {invoice_id}"
    assert page.shows("Office LTSC Professional Plus 2024") and page.shows(order["id"])
    assert page.shows("€1,234.56") and page.shows("€2,469.12") and page.shows("1 line")


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
