"""Rules for customers: validation and normalisation, partner scoping, search."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal, normalise_email
from partnerdesk.audit import service as audit
from partnerdesk.core.csv_safe import control_character_problem
from partnerdesk.core.errors import DomainTaken, Forbidden, InvalidDomain, InvalidInput, NotFound
from partnerdesk.core.markets import normalise_country, normalise_culture, normalise_language
from partnerdesk.core.pagination import ASC, SortKey
from partnerdesk.customers.models import Customer
from partnerdesk.customers.schemas import CustomerIn

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(domain: str) -> str:
    """Lower-cased, trailing dot dropped, international names in their ASCII (IDNA) form."""
    candidate = domain.strip().rstrip(".").lower()
    try:
        candidate = candidate.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidDomain(f"companyProfile.domain: '{domain}' is not a domain name.", ["companyProfile.domain"]) \
            from None
    labels = candidate.split(".")
    if len(candidate) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels) \
            or labels[-1].isdigit():
        raise InvalidDomain(
            f"companyProfile.domain: '{domain}' is not a domain name such as fabrikam.onmicrosoft.com.",
            ["companyProfile.domain"],
        )
    return candidate


def _line(value: str, field: str) -> str:
    """One line of printable text, stripped. Names and addresses are shown in pages and written to
    CSV exports, so a control character (BEL, ESC, a line break) is refused, not kept."""
    problem = control_character_problem(value, field)
    if problem is not None:
        raise InvalidInput(problem, [field])
    return value.strip()


def _text(value: str, field: str) -> str:
    cleaned = _line(value, field)
    if not cleaned:
        raise InvalidInput(f"{field} must not be blank.", [field])
    return cleaned


def _profile_columns(data: CustomerIn) -> dict[str, str]:
    """The customer's columns from the API's shape, each checked and normalised as on creation."""
    billing = data.billing_profile
    address = billing.default_address
    # Partner Center asks only for the domain: the company is then named as in the billing profile.
    company_name = _text(data.company_profile.company_name or billing.company_name, "companyProfile.companyName")
    return {
        "company_name": company_name,
        "company_name_folded": company_name.casefold(),
        "billing_company_name": _text(billing.company_name, "billingProfile.companyName"),
        "email": _email(billing.email),
        "culture": normalise_culture(billing.culture, field="billingProfile.culture"),
        "language": normalise_language(billing.language, field="billingProfile.language"),
        "first_name": _line(billing.first_name, "billingProfile.firstName") or _line(address.first_name,
                                                                                 _ADDRESS + "firstName"),
        "last_name": _line(billing.last_name, "billingProfile.lastName") or _line(address.last_name,
                                                                              _ADDRESS + "lastName"),
        "phone_number": _line(address.phone_number, _ADDRESS + "phoneNumber"),
        "country": normalise_country(address.country, field="billingProfile.defaultAddress.country"),
        "region": _line(address.region, _ADDRESS + "region") or _line(address.state, _ADDRESS + "state"),
        "city": _line(address.city, _ADDRESS + "city"),
        "address_line1": _line(address.address_line1, _ADDRESS + "addressLine1"),
        "address_line2": _line(address.address_line2, _ADDRESS + "addressLine2"),
        "postal_code": _line(address.postal_code, _ADDRESS + "postalCode"),
    }


def create_customer(
    db: Session, *, principal: Principal, data: CustomerIn, now, request_id: str | None = None
) -> Customer:
    if principal.partner_id is None:
        raise Forbidden("Customers belong to a partner; only a partner's agents add them.")
    domain = normalise_domain(data.company_profile.domain)
    customer = Customer(partner_id=principal.partner_id, domain=domain, created_at=now, **_profile_columns(data))
    if db.scalar(select(Customer.id).where(Customer.domain == domain)) is not None:
        raise DomainTaken(f"The domain {domain} already belongs to a customer.", [domain])
    try:
        with db.begin_nested():
            db.add(customer)
            db.flush()
    except IntegrityError:
        # Two requests raced for the same domain; the unique index decided.
        raise DomainTaken(f"The domain {domain} already belongs to a customer.", [domain]) from None
    audit.record(
        db,
        principal=principal,
        now=now,
        action="customer.created",
        object_type="customer",
        object_id=customer.id,
        customer_id=customer.id,
        request_id=request_id,
        details={"domain": domain, "country": customer.country},
    )
    return customer


# Where each column is in the API's shape, to name what changed as an API client knows it.
_ADDRESS = "billingProfile.defaultAddress."
API_FIELDS = {
    "company_name": "companyProfile.companyName", "billing_company_name": "billingProfile.companyName",
    "email": "billingProfile.email", "culture": "billingProfile.culture", "language": "billingProfile.language",
    "first_name": "billingProfile.firstName", "last_name": "billingProfile.lastName",
    "phone_number": _ADDRESS + "phoneNumber", "country": _ADDRESS + "country", "region": _ADDRESS + "region",
    "city": _ADDRESS + "city", "address_line1": _ADDRESS + "addressLine1", "address_line2": _ADDRESS + "addressLine2",
    "postal_code": _ADDRESS + "postalCode",
}


def update_customer(
    db: Session, *, principal: Principal, customer_id: str, data: CustomerIn, now, request_id: str | None = None
) -> Customer:
    """Changes the company and billing profiles of a customer the agent's partner holds.

    The domain names the customer's tenant, as in Partner Center: it is kept, never changed. The
    activity log records which fields changed, not their values (an address is personal data).
    """
    if principal.partner_id is None:
        raise Forbidden("Customers belong to a partner; only a partner's agents change them.")
    customer = get_customer(db, principal=principal, customer_id=customer_id)
    db.refresh(customer, with_for_update=True)
    if normalise_domain(data.company_profile.domain) != customer.domain:
        raise InvalidInput(
            f"companyProfile.domain: the domain of a customer's tenant cannot be changed; it stays {customer.domain}.",
            ["companyProfile.domain"],
        )
    columns = _profile_columns(data)
    changed = sorted(API_FIELDS[name] for name, value in columns.items()
                     if name in API_FIELDS and getattr(customer, name) != value)
    if not changed:
        return customer
    for name, value in columns.items():
        setattr(customer, name, value)
    db.flush()
    audit.record(
        db,
        principal=principal,
        now=now,
        action="customer.updated",
        object_type="customer",
        object_id=customer.id,
        customer_id=customer.id,
        request_id=request_id,
        details={"changed": changed},
    )
    return customer


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except InvalidInput:
        raise InvalidInput(
            f"billingProfile.email: '{value}' is not an email address.", ["billingProfile.email"]
        ) from None


def get_customer(db: Session, *, principal: Principal, customer_id: str) -> Customer:
    """The customer, if `principal` may see it; another partner's customer is simply not found."""
    customer = db.get(Customer, customer_id)
    if customer is None or not principal.can_see_partner(customer.partner_id):
        raise NotFound(f"No customer with id {customer_id}.", [customer_id])
    return customer


