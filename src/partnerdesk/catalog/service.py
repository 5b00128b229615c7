"""The catalog's rules: what may be bought, where (rule R1) and at which price in force.

Carts and orders call `resolve_purchasable(...)` for each line; pages and the API browse with
`browse_for_customer(...)`, `products_for_market(...)` and friends. Operators' writes live in
`catalog.admin`, price-list files in `catalog.pricelist`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Row
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.catalog import repository, vocabulary
from partnerdesk.catalog.cache import CATALOG_ITEMS, NOTHING_ON_SALE, PRODUCT_PAGES, ProductsOnSale
from partnerdesk.catalog.errors import (
    AvailabilityNotFound,
    CatalogItemNotFound,
    CountryRequired,
    MalformedCatalogItemId,
    NotInForce,
    NotSoldInMarket,
    ProductNotFound,
    ReservedInstancesNotSold,
    SkuNotFound,
)
from partnerdesk.catalog.vocabulary import ID_PATTERN, TERM_DESCRIPTIONS, is_reserved_instance
from partnerdesk.core.markets import normalise_country
from partnerdesk.core.pagination import Page, PageRequest
from partnerdesk.customers import service as customers
from partnerdesk.policies import service as policies


@dataclass(frozen=True)
class Term:
    duration: str
    description: str


def terms_of(term_duration: str | None) -> tuple[Term, ...]:
    """Partner Center's `terms` list: one term, or none for perpetual software."""
    if not term_duration:
        return ()
    return (Term(term_duration, TERM_DESCRIPTIONS.get(term_duration, term_duration)),)


def availability_title(product_title: str, sku_title: str, term_duration: str | None) -> str:
    """ "Reserved VM Instance, Dsv5 Series, D4s v5, 1 year": product, SKU and term."""
    parts = [product_title, sku_title, *(term.description for term in terms_of(term_duration))]
    return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class PurchasableItem:
    """One catalog item a customer of `country` may buy now, with everything a cart line needs to check."""

    product_id: str
    sku_id: str
    availability_id: str
    catalog_item_id: str
    title: str
    product_title: str
    sku_title: str
    product_type_id: str
    sub_type: str
    is_reserved_instance: bool
    country: str
    segment: str
    # The price of one unit, charged once per `billing_plan` cycle (once for `one_time`).
    unit_price: Decimal
    currency: str
    billing_plan: str
    terms: tuple[Term, ...]
    supported_billing_cycles: tuple[str, ...]
    min_quantity: int
    max_quantity: int
    provisioning_variables: tuple[str, ...]
    purchase_prerequisites: tuple[str, ...]
    # Software: the choices for keys and downloads (rule R3).
    versions: tuple[str, ...]
    languages: tuple[str, ...]
    file_types: tuple[str, ...]
    # Reserved Instances: VM size and series and where it can be reserved (rule R8).
    arm_sku_name: str
    instance_series: str
    regions: tuple[str, ...]
    unit_of_measure: str
    publisher: str
    effective_start: datetime
    effective_end: datetime | None

    @property
    def term_duration(self) -> str | None:
        return self.terms[0].duration if self.terms else None

    @property
    def arm_region_name(self) -> str | None:
        """The region of a per-region Reserved Instance SKU (Partner Center's shape), None for a multi-region one."""
        return arm_region_name(self.regions)

    @property
    def billing_cycles(self) -> tuple[str, ...]:
        """The cycles a cart line of this availability may be billed in: its own billing plan only.

        `unit_price` is the price of one `billing_plan` cycle, so a monthly price bought `one_time`
        would sell a 3-year reservation for one month's price (the SKU's `supported_billing_cycles`
        lists the plans of all its availabilities, not of this one).
        """
        return (self.billing_plan,)


def arm_region_name(regions: Sequence[str]) -> str | None:
    """A SKU whose region list holds one region is sold the Partner Center way: that region is the SKU's."""
    return regions[0] if regions and len(regions) == 1 else None


# Azure's VM size names: a tier, then family letters and the vCPU count, then an optional constrained count
# ("Standard_E4-2s_v5" runs 2 of the 4 vCPUs of an E4s_v5), then features and version.
_VM_SIZE = re.compile(r"^(?:Standard|Basic)_[A-Z]+(\d+)(?:-(\d+))?", re.IGNORECASE)


