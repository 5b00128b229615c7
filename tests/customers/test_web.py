"""Customer pages: list and search, a customer's page and its tabs, and the "Add customer" form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.customers.models import Customer
from partnerdesk.customers.web import customer_tabs
from partnerdesk.web.listing import DEFAULT_PAGE_SIZE
from tests.support.actors import customer_body
from tests.support.portal import Page, PortalBrowser, signed_in

GOOD_FORM = {
    "company_name": "Fabrikam France", "domain": "Fabrikam-FR.onmicrosoft.com", "first_name": "Camille",
    "last_name": "Durand", "email": "it@fabrikam.fr", "phone_number": "+33 4 72 00 00 00",
    "address_line1": "1 place Bellecour", "address_line2": "", "postal_code": "69002", "city": "Lyon",
    "region": "Auvergne-Rhône-Alpes", "country": "FR", "culture": "fr-FR", "language": "fr",
}


def count_rows(desk, model) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(model))


def add_by_api(actors, company: str, domain: str | None = None, partner: str = "Contoso Reseller") -> str:
    response = actors(Role.admin_agent, partner).post("/v1/customers",
                                                      json=customer_body(domain, company_name=company))
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def admin(app, desk) -> PortalBrowser:
    return signed_in(app, desk, Role.admin_agent)


@pytest.mark.parametrize("role", [Role.admin_agent, Role.sales_agent])
def test_an_agent_adds_a_customer_and_lands_on_its_page(app, desk, role):
    browser = signed_in(app, desk, role)
    form_page = browser.page("/customers/new")
    assert form_page.h1 == "Add customer"
    response = browser.post("/customers/new", GOOD_FORM)
    assert response.status_code == 303
    location = response.headers["location"]
    page = browser.follow(response)
    assert page.h1 == "Fabrikam France"
    assert page.shows("Customer Fabrikam France was added.")
    assert page.shows("fabrikam-fr.onmicrosoft.com")  # normalised by the service, as through the API
    assert page.shows("Camille Durand")
    assert page.shows("France")
    with desk.database.session(write=False) as db:
        customer = db.scalar(select(Customer))
        assert location == f"/customers/{customer.id}"
        assert (customer.company_name, customer.billing_company_name) == ("Fabrikam France", "Fabrikam France")
        assert (customer.country, customer.culture, customer.language) == ("FR", "fr-FR", "fr")
        assert (customer.city, customer.postal_code, customer.region) == ("Lyon", "69002", "Auvergne-Rhône-Alpes")
        action = db.scalar(select(ActivityRecord.action).where(ActivityRecord.object_id == customer.id))
        assert action == "customer.created"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"company_name": "   "}, "company_name", "Fill in this field."),
    ({"domain": "not a domain"}, "domain", "Enter a domain name such as fabrikam.onmicrosoft.com."),
    ({"email": "nobody"}, "email", "Enter an email address such as it@fabrikam.fr."),
    ({"email": ""}, "email", "Fill in this field."),  # not "Use at least 3 characters."
    ({"country": "ZZ"}, "country", "Choose a country from the list."),
    ({"country": ""}, "country", "Fill in this field."),
    ({"culture": "xx-YY"}, "culture", "Choose a culture from the list."),
    ({"company_name": "F" * 201}, "company_name", "Use at most 200 characters."),
    ({"postal_code": "7" * 21}, "postal_code", "Use at most 20 characters."),
])
def test_a_refused_form_comes_back_with_the_message_at_the_field_and_nothing_written(admin, desk, changes, field,
                                                                                      message):
    form = GOOD_FORM | changes
    response = admin.post("/customers/new", form)
    assert response.status_code in (400, 409)
    page = Page.of(response)
    assert page.h1 == "Add customer"
    assert page.field_errors[field] == message
    assert page.shows("There is a problem")
    # What the agent typed is still there.
    assert 'value="+33 4 72 00 00 00"' in page.html
    assert 'value="1 place Bellecour"' in page.html
    assert count_rows(desk, Customer) == 0
    assert count_rows(desk, ActivityRecord) == 0


def test_a_domain_that_is_taken_is_shown_at_the_domain_field(admin, desk, actors):
    add_by_api(actors, "Fabrikam", "fabrikam-fr.onmicrosoft.com")
    response = admin.post("/customers/new", GOOD_FORM)
    assert response.status_code == 409
    assert Page.of(response).field_errors["domain"] == "This domain already belongs to a customer."
    assert count_rows(desk, Customer) == 1


def test_the_form_speaks_the_pages_language(app, desk):
    browser = signed_in(app, desk, Role.sales_agent, accept_language="fr")
    form_page = browser.page("/customers/new")
    assert form_page.h1 == "Ajouter un client"
    assert '<option value="DE">Allemagne</option>' in form_page.html
    # Culture and language follow the country unless the agent chooses, whatever the page's language.
    assert '<option value="">Selon le pays, par exemple fr-FR pour la France</option>' in form_page.html
    assert " selected>" not in form_page.html
    response = browser.post("/customers/new", GOOD_FORM | {"domain": "pas un domaine", "company_name": ""})
    page = Page.of(response)
    assert page.field_errors["company_name"] == "Remplissez ce champ."
    assert page.shows("Il y a un problème")
    response = browser.post("/customers/new", GOOD_FORM | {"domain": "pas un domaine"})
    assert Page.of(response).field_errors["domain"] == "Saisissez un nom de domaine tel que fabrikam.onmicrosoft.com."
    assert count_rows(desk, Customer) == 0


@pytest.mark.parametrize(("language", "lines"), [
    ("en", ["Company name: fill in this field.", "Domain: fill in this field.",
            "Email address: fill in this field."]),
    ("fr", ["Nom de la société : remplissez ce champ.", "Domaine : remplissez ce champ.",
            "Adresse e-mail : remplissez ce champ."]),
])
def test_the_error_summary_names_each_field(app, desk, language, lines):
    browser = signed_in(app, desk, Role.sales_agent, accept_language=language)
    response = browser.post("/customers/new", GOOD_FORM | {"company_name": "", "domain": "", "email": ""})
    page = Page.of(response)
    for line, field in zip(lines, ("company_name", "domain", "email"), strict=True):
        assert f'<li><a href="#{field}">{line}</a></li>' in page.html.replace("&#39;", "'")
    # Beside each field, the message alone: the label is just above it.
    assert page.field_errors["email"] == ("Fill in this field." if language == "en" else "Remplissez ce champ.")


@pytest.mark.parametrize(("country", "culture", "language"), [
    ("FR", "fr-FR", "fr"), ("DE", "de-DE", "de"), ("US", "en-US", "en"), ("JP", "ja-JP", "ja"),
])
def test_culture_and_language_left_to_the_country_follow_it(admin, desk, country, culture, language):
    response = admin.post("/customers/new", GOOD_FORM | {"country": country, "culture": "", "language": ""})
    assert response.status_code == 303, Page.of(response).field_errors
    with desk.database.session(write=False) as db:
        customer = db.scalar(select(Customer))
        assert (customer.country, customer.culture, customer.language) == (country, culture, language)


def test_a_chosen_culture_and_language_win_over_the_country(admin, desk):
    response = admin.post("/customers/new", GOOD_FORM | {"country": "FR", "culture": "en-GB", "language": ""})
    assert response.status_code == 303
    with desk.database.session(write=False) as db:
        customer = db.scalar(select(Customer))
        assert (customer.culture, customer.language) == ("en-GB", "fr")


def test_a_refused_form_keeps_culture_left_to_the_country(admin):
    response = admin.post("/customers/new", GOOD_FORM | {"domain": "", "culture": "", "language": ""})
    page = Page.of(response)
    assert set(page.field_errors) == {"domain"}
    # Still "From the country", not a guess the agent never made.
    assert 'value="fr-FR" selected' not in page.html and 'value="fr" selected' not in page.html


def test_the_list_shows_the_partners_customers_only(admin, actors):
    add_by_api(actors, "Fabrikam")
    add_by_api(actors, "Wingtip Toys")
    add_by_api(actors, "Rival Client", partner="Rival")
    page = admin.page("/customers")
    assert page.h1 == "Customers"
    assert page.shows("2 customers")
    assert page.shows("Fabrikam") and page.shows("Wingtip Toys")
    assert not page.shows("Rival Client")


def test_the_search_box_finds_by_name_or_domain(admin, actors):
    add_by_api(actors, "Fabrikam", "fabrikam.onmicrosoft.com")
    add_by_api(actors, "Wingtip Toys", "wingtip.onmicrosoft.com")
    by_name = admin.page("/customers?q=wing")
    assert by_name.shows("1 customer matches “wing”")
    assert by_name.shows("Wingtip Toys") and not by_name.shows("Fabrikam")
    by_domain = admin.page("/customers?q=FABRIKAM.ONMICRO")
    assert by_domain.shows("Fabrikam") and not by_domain.shows("Wingtip")
    nothing = admin.page("/customers?q=%25_%5C")  # LIKE wildcards are searched as text
    assert nothing.shows("No customer matches “%_\\”.")


def test_the_list_is_paged_and_the_search_is_kept_across_pages(admin, actors):
    for number in range(DEFAULT_PAGE_SIZE + 2):
        add_by_api(actors, f"Tenant {number:02d}")
    first = admin.page("/customers?q=tenant")
    assert first.shows(f"{DEFAULT_PAGE_SIZE + 2} customers match “tenant”")
    assert first.shows("Page 1 of 2")
    assert 'href="/customers?q=tenant&amp;page=2"' in first.html
    second = admin.page("/customers?q=tenant&page=2")
    assert second.shows("Tenant 25") and second.shows("Tenant 26") and not second.shows("Tenant 24")
    assert second.shows("Page 2 of 2")
    assert first.shows(f"{DEFAULT_PAGE_SIZE + 2} customers match “tenant” — showing 1 to {DEFAULT_PAGE_SIZE}")
    for odd in ("0", "-3", "abc", "99999999999", "2.5"):
        assert admin.get(f"/customers?q=tenant&page={odd}").status_code == 200
    assert admin.page("/customers?q=tenant&page=40").shows("Page 2 of 2")


def test_a_customer_page_shows_its_company_and_billing_details(admin, actors):
    customer_id = add_by_api(actors, "Fabrikam", "fabrikam.onmicrosoft.com")
    page = admin.page(f"/customers/{customer_id}")
    assert page.status_code == 200
    assert page.h1 == "Fabrikam"
    for shown in ("Company profile", "Billing profile", customer_id, "fabrikam.onmicrosoft.com", "it@fabrikam.fr",
                  "1 place Bellecour", "69002 Lyon", "France", "fr-FR"):
        assert page.shows(shown), shown
    assert f'<a href="/customers/{customer_id}" aria-current="page">Details</a>' in page.html


def test_another_partners_customer_page_is_not_found(admin, actors):
    rivals = add_by_api(actors, "Rival Client", partner="Rival")
    response = admin.get(f"/customers/{rivals}")
    assert response.status_code == 404
    page = Page.of(response)
    assert page.h1 == "Page not found"
    assert not page.shows("Rival Client")
    assert admin.get("/customers/no-such-customer").status_code == 404


def test_the_operator_sees_every_partners_customers_with_the_partner(app, desk, actors):
    add_by_api(actors, "Fabrikam")
    rivals = add_by_api(actors, "Rival Client", partner="Rival")
    operator = signed_in(app, desk, Role.operator)
    page = operator.page("/customers")
    assert page.shows("Fabrikam") and page.shows("Rival Client") and page.shows("Contoso Reseller")
    assert 'href="/customers/new"' not in page.html
    assert operator.page(f"/customers/{rivals}").shows("Partner Rival")
    assert operator.get("/customers/new").status_code == 403


def test_a_helpdesk_agent_reads_but_may_not_add(app, desk, actors):
    customer_id = add_by_api(actors, "Fabrikam")
    helpdesk = signed_in(app, desk, Role.helpdesk_agent)
    assert helpdesk.page(f"/customers/{customer_id}").status_code == 200
    assert helpdesk.get("/customers/new").status_code == 403
    assert helpdesk.post("/customers/new", GOOD_FORM).status_code == 403
    assert count_rows(desk, Customer) == 1


def test_a_registered_tab_appears_for_its_roles_only(app, desk, actors, monkeypatch):
    customer_id = add_by_api(actors, "Fabrikam")
    monkeypatch.setattr(customer_tabs, "_entries", dict(customer_tabs._entries))
    customer_tabs.register("Orders", "/customers/{customer_id}/orders", [Role.admin_agent], order=20)
    admin_page = signed_in(app, desk, Role.admin_agent).page(f"/customers/{customer_id}")
    assert f'href="/customers/{customer_id}/orders"' in admin_page.html
    helpdesk_page = signed_in(app, desk, Role.helpdesk_agent).page(f"/customers/{customer_id}")
    assert f'href="/customers/{customer_id}/orders"' not in helpdesk_page.html  # no tab (the menu has /orders)


def test_tabs_mark_the_most_specific_one_as_current():
    from partnerdesk.web.registry import LinkRegistry

    tabs = LinkRegistry(placeholders=["customer_id"])
    tabs.register("Details", "/customers/{customer_id}", [Role.admin_agent], order=0)
    tabs.register("Orders", "/customers/{customer_id}/orders", [Role.admin_agent], order=20)
    shown = tabs.visible(Role.admin_agent, "/customers/c1/orders/o9", customer_id="c1")
    assert [(link.label, link.url, link.current) for link in shown] == [
        ("Details", "/customers/c1", False), ("Orders", "/customers/c1/orders", True)]
    with pytest.raises(ValueError):
        tabs.register("Bad", "/customers/{order_id}", [Role.admin_agent])