@dataclass(frozen=True)
class CustomerRef:
    """What a purchase needs to know of a customer, read without loading the whole row into the ORM."""

    id: str
    partner_id: str
    company_name: str
    domain: str
    country: str


# Every purchase reads it: on the table's columns (see CONTRIBUTING, "How a write is done").
_customer = Customer.__table__.c
_CUSTOMER_REF = (
    select(_customer.id, _customer.partner_id, _customer.company_name, _customer.domain, _customer.country)
    .where(_customer.id == bindparam("customer_id"))
)


def get_customer_ref(db: Session, *, principal: Principal, customer_id: str) -> CustomerRef:
    """`get_customer` for the purchase path: same visibility rule, a plain value back."""
    row = db.execute(_CUSTOMER_REF, {"customer_id": customer_id}).first()
    if row is None or not principal.can_see_partner(row.partner_id):
        raise NotFound(f"No customer with id {customer_id}.", [customer_id])
    return CustomerRef(*row)


@dataclass(frozen=True)
class CustomerSearch:
    company_name_prefix: str | None = None
    domain_prefix: str | None = None
    text: str | None = None


# The customers list's order (by name, then id), which its keyset pages follow.
CUSTOMER_LIST_ORDER = SortKey("customers", (Customer.company_name_folded, ASC), (Customer.id, ASC))


def _prefix_range(column, prefix: str) -> list:
    """`prefix <= column < next prefix` beside the LIKE: the index range the LIKE alone gives only under the
    "C" collation, so a prefix search reads its matches and nothing else. Only when the prefix ends with a letter
    or digit whose successor is one too ("fab" -> "fac"): every collation orders those, and so every name
    starting with the prefix falls inside; for other prefixes the LIKE alone decides."""
    last = prefix[-1:]
    if not (last.isascii() and last.isalnum() and last not in "9zZ"):
        return []
    return [column >= prefix, column < prefix[:-1] + chr(ord(last) + 1)]


def search(principal: Principal, criteria: CustomerSearch) -> Select:
    statement = select(Customer)
    if not principal.is_operator:
        statement = statement.where(Customer.partner_id == principal.partner_id)
    if criteria.company_name_prefix:
        prefix = criteria.company_name_prefix.casefold()
        statement = statement.where(Customer.company_name_folded.startswith(prefix, autoescape=True),
                                    *_prefix_range(Customer.company_name_folded, prefix))
    if criteria.domain_prefix:
        statement = statement.where(Customer.domain.startswith(criteria.domain_prefix.strip().lower(),
                                                               autoescape=True))
    if criteria.text:
        needle = criteria.text.strip()
        statement = statement.where(
            Customer.company_name_folded.contains(needle.casefold(), autoescape=True)
            | Customer.domain.contains(needle.lower(), autoescape=True)
        )
    return statement.order_by(*CUSTOMER_LIST_ORDER.clauses())


def ids_matching(principal: Principal, text: str) -> Select:
    """The ids of the customers `search` finds for `text`, to filter other lists (orders, activity) by."""
    return search(principal, CustomerSearch(text=text)).with_only_columns(Customer.id).order_by(None)


def names_of(db: Session, *, principal: Principal, customer_ids: Iterable[str]) -> dict[str, str]:
    """Company names by customer id, for lists that show whose a row is; customers `principal` may not
    see, and ids of no customer, are left out."""
    wanted = sorted({customer_id for customer_id in customer_ids if customer_id})
    if not wanted:
        return {}
    statement = select(Customer.id, Customer.company_name).where(Customer.id.in_(wanted))
    if not principal.is_operator:
        statement = statement.where(Customer.partner_id == principal.partner_id)
    return {customer_id: name for customer_id, name in db.execute(statement)}