def vm_cores(arm_sku_name: str) -> int | None:
    """The vCPUs of a VM size, read from its ARM name as Azure's naming convention writes them; None otherwise."""
    match = _VM_SIZE.match(arm_sku_name or "")
    if match is None:
        return None
    return int(match.group(2) or match.group(1))


def purchasable_of(row: Row) -> PurchasableItem:
    return PurchasableItem(
        product_id=row.product_id,
        sku_id=row.sku_id,
        availability_id=row.availability_id,
        catalog_item_id=f"{row.product_id}:{row.sku_id}:{row.availability_id}",
        title=availability_title(row.product_title, row.sku_title, row.term_duration),
        product_title=row.product_title,
        sku_title=row.sku_title,
        product_type_id=row.product_type_id,
        sub_type=row.sub_type_id,
        is_reserved_instance=is_reserved_instance(row.product_type_id),
        country=row.country,
        segment=row.segment,
        unit_price=row.unit_price,
        currency=row.currency,
        billing_plan=row.billing_plan,
        terms=terms_of(row.term_duration),
        supported_billing_cycles=tuple(row.supported_billing_cycles),
        min_quantity=row.min_quantity,
        max_quantity=row.max_quantity,
        provisioning_variables=tuple(row.provisioning_variables),
        purchase_prerequisites=tuple(row.purchase_prerequisites),
        versions=tuple(row.versions),
        languages=tuple(row.languages),
        file_types=tuple(row.file_types),
        arm_sku_name=row.arm_sku_name,
        instance_series=row.instance_series,
        regions=tuple(row.regions),
        unit_of_measure=row.unit_of_measure,
        publisher=row.publisher,
        effective_start=row.effective_start,
        effective_end=row.effective_end,
    )


def parse_catalog_item_id(catalog_item_id: str, *, field: str = "catalogItemId") -> tuple[str, str, str]:
    """`productId:skuId:availabilityId` split in three, or a 400 saying what the shape is."""
    parts = catalog_item_id.strip().split(":") if isinstance(catalog_item_id, str) else []
    if len(parts) != 3 or not all(ID_PATTERN.match(part) for part in parts):
        raise MalformedCatalogItemId(
            f"{field}: '{catalog_item_id}' is not a catalog item id; it reads "
            "productId:skuId:availabilityId, as in DZH318Z0BXQ7:0001:0003.",
            [field],
        )
    return parts[0], parts[1], parts[2]


def market(country: str | None, *, field: str = "country") -> str:
    """A required market code, normalised (400 when missing or not a country)."""
    if country is None or not country.strip():
        raise CountryRequired(
            f"{field} is required: the market, an ISO 3166-1 alpha-2 code such as FR.", [field]
        )
    return normalise_country(country, field=field)


def reserved_instances_sold_in(db: Session, country: str) -> bool:
    """Rule R1, read from the operator's policy on every call (a change takes effect at once)."""
    return country not in policies.ri_excluded_markets(db)


def is_purchasable(db: Session, *, product_type_id: str, availability: Row, now: datetime) -> bool:
    """Whether an availability may be bought now: its price in force, and rule R1 allowing it in its market."""
    in_force = availability.effective_start <= now and (
        availability.effective_end is None or now < availability.effective_end)
    return in_force and (not is_reserved_instance(product_type_id)
                         or reserved_instances_sold_in(db, availability.country))


