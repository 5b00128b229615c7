"""Partner Center shapes of a customer: `companyProfile`, `billingProfile`, `defaultAddress`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from partnerdesk.core.markets import culture_pattern, language_pattern, market_pattern
from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.core.wire_types import PrintableLine, PrintableName, any_case_words
from partnerdesk.customers.models import Customer

# A DNS name as `customers.service.normalise_domain` accepts it: two labels or more, each of 1 to 63 letters,
# digits or hyphens, not starting or ending with a hyphen, the last one not all digits (it starts with a letter
# here). The service also reads an international name (in its IDNA form) and a trailing dot, which the document
# leaves out; the field's maxLength bounds the whole name.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN_PATTERN = f"^(?:{_LABEL}\\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?$"
# An address as `accounts.service.normalise_email` reads it: something before the first @, a dot after it, no
# spaces (nor control characters, which no address holds).
_NOT_IN_EMAIL = "\\s\\x00-\\x1f\\x7f-\\x9f"
EMAIL_PATTERN = f"^[^@{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}]*\\.[^{_NOT_IN_EMAIL}]*$"


# Partner Center's customer filter: the fields it searches by (their prefix), in any letter case.
FILTER_FIELDS = {"CompanyName": "company_name_prefix", "Domain": "domain_prefix"}
FILTER_OPERATOR = "starts_with"
# The filter as the document describes it: {"Field": "CompanyName" or "Domain", "Value":
# "...", "Operator": "starts_with"} (the operator may be left out), names and values as `customers.api` reads
# them. The server reads any JSON object with those members; the pattern gives them in this order, with plain
# string values (no escapes), which is how clients write them.
_JSON_SPACE = "[ \\t\\n\\r]*"
_JSON_TEXT = '"[^"\\\\\\x00-\\x1f]*"'
FILTER_PATTERN = (
    f'^\\{{{_JSON_SPACE}"Field"{_JSON_SPACE}:{_JSON_SPACE}"{any_case_words(FILTER_FIELDS)}"'
    f'{_JSON_SPACE},{_JSON_SPACE}"Value"{_JSON_SPACE}:{_JSON_SPACE}{_JSON_TEXT}{_JSON_SPACE}'
    f'(?:,{_JSON_SPACE}"Operator"{_JSON_SPACE}:{_JSON_SPACE}"{any_case_words([FILTER_OPERATOR])}"'
    f'{_JSON_SPACE})?\\}}$'
)


def _documented(pattern: str) -> dict[str, Any]:
    return {"pattern": pattern}


class AddressIn(CamelModel):
    country: str = Field(min_length=1, max_length=64, json_schema_extra=_documented(market_pattern()),
                         description="An ISO 3166-1 alpha-2 code such as FR, in any letter case.")
    region: PrintableLine = Field("", max_length=100)
    city: PrintableLine = Field("", max_length=100)
    state: PrintableLine = Field("", max_length=100)
    address_line1: PrintableLine = Field("", max_length=200)
    address_line2: PrintableLine = Field("", max_length=200)
    postal_code: PrintableLine = Field("", max_length=20)
    first_name: PrintableLine = Field("", max_length=100)
    last_name: PrintableLine = Field("", max_length=100)
    phone_number: PrintableLine = Field("", max_length=40)


class CompanyProfileIn(CamelModel):
    read_only_fields = ("tenantId",)

    domain: str = Field(min_length=1, max_length=253, json_schema_extra=_documented(DOMAIN_PATTERN),
                        description="A DNS name such as fabrikam.onmicrosoft.com.")
    # Partner Center needs only the domain; left out, the billing profile's company name is used.
    company_name: PrintableName | None = Field(None, min_length=1, max_length=200)
    organization_registration_number: str | None = Field(
        None, max_length=100, description="Accepted as Partner Center documents it; Partner Desk does not keep it.")


class BillingProfileIn(CamelModel):
    read_only_fields = ("id",)

    company_name: PrintableName = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320, json_schema_extra=_documented(EMAIL_PATTERN))
    culture: str = Field(min_length=2, max_length=16, json_schema_extra=_documented(culture_pattern()),
                         description="A language and a country, such as fr-FR or en-US, in any letter case.")
    language: str = Field(min_length=2, max_length=8, json_schema_extra=_documented(language_pattern()),
                          description="A language such as fr or en, in any letter case.")
    first_name: PrintableLine = Field("", max_length=100)
    last_name: PrintableLine = Field("", max_length=100)
    default_address: AddressIn


class CustomerIn(CamelModel):
    # What Partner Center (and Partner Desk) write themselves on a customer.
    read_only_fields = ("id", "commerceId", "partnerId", "relationshipToPartner", "allowDelegatedAccess",
                        "userCredentials", "customDomains")

    company_profile: CompanyProfileIn
    billing_profile: BillingProfileIn
    associated_partner_id: str | None = Field(
        None, max_length=64, description="Accepted as Partner Center documents it (indirect resellers); "
        "Partner Desk has no indirect resellers and does not keep it.")


class AddressOut(ResponseModel):
    country: str
    region: str
    city: str
    address_line1: str
    address_line2: str
    postal_code: str
    first_name: str
    last_name: str
    phone_number: str


class CompanyProfileOut(ResponseModel):
    tenant_id: str
    domain: str
    company_name: str
    attributes: dict[str, Any] = {"objectType": "CustomerCompanyProfile"}


class BillingProfileOut(ResponseModel):
    id: str
    company_name: str
    email: str
    culture: str
    language: str
    first_name: str
    last_name: str
    default_address: AddressOut
    attributes: dict[str, Any] = {"objectType": "CustomerBillingProfile"}


class CustomerOut(ResponseModel):
    id: str
    commerce_id: str
    partner_id: str
    company_profile: CompanyProfileOut
    billing_profile: BillingProfileOut
    relationship_to_partner: str = "reseller"
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Customer"}

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        return cls(
            id=customer.id,
            commerce_id=customer.id,
            partner_id=customer.partner_id,
            company_profile=CompanyProfileOut(
                tenant_id=customer.id, domain=customer.domain, company_name=customer.company_name
            ),
            billing_profile=BillingProfileOut(
                id=customer.id,
                company_name=customer.billing_company_name,
                email=customer.email,
                culture=customer.culture,
                language=customer.language,
                first_name=customer.first_name,
                last_name=customer.last_name,
                default_address=AddressOut(
                    country=customer.country,
                    region=customer.region,
                    city=customer.city,
                    address_line1=customer.address_line1,
                    address_line2=customer.address_line2,
                    postal_code=customer.postal_code,
                    first_name=customer.first_name,
                    last_name=customer.last_name,
                    phone_number=customer.phone_number,
                ),
            ),
            links={"self": Link(uri=f"/v1/customers/{customer.id}")},
        )


# A customer read back and sent again (the SDKs do): what the answer holds beyond the request's own
# fields is the server's to write, whichever fields the answer gains later.
CustomerIn.read_only_from = CustomerOut
CompanyProfileIn.read_only_from = CompanyProfileOut
BillingProfileIn.read_only_from = BillingProfileOut
