"""Customer pages: the list with search, a customer's page with its tabs, and "Add customer".

The pages call the same service as `POST/GET /v1/customers`, with the same request shape
(`CustomerIn`) and the same roles; the form only maps its fields onto that shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import Depends
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from partnerdesk.accounts import service as accounts_service
from partnerdesk.accounts.models import Role
from partnerdesk.core.errors import DeskError, DomainTaken
from partnerdesk.customers import service
from partnerdesk.customers.api import READERS, WRITERS
from partnerdesk.customers.models import Customer
from partnerdesk.customers.schemas import CustomerIn
from partnerdesk.web import (
    N_,
    FormErrors,
    FormField,
    LinkRegistry,
    PageContext,
    allow_page,
    explain,
    list_page,
    portal_router,
    read_form,
    redirect,
    register_nav,
    register_templates,
    register_translations,
    text_value,
)
from partnerdesk.web.i18n import country_choices, culture_choices, culture_of_country, language_choices

HERE = Path(__file__).parent
router = portal_router()

register_templates("customers", HERE / "templates")
register_translations(HERE / "locale")
register_nav(N_("Customers"), "/customers", READERS, order=10)

# Tabs of a customer's page; other domains add theirs with `register_customer_tab`.
customer_tabs = LinkRegistry(placeholders=["customer_id"])


def register_customer_tab(label_msgid: str, path_template: str, roles: Iterable[Role], *, order: int = 100) -> None:
    """Adds a tab to every customer's page, e.g. `("Orders", "/customers/{customer_id}/orders", roles)`.

    The tab's page should render with `render_customer_page` so it shows the customer and the tabs.
    """
    customer_tabs.register(label_msgid, path_template, roles, order=order)


register_customer_tab(N_("Details"), "/customers/{customer_id}", READERS, order=0)


def render_customer_page(ctx: PageContext, customer: Customer, template: str,
                         context: dict[str, Any] | None = None, *, status_code: int = 200) -> Response:
    """Renders a template that extends "customers/customer_page.html", with the customer and its tabs."""
    tabs = customer_tabs.visible(ctx.principal.role, ctx.request.url.path, customer_id=customer.id)
    values = {"customer": customer, "tabs": tabs, "partner_name": _partner_name(ctx, customer)}
    return ctx.render(template, {**values, **(context or {})}, status_code=status_code)


def _partner_name(ctx: PageContext, customer: Customer) -> str | None:
    """The customer's partner, named only for the operator (an agent sees its own partner's only)."""
    if not ctx.principal.is_operator:
        return None
    return accounts_service.get_partner(ctx.db, customer.partner_id).name


@router.get("/customers")
def customer_list(ctx: PageContext = allow_page(*READERS)) -> Response:
    text = ctx.request.query_params.get("q", "").strip()[:200]
    statement = service.search(ctx.principal, service.CustomerSearch(text=text or None))
    page = list_page(ctx.db, statement, ctx.request)
    partner_names = {}
    if ctx.principal.is_operator:
        partner_ids = {customer.partner_id for customer in page.rows}
        partner_names = {partner_id: accounts_service.get_partner(ctx.db, partner_id).name
                         for partner_id in partner_ids}
    return ctx.render("customers/list.html", {
        "q": text, "page": page, "may_add": ctx.has_role(*WRITERS), "partner_names": partner_names,
    })


# The form's fields and where each goes in the API's `CustomerIn`; the company name fills both
# the company profile and the billing profile, as the portal offers no separate billing name.
FIELDS = (
    FormField("company_name", N_("Company name"), ("companyProfile.companyName", "billingProfile.companyName"),
              N_("Enter the company's name."), required=True),
    FormField("domain", N_("Domain"), ("companyProfile.domain",),
              N_("Enter a domain name such as fabrikam.onmicrosoft.com."), required=True),
    FormField("first_name", N_("First name"), ("billingProfile.firstName",), N_("Enter a first name.")),
    FormField("last_name", N_("Last name"), ("billingProfile.lastName",), N_("Enter a last name.")),
    FormField("email", N_("Email address"), ("billingProfile.email",),
              N_("Enter an email address such as it@fabrikam.fr."), required=True),
    FormField("phone_number", N_("Phone number"), ("billingProfile.defaultAddress.phoneNumber",),
              N_("Enter a phone number.")),
    FormField("address_line1", N_("Address line 1"), ("billingProfile.defaultAddress.addressLine1",),
              N_("Enter the street address.")),
    FormField("address_line2", N_("Address line 2"), ("billingProfile.defaultAddress.addressLine2",),
              N_("Enter the rest of the address.")),
    FormField("postal_code", N_("Postal code"), ("billingProfile.defaultAddress.postalCode",),
              N_("Enter a postal code.")),
    FormField("city", N_("City"), ("billingProfile.defaultAddress.city",), N_("Enter a city.")),
    FormField("region", N_("State or region"), ("billingProfile.defaultAddress.region",),
              N_("Enter a state or region.")),
    FormField("country", N_("Country"), ("billingProfile.defaultAddress.country",),
              N_("Choose a country from the list."), required=True),
    # Not required in the form: left on "the country's", they follow the country (see `_with_defaults`).
    FormField("culture", N_("Culture"), ("billingProfile.culture",),
              N_("Choose a culture from the list.")),
    FormField("language", N_("Language"), ("billingProfile.language",),
              N_("Choose a language from the list.")),
)
FIELD_NAMES = tuple(form_field.name for form_field in FIELDS)
BY_ERROR = {DomainTaken: ("domain", N_("This domain already belongs to a customer."))}
# The culture and language of a customer whose country CLDR has no likely language for.
FALLBACK_CULTURE = ("en-US", "en")


def _with_defaults(values: dict[str, str]) -> dict[str, str]:
    """The form's values with a culture and language the agent left to the country filled in from it.

    Done on the server so the form needs no script: a customer in France gets fr-FR and fr, one in
    Germany de-DE and de, unless the agent chose otherwise.
    """
    culture, language = culture_of_country(values["country"]) or FALLBACK_CULTURE
    return values | {"culture": values["culture"] or culture, "language": values["language"] or language}


def _customer_in(values: dict[str, str]) -> CustomerIn:
    """The API's request shape built from the form; raises ValidationError like the API would.

    Without a `billing_company_name` field (adding a customer), the company name is the billing name too.
    """
    return CustomerIn.model_validate({
        "companyProfile": {"domain": values["domain"], "companyName": values["company_name"]},
        "billingProfile": {
            "companyName": values.get("billing_company_name", values["company_name"]),
            "email": values["email"],
            "culture": values["culture"],
            "language": values["language"],
            "firstName": values["first_name"],
            "lastName": values["last_name"],
            "defaultAddress": {
                "country": values["country"],
                "region": values["region"],
                "city": values["city"],
                "addressLine1": values["address_line1"],
                "addressLine2": values["address_line2"],
                "postalCode": values["postal_code"],
                "phoneNumber": values["phone_number"],
            },
        },
    })


def _render_form(ctx: PageContext, values: dict[str, str], errors: FormErrors | None = None, *,
                 status_code: int = 200) -> Response:
    return ctx.render("customers/new.html", {
        "fields": {form_field.name: form_field for form_field in FIELDS},
        "values": values,
        "errors": errors,
        "countries": country_choices(ctx.locale),
        "cultures": culture_choices(ctx.locale),
        "languages_spoken": language_choices(ctx.locale),
    }, status_code=status_code)


@router.get("/customers/new")
def new_customer_form(ctx: PageContext = allow_page(*WRITERS)) -> Response:
    return _render_form(ctx, dict.fromkeys(FIELD_NAMES, ""))


@router.post("/customers/new")
def add_customer(ctx: PageContext = allow_page(*WRITERS), form: FormData = Depends(read_form)) -> Response:
    values = {name: text_value(form, name) for name in FIELD_NAMES}
    try:
        customer = service.create_customer(ctx.db, principal=ctx.principal,
                                           data=_customer_in(_with_defaults(values)), now=ctx.now)
    except (DeskError, ValidationError) as error:
        # Nothing of a refused customer may be kept, even if the service had begun writing.
        ctx.db.rollback()
        errors = explain(error, FIELDS, ctx.gettext, by_error=BY_ERROR)
        status_code = error.status_code if isinstance(error, DeskError) else 400
        return _render_form(ctx, values, errors, status_code=status_code)
    ctx.flash(ctx.gettext("Customer %(name)s was added.", name=customer.company_name))
    return redirect(f"/customers/{customer.id}")


@router.get("/customers/{customer_id}")
def customer_page(customer_id: str, ctx: PageContext = allow_page(*READERS)) -> Response:
    customer = service.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    return render_customer_page(ctx, customer, "customers/details.html", {"may_edit": ctx.has_role(*WRITERS)})


# "Edit customer": the same fields, except that the billing profile's company name is a field of
# its own (it is the name invoices carry) and the domain, which names the tenant, is only shown.
EDIT_FIELDS = (
    FormField("company_name", N_("Company name"), ("companyProfile.companyName",),
              N_("Enter the company's name."), required=True),
    FormField("billing_company_name", N_("Name on invoices"), ("billingProfile.companyName",),
              N_("Enter the name invoices are made out to."), required=True),
    *(form_field for form_field in FIELDS if form_field.name not in ("company_name", "domain")),
)
EDIT_FIELD_NAMES = tuple(form_field.name for form_field in EDIT_FIELDS)


def _values_of(customer: Customer) -> dict[str, str]:
    return {name: getattr(customer, name) or "" for name in EDIT_FIELD_NAMES}


def _render_edit_form(ctx: PageContext, customer: Customer, values: dict[str, str],
                      errors: FormErrors | None = None, *, status_code: int = 200) -> Response:
    return render_customer_page(ctx, customer, "customers/edit.html", {
        "fields": {form_field.name: form_field for form_field in EDIT_FIELDS},
        "values": values,
        "errors": errors,
        "countries": country_choices(ctx.locale),
        "cultures": culture_choices(ctx.locale),
        "languages_spoken": language_choices(ctx.locale),
    }, status_code=status_code)


@router.get("/customers/{customer_id}/edit")
def edit_customer_form(customer_id: str, ctx: PageContext = allow_page(*WRITERS)) -> Response:
    customer = service.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    return _render_edit_form(ctx, customer, _values_of(customer))


@router.post("/customers/{customer_id}/edit")
def edit_customer(customer_id: str, ctx: PageContext = allow_page(*WRITERS),
                  form: FormData = Depends(read_form)) -> Response:
    customer = service.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    values = {name: text_value(form, name) for name in EDIT_FIELD_NAMES}
    try:
        service.update_customer(ctx.db, principal=ctx.principal, customer_id=customer.id,
                                data=_customer_in(_with_defaults(values) | {"domain": customer.domain}),
                                now=ctx.now)
    except (DeskError, ValidationError) as error:
        ctx.db.rollback()
        if isinstance(error, DeskError) and error.status_code in (403, 404):
            raise
        errors = explain(error, EDIT_FIELDS, ctx.gettext)
        status_code = error.status_code if isinstance(error, DeskError) else 400
        customer = service.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
        return _render_edit_form(ctx, customer, values, errors, status_code=status_code)
    ctx.flash(ctx.gettext("Customer %(name)s was updated.", name=customer.company_name))
    return redirect(f"/customers/{customer.id}")
