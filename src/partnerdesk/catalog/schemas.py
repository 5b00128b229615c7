"""Partner Center shapes of products, SKUs and availabilities, and the operator's write bodies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from babel.numbers import get_currency_symbol
from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from partnerdesk.catalog.price_terms import PriceTermsOut, price_terms
from partnerdesk.catalog.service import arm_region_name, availability_title, terms_of, vm_cores
from partnerdesk.catalog.vocabulary import (
    DISPLAY_NAMES,
    OTHER_PARTNER_CENTER_VIEWS,
    PRODUCT_TYPES,
    TARGET_VIEWS,
    is_reserved_instance,
)
from partnerdesk.core.markets import market_pattern
from partnerdesk.core.money import money_str
from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.core.wire_types import PrintableLine, PrintableName, PrintableText, any_case_pattern

# Responses


class SubTypeOut(ResponseModel):
    id: str
    display_name: str


class ItemTypeOut(ResponseModel):
    id: str
    display_name: str
    sub_type: SubTypeOut


class ProductOut(ResponseModel):
    id: str
    title: str
    description: str
    publisher_name: str = Field(description="Partner Center's name for the publisher.")
    publisher: str = Field(description="The same as publisherName, kept for Partner Desk's earlier clients.")
    is_microsoft_product: bool
    product_type: ItemTypeOut
    is_reserved_instance: bool
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Product"}

    @classmethod
    def of(cls, row, *, country: str | None = None) -> ProductOut:
        return cls.model_validate(product_json(row, country=country))


def is_microsoft(publisher: str) -> bool:
    return publisher.strip().casefold().startswith("microsoft")


def product_json(row: Sequence[Any], *, country: str | None = None) -> dict[str, Any]:
    """A product (a row in `repository.PRODUCT_COLUMNS` order) in Partner Center's shape, as plain JSON.

    Lists of products are built from this directly: a page of 100 takes a fraction of the time
    pydantic models would, and the customer's catalog is the hottest read there is.
    """
    product_id, title, description, type_id, sub_type_id, publisher = row
    query = f"?country={country}" if country else ""
    return {
        "id": product_id,
        "title": title,
        "description": description,
        "publisherName": publisher,
        "publisher": publisher,
        "isMicrosoftProduct": is_microsoft(publisher),
        "productType": {
            "id": type_id,
            "displayName": DISPLAY_NAMES.get(type_id, type_id),
            "subType": {"id": sub_type_id, "displayName": DISPLAY_NAMES.get(sub_type_id, sub_type_id)},
        },
        "isReservedInstance": is_reserved_instance(type_id),
        "links": {
            "self": {"uri": f"/v1/products/{product_id}{query}", "method": "GET", "headers": []},
            "skus": {"uri": f"/v1/products/{product_id}/skus{query}", "method": "GET", "headers": []},
        },
        "attributes": {"objectType": "Product"},
    }


class SkuOut(ResponseModel):
    id: str
    product_id: str
    title: str
    description: str
    unit_of_measure: str
    minimum_quantity: int
    maximum_quantity: int
    is_trial: bool = False
    supported_billing_cycles: list[str]
    purchase_prerequisites: list[str]
    provisioning_variables: list[str]
    # Software: versions, languages and file types to pick downloads; RIs: armSkuName, series, regions.
    dynamic_attributes: dict[str, Any]
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Sku"}

    @classmethod
    def of(cls, row, *, country: str | None = None) -> SkuOut:
        query = f"?country={country}" if country else ""
        base = f"/v1/products/{row.product_id}/skus/{row.id}"
        return cls(
            id=row.id,
            product_id=row.product_id,
            title=row.title,
            description=row.description,
            unit_of_measure=row.unit_of_measure,
            minimum_quantity=row.min_quantity,
            maximum_quantity=row.max_quantity,
            supported_billing_cycles=list(row.supported_billing_cycles),
            purchase_prerequisites=list(row.purchase_prerequisites),
            provisioning_variables=list(row.provisioning_variables),
            dynamic_attributes=dynamic_attributes(row),
            links={
                "self": Link(uri=f"{base}{query}"),
                "availabilities": Link(uri=f"{base}/availabilities{query}"),
            },
        )


def dynamic_attributes(row) -> dict[str, Any]:
    """Partner Center's `dynamicAttributes` of a SKU row.

    A Reserved Instance SKU sold in one region carries `armRegionName` as Partner Center's do (the SKU is
    the region, so a cart line needs none); `regions` lists where it can be reserved, for Partner Desk's
    multi-region SKUs and earlier clients. Values are strings, as Partner Center writes them.
    """
    attributes: dict[str, Any] = {}
    if row.versions or row.languages or row.file_types:
        attributes.update(
            versions=list(row.versions), languages=list(row.languages), fileTypes=list(row.file_types)
        )
    if row.arm_sku_name or row.instance_series or row.regions:
        attributes.update(armSkuName=row.arm_sku_name, instanceSeries=row.instance_series)
        cores = vm_cores(row.arm_sku_name)
        if cores is not None:
            attributes["cores"] = str(cores)
        region = arm_region_name(row.regions)
        if region is not None:
            attributes["armRegionName"] = region
        attributes["regions"] = list(row.regions)
    return attributes


class TermOut(ResponseModel):
    duration: str
    description: str


def availability_path(product_id: str, sku_id: str, availability_id: str) -> str:
    return f"/v1/products/{product_id}/skus/{sku_id}/availabilities/{availability_id}"


class CurrencyOut(ResponseModel):
    code: str
    symbol: str


def currency_out(code: str) -> CurrencyOut:
    return CurrencyOut(code=code, symbol=get_currency_symbol(code, locale="en_US"))


class AvailabilityOut(ResponseModel):
    id: str
    product_id: str
    sku_id: str
    title: str
    catalog_item_id: str
    country: str
    currency: str
    default_currency: CurrencyOut
    is_purchasable: bool = Field(description="False where the catalog's rules forbid buying it (rule R1).")
    segment: str
    terms: list[TermOut]
    billing_plan: str
    unit_price: str
    price_terms: PriceTermsOut = Field(description="What unitPrice is per: charged each billingPlan cycle over the "
                                                 "term, with the number of charges and the term's total.")
    erp_price: str | None
    effective_start_date: datetime
    effective_end_date: datetime | None
    product: ProductOut | None = Field(None, description="The product this availability is of, as Partner Center "
                                                         "embeds it.")
    sku: SkuOut | None = Field(None, description="The SKU this availability is of: a Reserved Instance's "
                                                 "dynamicAttributes.armRegionName says where it is reserved.")
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Availability"}

    @classmethod
    def of(cls, row, *, product_title: str, sku_title: str, is_purchasable: bool = True, product=None,
           sku=None) -> AvailabilityOut:
        """`product` and `sku` (their catalog rows), when given, are embedded as Partner Center does."""
        return cls(
            id=row.id,
            product_id=row.product_id,
            sku_id=row.sku_id,
            title=availability_title(product_title, sku_title, row.term_duration),
            catalog_item_id=f"{row.product_id}:{row.sku_id}:{row.id}",
            country=row.country,
            currency=row.currency,
            default_currency=currency_out(row.currency),
            is_purchasable=is_purchasable,
            segment=row.segment,
            terms=[TermOut.model_validate(term) for term in terms_of(row.term_duration)],
            billing_plan=row.billing_plan,
            unit_price=money_str(row.unit_price, row.currency),
            price_terms=PriceTermsOut.of(
                price_terms(row.unit_price, row.currency, row.billing_plan, row.term_duration)),
            erp_price=money_str(row.erp_price, row.currency) if row.erp_price is not None else None,
            effective_start_date=row.effective_start,
            effective_end_date=row.effective_end,
            product=ProductOut.of(product, country=row.country) if product is not None else None,
            sku=SkuOut.of(sku, country=row.country) if sku is not None else None,
            links={"self": Link(uri=availability_path(row.product_id, row.sku_id, row.id))},
        )


# Requests (operator only)

_ID = Field(None, min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")


class SubTypeIn(CamelModel):
    id: str = Field(min_length=1, max_length=40)
    display_name: str | None = Field(None, max_length=100)


def _product_type_pairs(schema: dict[str, Any]) -> None:
    """The document's product types: each type with one of its own sub-types, in any letter case, as
    `catalog.validation.product_type` reads them (from the same `PRODUCT_TYPES`)."""
    schema["required"] = ["id", "subType"]
    schema["anyOf"] = [
        {"properties": {"id": {"pattern": any_case_pattern([type_id])},
                        "subType": {"type": "object", "required": ["id"],
                                    "properties": {"id": {"pattern": any_case_pattern(sub_types)}}}}}
        for type_id, sub_types in PRODUCT_TYPES.items()
    ]


class ItemTypeIn(CamelModel):
    """A product type and its sub-type, as in {"id": "Software", "subType": {"id": "Perpetual"}}."""

    model_config = ConfigDict(json_schema_extra=_product_type_pairs)

    id: str = Field(min_length=1, max_length=40)
    display_name: str | None = Field(None, max_length=100)
    # Required (the document says so); left out, the service answers which sub-types the type has.
    sub_type: SubTypeIn | None = None


class ProductUpdate(CamelModel):
    title: PrintableName = Field(min_length=1, max_length=200)
    description: PrintableText = Field("", max_length=4000)
    publisher: PrintableLine = Field("", max_length=200)
    product_type: ItemTypeIn


class ProductIn(ProductUpdate):
    id: str | None = _ID


class SkuAttributesIn(CamelModel):
    versions: list[str] = Field(default_factory=list, max_length=50)
    languages: list[str] = Field(default_factory=list, max_length=100)
    file_types: list[str] = Field(default_factory=list, max_length=50)
    arm_sku_name: str = Field("", max_length=80)
    instance_series: str = Field("", max_length=80)
    # Partner Center's way: one Reserved Instance SKU per region. Stored as `regions == [armRegionName]`.
    arm_region_name: str | None = Field(None, max_length=60)
    regions: list[str] = Field(default_factory=list, max_length=100)

    # Derived from armSkuName when a SKU is read: sent back, it changes nothing.
    read_only_fields = ("cores",)

    @model_validator(mode="after")
    def _one_region_per_sku(self) -> SkuAttributesIn:
        """armRegionName is the SKU's only region; a `regions` list sent with it must say the same."""
        if self.arm_region_name is None or not self.arm_region_name.strip():
            return self
        region = self.arm_region_name.strip()
        if self.regions and [item.strip().casefold() for item in self.regions] != [region.casefold()]:
            raise ValueError(
                "dynamicAttributes.armRegionName is the SKU's one region; regions must then be empty or hold "
                "that region only"
            )
        self.regions = [region]
        return self