def check_reserved_instances_sold_in(db: Session, country: str) -> None:
    if not reserved_instances_sold_in(db, country):
        raise ReservedInstancesNotSold.for_market(country)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_purchasable(
    db: Session, *, catalog_item_id: str, country: str, now: datetime
) -> PurchasableItem:
    """The catalog item a customer of `country` would buy at `now`, or the reason it cannot be bought.

    Raises MalformedCatalogItemId (400, 2020), CatalogItemNotFound (404, 2003),
    ReservedInstancesNotSold (400, 2104: rule R1, naming the market), NotSoldInMarket (400, 2102: the
    price is another market's) or NotInForce (400, 2103: the price has not started or has ended).
    """
    product_id, sku_id, availability_id = parse_catalog_item_id(catalog_item_id)
    country = normalise_country(country)
    def load() -> PurchasableItem | None:
        row = repository.purchasable_row(db, product_id, sku_id, availability_id)
        return None if row is None else purchasable_of(row)

    item = CATALOG_ITEMS.get(db, (product_id, sku_id, availability_id), load)
    if item is None:
        raise CatalogItemNotFound(f"No catalog item {catalog_item_id}.", [catalog_item_id])
    if item.is_reserved_instance:
        check_reserved_instances_sold_in(db, country)
    if item.country != country:
        raise NotSoldInMarket(
            f"Catalog item {item.catalog_item_id} is priced for market {item.country}, not {country}; "
            f"choose an availability of market {country}.",
            [item.catalog_item_id, country],
        )
    if item.effective_start > now:
        raise NotInForce(
            f"Catalog item {item.catalog_item_id} is not on sale yet: its price takes effect at "
            f"{_when(item.effective_start)}.",
            [item.catalog_item_id],
        )
    if item.effective_end is not None and item.effective_end <= now:
        raise NotInForce(
            f"Catalog item {item.catalog_item_id} is no longer on sale: its price ended at "
            f"{_when(item.effective_end)}.",
            [item.catalog_item_id],
        )
    return item


# Browsing: what the API's GETs and the portal's pages show.


@dataclass(frozen=True)
class ProductList:
    """A page of products on sale: the page (for its links), the market, and the products (which keep their JSON)."""

    page: Page
    country: str
    products: ProductsOnSale


def products_for_market(
    db: Session, *, country: str | None, target_view: str | None, now: datetime, page: PageRequest
) -> ProductList:
    """One page of the products of a target view on sale in a market now; none that R1 forbids there."""
    view = vocabulary.target_view(target_view)
    country = market(country)
    if not view.product_type_id or (
            is_reserved_instance(view.product_type_id) and not reserved_instances_sold_in(db, country)):
        products = NOTHING_ON_SALE
    else:
        products = PRODUCT_PAGES.page(db, view=view, country=country, now=now, offset=page.offset, size=page.size)
    return ProductList(Page(total_count=products.total, rows=products.rows, offset=page.offset, size=page.size),
                       country, products)


def get_product(db: Session, *, product_id: str, country: str | None = None, now: datetime) -> Row:
    """A product; with a country, only if it is on sale there now (and R1 allows it)."""
    row = repository.product_row(db, product_id)
    if row is None:
        raise ProductNotFound(f"No product with id {product_id}.", [product_id])
    if country is not None:
        country = market(country)
        if is_reserved_instance(row.product_type_id):
            check_reserved_instances_sold_in(db, country)
        if not repository.product_on_sale(db, product_id, country=country, now=now):
            raise ProductNotFound(
                f"Product {product_id} is not on sale in market {country}.", [product_id, country]
            )
    return row


def list_skus(
    db: Session, *, product_id: str, country: str | None, now: datetime
) -> tuple[Row, Sequence[Row]]:
    """A product and its SKUs on sale in `country` now."""
    country = market(country)
    product = get_product(db, product_id=product_id, country=None, now=now)
    if is_reserved_instance(product.product_type_id):
        check_reserved_instances_sold_in(db, country)
    return product, repository.skus_of(db, product_id, country=country, now=now)


def get_sku(
    db: Session, *, product_id: str, sku_id: str, country: str | None = None, now: datetime
) -> tuple[Row, Row]:
    """A product and one of its SKUs; with a country, only if that SKU is on sale there now."""
    product = get_product(db, product_id=product_id, country=None, now=now)
    if country is not None:
        country = market(country)
        if is_reserved_instance(product.product_type_id):
            check_reserved_instances_sold_in(db, country)
    rows = repository.skus_of(db, product_id, country=country, now=now, sku_id=sku_id)
    if not rows:
        where = f" on sale in market {country}" if country else ""
        raise SkuNotFound(f"Product {product_id} has no SKU {sku_id}{where}.", [sku_id])
    return product, rows[0]


def list_availabilities(
    db: Session, *, product_id: str, sku_id: str, country: str | None, now: datetime
) -> tuple[Row, Row, Sequence[Row]]:
    """A SKU's prices in force in `country` now, with its product and SKU rows (for titles)."""
    country = market(country)
    product, sku = get_sku(db, product_id=product_id, sku_id=sku_id, now=now)
    if is_reserved_instance(product.product_type_id):
        check_reserved_instances_sold_in(db, country)
    return product, sku, repository.availabilities_of(db, product_id, sku_id, country=country, now=now)


