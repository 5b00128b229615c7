"""Partner Center shapes of a customer: `companyProfile`, `billingProfile`, `defaultAddress`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.customers.models import Customer


class AddressIn(CamelModel):
    country: str = Field(min_length=1, max_length=64)
    region: str = Field("", max_length=100)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=100)
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=20)
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    phone_number: str = Field("", max_length=40)


class CompanyProfileIn(CamelModel):
    read_only_fields = ("tenantId",)

    domain: str = Field(min_length=1, max_length=253)
    # Partner Center needs only the domain; left out, the billing profile's company name is used.
    company_name: str | None = Field(None, min_length=1, max_length=200)
    organization_registration_number: str | None = Field(
        None, max_length=100, description="Accepted as Partner Center documents it; Partner Desk does not keep it.")


class BillingProfileIn(CamelModel):
    read_only_fields = ("id",)

    company_name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    culture: str = Field(min_length=2, max_length=16)
    language: str = Field(min_length=2, max_length=8)
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
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
