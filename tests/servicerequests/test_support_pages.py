"""Support in the portal: Report a problem (pre-filled from the order), the request page, the operator's refund
queue, and the direct cancel's confirmation page, in English and French, for each role."""

from __future__ import annotations

import re
from html import unescape

import pytest

from partnerdesk.accounts.models import Role
from tests.servicerequests.conftest import Support
from tests.support.portal import signed_in

REFUND_FORM = {"topic": "1001", "severity": "moderate", "title": "Refund Office", "description": "Bought twice.",
               "first_name": "Ana", "last_name": "Silva", "email": "ana@contoso.example", "phone": "+33 4 72 00 00 00"}


def order_path(support: Support) -> str:
    return f"/customers/{support.customer_id}/orders/{support.order['id']}"


def report_link(page_text: str) -> str:
    match = re.search(r'href="(/support/new\?[^"]+)"', page_text)
    assert match, "no Report a problem link"
    return unescape(match.group(1))


def test_an_admin_agent_files_a_refund_from_the_order_page_and_the_operator_approves_it(app, support):
    admin = signed_in(app, support.desk, Role.admin_agent)
    link = report_link(admin.get(order_path(support)).text)
    form = admin.page(link)
    assert form.h1 == "Report a problem"
    prefilled = admin.get(link).text
    for value in (support.domain, support.order["id"], "2469.12", "EUR", support.customer_id):
        assert f'value="{value}"' in prefilled

    fields = dict(REFUND_FORM, customer_domain=support.domain, customer_tenant_id=support.customer_id,
                  order_id=support.order["id"], reason="purchased_by_mistake", amount="2469.12", currency="EUR")
    filed = admin.post("/support/new", fields)

    assert filed.status_code == 303, filed.text
    request_page = admin.follow(filed)
    assert request_page.shows("Your request was submitted") and request_page.shows("Refund Office")
    request_path = filed.headers["location"]

    operator = signed_in(app, support.desk, Role.operator)
    queue = operator.get("/support?queue=refunds").text
    assert request_path in queue
    approved = operator.post(f"{request_path}/approve", {"amount": "2469.12", "note": "Checked."})
    assert approved.status_code == 303, approved.text
    assert operator.follow(approved).shows("The refund was approved")
    assert request_path not in operator.get("/support?queue=refunds").text

    order_page = admin.page(order_path(support))
    assert order_page.shows("Cancelled") and order_page.shows("Total after credits")
    assert order_page.shows(f"Refund request {request_path.rsplit('/', 1)[1]}: purchased_by_mistake")


def test_a_refund_with_every_item_missing_names_each_field_and_files_nothing(app, support):
    admin = signed_in(app, support.desk, Role.admin_agent)

    refused = admin.post("/support/new", REFUND_FORM)

    assert refused.status_code == 400
    page = admin.page("/support")
    assert page.shows("There are no requests here.")
    for words in ("Enter the customer's domain or its tenant ID.", "Enter the order ID or the subscription ID.",
                  "Choose a reason.", "Enter an amount such as 1234.56.", "Enter the order's currency."):
        assert words in unescape(refused.text)


def test_a_helpdesk_agent_files_support_requests_but_no_refund(app, support):
    helpdesk = signed_in(app, support.desk, Role.helpdesk_agent)
    fields = dict(REFUND_FORM, customer_domain=support.domain, order_id=support.order["id"],
                  reason="wrong_product", amount="10", currency="EUR")

    refused = helpdesk.post("/support/new", fields)
    filed = helpdesk.post("/support/new", dict(REFUND_FORM, topic="1003", title="A key does not activate"))

    assert refused.status_code == 403 and "Only an admin agent can ask for a refund" in unescape(refused.text)
    assert filed.status_code == 303
    assert "A key does not activate" in helpdesk.get("/support").text


@pytest.mark.parametrize("role", [Role.sales_agent, Role.billing_admin])
def test_roles_without_support_get_403(app, support, role):
    browser = signed_in(app, support.desk, role)
    assert browser.get("/support").status_code == 403
    assert browser.get("/support/new").status_code == 403


def test_notes_files_and_closing_from_the_request_page(app, support):
    admin = signed_in(app, support.desk, Role.admin_agent)
    filed = admin.post("/support/new", dict(REFUND_FORM, topic="1006", title="Question"))
    path = filed.headers["location"]

    noted = admin.post(f"{path}/notes", {"note": "More details here."})
    attached = admin.client.post(f"{path}/attachments", data={"csrf_token": admin.csrf_token},
                                 files=[("files", ("trace.log", b"trace\n", "text/plain"))], headers=admin.headers)
    closed = admin.post(f"{path}/notes", {"note": "Solved.", "status": "closed"})

    assert (noted.status_code, attached.status_code, closed.status_code) == (303, 303, 303), attached.text
    page = admin.get(path).text
    assert "More details here." in page and "trace.log" in page and "Closed" in page
    download = re.search(rf'href="({path}/attachments/[^"]+)"', page).group(1)
    assert admin.get(download).content == b"trace\n"


def test_another_partners_request_is_a_404_page(app, support):
    admin = signed_in(app, support.desk, Role.admin_agent)
    path = admin.post("/support/new", dict(REFUND_FORM, topic="1006", title="Mine")).headers["location"]

    rival = signed_in(app, support.desk, Role.admin_agent, partner="Rival")

    assert rival.get(path).status_code == 404


def test_the_direct_cancel_asks_for_confirmation_naming_the_lines_credit_and_days_left(app, support):
    admin = signed_in(app, support.desk, Role.admin_agent)

    confirm = admin.page(f"{order_path(support)}/cancel?line=0&reason=Bought+twice")

    assert confirm.shows("Cancel these lines?") and confirm.shows("2,469.12") and confirm.shows("60")
    assert admin.get(order_path(support)).text.count("Cancelled") == 0
    done = admin.post(f"{order_path(support)}/cancel", {"line": "0", "reason": "Bought twice"})
    assert done.status_code == 303
    after = admin.page(order_path(support))
    assert after.shows("Reason: Bought twice") and after.shows("Total after credits")


def test_the_pages_speak_french(app, support):
    admin = signed_in(app, support.desk, Role.admin_agent, accept_language="fr")

    form = admin.page("/support/new")
    confirm = admin.page(f"{order_path(support)}/cancel?line=0")

    assert form.h1 == "Signaler un problème" and form.shows("Type de problème")
    assert confirm.shows("Annuler ces lignes ?") and confirm.shows("Annuler l'achat")
    assert admin.page(order_path(support)).shows("Annuler les lignes sélectionnées")