class SkuUpdate(CamelModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    unit_of_measure: str = Field("", max_length=60)
    minimum_quantity: int = Field(1, ge=1, le=1_000_000)
    maximum_quantity: int = Field(1000, ge=1, le=1_000_000)
    supported_billing_cycles: list[str] = Field(min_length=1, max_length=4)
    # None: the product type's usual list (Reserved Instances need Scope, SubscriptionId and Duration).
    purchase_prerequisites: list[str] | None = Field(None, max_length=10)
    provisioning_variables: list[str] | None = Field(None, max_length=10)
    dynamic_attributes: SkuAttributesIn = Field(default_factory=SkuAttributesIn)


class SkuIn(SkuUpdate):
    id: str | None = _ID


# A SKU read with GET is accepted back with PUT: what only the server writes is dropped without a word.
SkuUpdate.read_only_from = SkuOut


class TermIn(CamelModel):
    duration: str = Field(min_length=1, max_length=8)
    description: str | None = Field(None, max_length=100)


class AvailabilityUpdate(CamelModel):
    currency: str = Field(min_length=1, max_length=8)
    # A string, so no amount ever passes through a float: "1234.56".
    unit_price: str = Field(min_length=1, max_length=32)
    erp_price: str | None = Field(None, max_length=32)
    billing_plan: str = Field(min_length=1, max_length=16)
    tags: str = Field("", max_length=200)
    effective_start_date: AwareDatetime | None = None
    effective_end_date: AwareDatetime | None = None


class AvailabilityIn(AvailabilityUpdate):
    id: str | None = _ID
    country: str = Field(min_length=1, max_length=64)
    segment: str = Field("Commercial", max_length=20)
    terms: list[TermIn] = Field(default_factory=list, max_length=1)


# Query parameters the catalog's reads require. They are documented here rather than declared required to
# FastAPI, so that leaving one out still gets the catalog's own answer (2100 or 2101, naming the values to
# use) and not a generic "Field required"; the patterns come from the lists the service checks against.
def required_query_parameter(name: str, description: str, pattern: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": True, "description": description,
            "schema": {"type": "string", "pattern": pattern, "title": name}}


MARKET_PARAMETER = required_query_parameter(
    "country", "The market: an ISO 3166-1 alpha-2 code such as FR, in any letter case.", market_pattern())
TARGET_VIEW_PARAMETER = required_query_parameter(
    "targetView",
    f"One of {', '.join(TARGET_VIEWS)}, in any letter case. Partner Center's other views "
    f"({', '.join(OTHER_PARTNER_CENTER_VIEWS)}) hold none of this catalog's products: an empty collection.",
    any_case_pattern([*TARGET_VIEWS, *OTHER_PARTNER_CENTER_VIEWS]),
)


def documented_query(*parameters: dict[str, Any]) -> dict[str, Any]:
    """A route's `openapi_extra` adding these parameters to those FastAPI documents itself."""
    return {"parameters": list(parameters)}