def get_availability(
    db: Session, *, product_id: str, sku_id: str, availability_id: str, now: datetime
) -> tuple[Row, Row, Row]:
    """One availability by id, whatever its market and dates (a catalogItemId names it for good)."""
    product, sku = get_sku(db, product_id=product_id, sku_id=sku_id, now=now)
    row = repository.availability_row(db, product_id, sku_id, availability_id)
    if row is None:
        raise AvailabilityNotFound(
            f"SKU {product_id}:{sku_id} has no availability {availability_id}.", [availability_id]
        )
    return product, sku, row


# A customer's catalog: the customer's market decides, and the caller must be allowed to see the customer.


def customer_market(db: Session, *, principal: Principal, customer_id: str) -> str:
    # The purchase path's plain read of the customer (same visibility rule): loading the whole row into the
    # ORM cost as much as the rest of a catalog request.
    return customers.get_customer_ref(db, principal=principal, customer_id=customer_id).country


def products_for_customer(
    db: Session,
    *,
    principal: Principal,
    customer_id: str,
    target_view: str | None,
    now: datetime,
    page: PageRequest,
) -> ProductList:
    """One page of the products of a view the customer may buy now, in the customer's market."""
    vocabulary.target_view(target_view)
    country = customer_market(db, principal=principal, customer_id=customer_id)
    return products_for_market(db, country=country, target_view=target_view, now=now, page=page)


@dataclass(frozen=True)
class CustomerCatalog:
    """Everything a customer may buy now in one target view, priced in the customer's market."""

    customer_id: str
    country: str
    target_view: str
    # True when the view is Reserved Instances and R1 forbids them in the customer's market.
    hidden_by_rule_r1: bool
    items: tuple[PurchasableItem, ...]

    def by_product(self) -> list[tuple[str, str, list[PurchasableItem]]]:
        """(product id, product title, its items) in catalog order: one block per product on a page."""
        groups: dict[str, list[PurchasableItem]] = {}
        for item in self.items:
            groups.setdefault(item.product_id, []).append(item)
        return [(product_id, items[0].product_title, items) for product_id, items in groups.items()]


def browse_for_customer(
    db: Session,
    *,
    principal: Principal,
    customer_id: str,
    target_view: str | None,
    now: datetime,
    product_id: str | None = None,
) -> CustomerCatalog:
    """Every purchasable item (product, SKU, term, price) of a view for one customer; for pages."""
    view = vocabulary.target_view(target_view)
    country = customer_market(db, principal=principal, customer_id=customer_id)
    hidden = is_reserved_instance(view.product_type_id) and not reserved_instances_sold_in(db, country)
    rows = (
        []
        if hidden
        else repository.purchasable_rows(
            db, country=country, now=now, view=view, product_ids=[product_id] if product_id else None
        )
    )
    return CustomerCatalog(
        customer_id=customer_id,
        country=country,
        target_view=view.name,
        hidden_by_rule_r1=hidden,
        items=tuple(purchasable_of(row) for row in rows),
    )


@dataclass(frozen=True)
class SoftwareChoices:
    """What an admin agent picks among for a software SKU's keys and downloads (rule R3)."""

    product_id: str
    sku_id: str
    product_title: str
    sku_title: str
    is_software: bool
    versions: tuple[str, ...]
    languages: tuple[str, ...]
    file_types: tuple[str, ...]


def software_choices(db: Session, *, product_id: str, sku_id: str) -> SoftwareChoices:
    """A SKU's selectable versions, languages and file types, whether or not it is on sale now."""
    product = repository.product_row(db, product_id)
    rows = repository.skus_of(db, product_id, country=None, now=None, sku_id=sku_id) if product else []
    if product is None:
        raise ProductNotFound(f"No product with id {product_id}.", [product_id])
    if not rows:
        raise SkuNotFound(f"Product {product_id} has no SKU {sku_id}.", [sku_id])
    sku = rows[0]
    return SoftwareChoices(
        product_id=product_id, sku_id=sku_id, product_title=product.title, sku_title=sku.title,
        is_software=not is_reserved_instance(product.product_type_id), versions=tuple(sku.versions or ()),
        languages=tuple(sku.languages or ()), file_types=tuple(sku.file_types or ()),
    )
