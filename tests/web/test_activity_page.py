"""The activity log page: the operator's and admin agents' view of `GET /v1/activitylogs`, filtered and paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.audit import service as audit
from partnerdesk.web.listing import DEFAULT_PAGE_SIZE
from partnerdesk.web.rendering import TIME_ZONE_COOKIE
from tests.support.actors import customer_body
from tests.support.portal import signed_in


def add_customer(actors, company: str, partner: str = "Contoso Reseller", role: Role = Role.admin_agent) -> str:
    response = actors(role, partner).post("/v1/customers", json=customer_body(company_name=company))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def rows_of(page) -> int:
    return page.html.count('<th scope="row">')


def test_an_admin_agent_reads_its_partners_records_only(app, desk, actors):
    add_customer(actors, "Fabrikam")
    add_customer(actors, "Rival Client", partner="Rival")
    page = signed_in(app, desk, Role.admin_agent).page("/activity")
    assert page.status_code == 200
    assert page.h1 == "Activity log"
    assert page.shows("Customer added")
    assert page.shows("Fabrikam")
    assert not page.shows("Rival Client")
    assert "Partner</th>" not in page.html  # an agent's own partner goes without saying
    assert page.shows("1 record")
    assert 'href="/activity"' in page.html  # the navigation entry


def test_the_operator_reads_every_partner_and_can_narrow_to_one(app, desk, actors):
    add_customer(actors, "Fabrikam")
    add_customer(actors, "Rival Client", partner="Rival")
    operator = signed_in(app, desk, Role.operator)
    page = operator.page("/activity")
    assert page.shows("Fabrikam") and page.shows("Rival Client")
    assert page.shows("Contoso Reseller") and page.shows("Rival")
    rival_id = actors(Role.admin_agent, "Rival").get("/v1/customers").json()["items"][0]["partnerId"]
    narrowed = operator.page(f"/activity?partner={rival_id}")
    assert narrowed.shows("Partner: Rival")
    assert narrowed.shows("Rival Client") and not narrowed.shows("Fabrikam")


@pytest.mark.parametrize("role", [Role.sales_agent, Role.helpdesk_agent, Role.billing_admin])
def test_other_roles_are_refused_as_by_the_api(app, desk, role):
    browser = signed_in(app, desk, role)
    assert browser.get("/activity").status_code == 403
    assert 'href="/activity"' not in browser.page("/").html


@pytest.mark.both_engines
def test_filters_by_action_customer_agent_and_period(app, desk, actors, clock):
    add_customer(actors, "Fabrikam")
    clock.advance(timedelta(days=2))
    add_customer(actors, "Northwind", role=Role.sales_agent)
    sales_email = actors(Role.sales_agent).email
    browser = signed_in(app, desk, Role.admin_agent)

    by_customer = browser.page("/activity?customer=north")
    assert by_customer.shows("Northwind") and not by_customer.shows("Fabrikam")
    by_agent = browser.page(f"/activity?agent={sales_email}")
    assert by_agent.shows("Northwind") and not by_agent.shows("Fabrikam")
    today = clock.now().date()
    by_period = browser.page(f"/activity?from={today - timedelta(days=2)}&to={today - timedelta(days=1)}")
    assert by_period.shows("Fabrikam") and not by_period.shows("Northwind")
    by_day = browser.page(f"/activity?from={today}&to={today}")  # a one-day period includes that day
    assert by_day.shows("Northwind") and not by_day.shows("Fabrikam")
    by_action = browser.page("/activity?action=order.created")
    assert by_action.shows("No activity matches these filters.")
    assert '<option value="customer.created"' in by_action.html  # offered: the log holds it
    assert 'value="order.created"' not in by_action.html  # not offered: never recorded here


def test_a_date_that_is_not_one_is_named_beside_its_field(app, desk, actors):
    add_customer(actors, "Fabrikam")
    browser = signed_in(app, desk, Role.admin_agent)
    page = browser.page("/activity?from=24/11/2026&customer=fab")
    assert page.status_code == 400
    assert page.field_errors == {"from": "Enter a date such as 2026-11-24."}
    assert page.shows("From: enter a date such as 2026-11-24.")
    assert 'value="24/11/2026"' in page.html and 'value="fab"' in page.html  # kept to correct
    backwards = browser.page("/activity?from=2026-11-24&to=2026-11-20")
    assert backwards.status_code == 400
    assert backwards.field_errors == {"to": "Enter an end date on or after the start date."}


def test_details_are_shown_as_text_never_as_markup(app, desk, actors):
    customer_id = add_customer(actors, "Fabrikam")
    partner_id = actors(Role.admin_agent).get(f"/v1/customers/{customer_id}").json()["partnerId"]
    with desk.database.session() as db:
        audit.record(db, principal=None, now=desk.clock.now(), action="custom.<b>thing</b>", object_type="x",
                     partner_id=partner_id, customer_id=customer_id,
                     details={"note": "<script>alert(1)</script>", "nested": {"a": [1, "<i>"]}})
    page = signed_in(app, desk, Role.admin_agent).page("/activity")
    assert "<script>alert(1)</script>" not in page.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html
    assert "<b>thing</b>" not in page.html and page.shows("custom.<b>thing</b>")
    assert page.shows('{"a": [1, "<i>"]}')
    assert page.shows("Partner Desk")  # recorded by no agent


@pytest.mark.both_engines
def test_a_long_log_is_paged(app, desk, actors):
    customer_id = add_customer(actors, "Fabrikam")
    partner_id = actors(Role.admin_agent).get(f"/v1/customers/{customer_id}").json()["partnerId"]
    with desk.database.session() as db:
        for number in range(DEFAULT_PAGE_SIZE + 4):
            audit.record(db, principal=None, now=desk.clock.now(), action="policy.updated", object_type="policy",
                         object_id=f"policy-{number}", partner_id=partner_id)
    browser = signed_in(app, desk, Role.admin_agent)
    first = browser.page("/activity?action=policy.updated")
    assert rows_of(first) == DEFAULT_PAGE_SIZE
    assert first.shows(f"{DEFAULT_PAGE_SIZE + 4} records")
    assert 'href="/activity?action=policy.updated&amp;page=2"' in first.html
    second = browser.page("/activity?action=policy.updated&page=2")
    assert rows_of(second) == 4
    assert second.shows("Page 2 of 2")


def test_the_page_in_french(app, desk, actors):
    add_customer(actors, "Fabrikam")
    page = signed_in(app, desk, Role.admin_agent, accept_language="fr").page("/activity")
    assert page.h1 == "Journal d’activité"
    assert page.shows("Client ajouté")
    assert page.shows("1 enregistrement")
    assert page.shows("Toutes les actions")


def test_the_period_is_read_in_the_readers_time_zone_and_may_end_at_the_last_day(app, desk, actors):
    customer_id = add_customer(actors, "Fabrikam")
    partner_id = actors(Role.admin_agent).get(f"/v1/customers/{customer_id}").json()["partnerId"]
    late_evening_in_new_york = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)  # 22:30 on 19 November there
    with desk.database.session() as db:
        audit.record(db, principal=None, now=late_evening_in_new_york, action="policy.updated",
                     object_type="policy", object_id="late-change", partner_id=partner_id)
    browser = signed_in(app, desk, Role.admin_agent)
    browser.client.cookies.set(TIME_ZONE_COOKIE, "America/New_York")
    assert "late-change" in browser.page("/activity?from=2026-11-19&to=2026-11-19").html
    assert "late-change" not in browser.page("/activity?from=2026-11-20&to=2026-11-20").html
    until_the_end = browser.page("/activity?from=2026-11-01&to=9999-12-31")
    assert until_the_end.status_code == 200 and "late-change" in until_the_end.html
