"""Editing a customer's company and billing profiles from its page, with the roles that add customers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.customers.models import Customer
from tests.support.actors import customer_body
from tests.support.portal import Page, signed_in

EDITORS = (Role.admin_agent, Role.sales_agent)
EDITED = {
    "company_name": "Fabrikam Europe", "billing_company_name": "Fabrikam Europe SAS", "first_name": "Camille",
    "last_name": "Durand", "email": "Billing@Fabrikam.fr", "phone_number": "+33 4 72 00 00 00",
    "address_line1": "2 rue de la République", "address_line2": "Bâtiment B", "postal_code": "69001",
    "city": "Lyon", "region": "Auvergne-Rhône-Alpes", "country": "BE", "culture": "", "language": "",
}


def add_customer(actors, partner: str = "Contoso Reseller") -> str:
    response = actors(Role.admin_agent, partner).post("/v1/customers",
                                                      json=customer_body(company_name="Fabrikam"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def stored(desk, customer_id: str) -> Customer:
    with desk.database.session(write=False) as db:
        customer = db.get(Customer, customer_id)
        db.expunge(customer)
        return customer


@pytest.mark.both_engines
@pytest.mark.parametrize("role", EDITORS)
def test_an_agent_edits_both_profiles_and_the_api_reads_the_change(app, desk, actors, role):
    customer_id = add_customer(actors)
    browser = signed_in(app, desk, role)
    details = browser.page(f"/customers/{customer_id}")
    assert f'href="/customers/{customer_id}/edit"' in details.html
    form = browser.page(f"/customers/{customer_id}/edit")
    assert form.status_code == 200
    assert form.shows("Edit the customer")
    assert 'value="Fabrikam"' in form.html and 'value="Lyon"' in form.html  # today's values to start from

    response = browser.post(f"/customers/{customer_id}/edit", EDITED)
    assert response.status_code == 303, response.text
    page = browser.follow(response)
    assert page.shows("Customer Fabrikam Europe was updated.")
    assert page.h1 == "Fabrikam Europe"

    answer = actors(Role.admin_agent).get(f"/v1/customers/{customer_id}").json()
    assert answer["companyProfile"]["companyName"] == "Fabrikam Europe"
    billing = answer["billingProfile"]
    assert (billing["companyName"], billing["email"]) == ("Fabrikam Europe SAS", "billing@fabrikam.fr")
    # Culture and language left to the country follow the new one, as when adding a customer.
    assert (billing["culture"], billing["language"]) == ("nl-BE", "nl")
    assert billing["defaultAddress"]["country"] == "BE"
    assert billing["defaultAddress"]["addressLine2"] == "Bâtiment B"
    with desk.database.session(write=False) as db:
        record = db.scalar(select(ActivityRecord).where(ActivityRecord.action == "customer.updated"))
    assert record.customer_id == customer_id
    assert "billingProfile.email" in record.details["changed"]
    assert "Billing@Fabrikam.fr" not in str(record.details)  # what changed, not the personal data


def test_refused_fields_are_named_beside_them_and_every_value_is_kept(app, desk, actors):
    customer_id = add_customer(actors)
    browser = signed_in(app, desk, Role.sales_agent)
    form = EDITED | {"company_name": "", "email": "not an email", "country": "ZZ", "city": "Grenoble"}
    response = browser.post(f"/customers/{customer_id}/edit", form)
    assert response.status_code == 400
    page = Page.of(response)
    assert page.field_errors["company_name"] == "Fill in this field."
    assert page.shows("Company name: fill in this field.")
    assert 'value="Grenoble"' in page.html and 'value="not an email"' in page.html
    assert stored(desk, customer_id).company_name == "Fabrikam"  # nothing written

    form = EDITED | {"email": "not an email"}
    page = Page.of(browser.post(f"/customers/{customer_id}/edit", form))
    assert page.status_code == 400
    assert page.field_errors == {"email": "Enter an email address such as it@fabrikam.fr."}
    assert page.shows("Email address: enter an email address such as it@fabrikam.fr.")
    assert 'value="Fabrikam Europe SAS"' in page.html
    assert stored(desk, customer_id).email == "it@fabrikam.fr"


def test_the_french_form_names_its_fields_in_french(app, desk, actors):
    customer_id = add_customer(actors)
    browser = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    page = browser.page(f"/customers/{customer_id}/edit")
    assert page.shows("Modifier le client")
    assert page.shows("Nom sur les factures")
    assert page.shows("Enregistrer les modifications")
    refused = Page.of(browser.post(f"/customers/{customer_id}/edit", EDITED | {"billing_company_name": ""}))
    assert refused.field_errors == {"billing_company_name": "Remplissez ce champ."}
    assert refused.shows("Nom sur les factures : remplissez ce champ.")


def test_the_domain_is_shown_but_never_changed(app, desk, actors):
    customer_id = add_customer(actors)
    domain = stored(desk, customer_id).domain
    browser = signed_in(app, desk, Role.admin_agent)
    response = browser.post(f"/customers/{customer_id}/edit", EDITED | {"domain": "other.onmicrosoft.com"})
    assert response.status_code == 303
    assert stored(desk, customer_id).domain == domain


@pytest.mark.parametrize("role", [Role.operator, Role.helpdesk_agent, Role.billing_admin])
def test_other_roles_may_not_edit(app, desk, actors, role):
    customer_id = add_customer(actors)
    browser = signed_in(app, desk, role)
    assert browser.get(f"/customers/{customer_id}/edit").status_code == 403
    assert browser.post(f"/customers/{customer_id}/edit", EDITED).status_code == 403
    if role is not Role.billing_admin:
        details = browser.page(f"/customers/{customer_id}")
        assert f'href="/customers/{customer_id}/edit"' not in details.html
    assert stored(desk, customer_id).company_name == "Fabrikam"


@pytest.mark.parametrize("role", EDITORS)
def test_another_partners_customer_is_not_found(app, desk, actors, role):
    customer_id = add_customer(actors, partner="Rival")
    browser = signed_in(app, desk, role)
    assert browser.get(f"/customers/{customer_id}/edit").status_code == 404
    assert browser.post(f"/customers/{customer_id}/edit", EDITED).status_code == 404
    assert stored(desk, customer_id).company_name == "Fabrikam"
