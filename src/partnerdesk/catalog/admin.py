"""The operator's catalog writes: products, SKUs and prices, each recorded in the activity log.

Nothing is ever deleted once it may have been sold: withdrawing ends the prices in force now (and
drops those that never took effect), so catalog item ids on past orders keep their meaning.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.catalog import validation
from partnerdesk.catalog.errors import (
    AvailabilityExists,
    AvailabilityNotFound,
    InvalidCatalogEntry,
    ProductExists,
    ProductNotFound,
    ProductTypeChange,
    SkuExists,
    SkuNotFound,
)
from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.catalog.schemas import (
    AvailabilityIn,
    AvailabilityUpdate,
    ItemTypeIn,
    ProductIn,
    ProductUpdate,
    SkuIn,
    SkuUpdate,
)
from partnerdesk.catalog.vocabulary import (
    BILLING_CYCLES,
    RESERVED_INSTANCE_PREREQUISITES,
    RESERVED_INSTANCE_PROVISIONING,
    is_reserved_instance,
    ordered_cycles,
)
from partnerdesk.core.markets import normalise_culture
from partnerdesk.core.money import money_str

PROVISIONING_VARIABLES = ("Scope", "SubscriptionId", "Duration")
PURCHASE_PREREQUISITES = ("InventoryCheck", "AzureSubscriptionRegistration")
_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def _record(
    db: Session,
    principal: Principal | None,
    now: datetime,
    action: str,
    object_id: str,
    request_id: str | None,
    details: dict[str, Any],
) -> None:
    object_type = action.split(".")[0]
    audit.record(
        db,
        principal=principal,
        now=now,
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=request_id,
        details=details,
    )


def _product_type(item_type: ItemTypeIn) -> tuple[str, str]:
    if item_type.sub_type is None:
        raise InvalidCatalogEntry(
            'productType.subType is required, as in {"id": "Perpetual"}.', ["productType.subType"]
        )
    return validation.product_type(item_type.id, item_type.sub_type.id)


def _product(db: Session, product_id: str) -> Product:
    product = db.get(Product, product_id)
    if product is None:
        raise ProductNotFound(f"No product with id {product_id}.", [product_id])
    return product


def _sku(db: Session, product_id: str, sku_id: str) -> Sku:
    sku = db.get(Sku, (product_id, sku_id))
    if sku is None:
        raise SkuNotFound(f"Product {product_id} has no SKU {sku_id}.", [sku_id])
    return sku


def _availability(db: Session, product_id: str, sku_id: str, availability_id: str) -> Availability:
    availability = db.get(Availability, (product_id, sku_id, availability_id))
    if availability is None:
        raise AvailabilityNotFound(
            f"SKU {product_id}:{sku_id} has no availability {availability_id}.", [availability_id]
        )
    return availability


def new_product_id(db: Session) -> str:
    """A fresh 12-character id in Partner Center's style ("DG7GMGF0DVT5")."""
    while True:
        candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
        if db.get(Product, candidate) is None:
            return candidate


def _next_number(existing: list[str]) -> str:
    numbers = [int(item) for item in existing if item.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def _product_fields(data: ProductUpdate) -> dict[str, Any]:
    type_id, sub_type_id = _product_type(data.product_type)
    return {
        "title": validation.text(data.title, "title", limit=200),
        "description": validation.text(data.description, "description", limit=4000, required=False, multiline=True),
        "publisher": validation.text(data.publisher, "publisher", limit=200, required=False),
        "product_type_id": type_id,
        "sub_type_id": sub_type_id,
    }


def create_product(
    db: Session,
    *,
    data: ProductIn,
    principal: Principal | None,
    now: datetime,
    request_id: str | None = None,
) -> Product:
    fields = _product_fields(data)
    product_id = validation.catalog_id(data.id, "id") if data.id else new_product_id(db)
    if db.get(Product, product_id) is not None:
        raise ProductExists(f"A product with id {product_id} already exists.", [product_id])
    product = Product(id=product_id, created_at=now, updated_at=now, **fields)
    db.add(product)
    db.flush()
    _record(db, principal, now, "product.created", product_id, request_id, fields)
    return product


def update_product(
    db: Session,
    *,
    product_id: str,
    data: ProductUpdate,
    principal: Principal | None,
    now: datetime,
    request_id: str | None = None,
) -> Product:
    product = _product(db, product_id)
    fields = _product_fields(data)
    if fields["product_type_id"] != product.product_type_id:
        # Prices and terms follow the type's rules (R8's terms for RIs): a new type is a new product.
        raise ProductTypeChange(
            f"Product {product_id} is {product.product_type_id}; it cannot become "
            f"{fields['product_type_id']}. Create a new product instead.",
            ["productType"],
        )
    if fields["sub_type_id"] != product.sub_type_id:
        _check_terms_fit(db, product_id, fields["product_type_id"], fields["sub_type_id"])
    old = {key: getattr(product, key) for key in fields}
    for key, value in fields.items():
        setattr(product, key, value)
    product.updated_at = now
    db.flush()
    _record(db, principal, now, "product.updated", product_id, request_id, {"old": old, "new": fields})
    return product


def _check_terms_fit(db: Session, product_id: str, type_id: str, sub_type_id: str) -> None:
    terms = db.scalars(
        select(Availability.term_duration).where(Availability.product_id == product_id).distinct()
    ).all()
    for term in terms:
        validation.term(type_id, sub_type_id, term, field="productType.subType")


def _languages(languages: list[str]) -> list[str]:
    return [normalise_culture(language, field="dynamicAttributes.languages") for language in languages]


def _words(
    values: list[str] | None, allowed: tuple[str, ...], default: tuple[str, ...], field: str
) -> list[str]:
    if values is None:
        return list(default)
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise InvalidCatalogEntry(
            f"{field}: {', '.join(unknown)} not known; use any of: {', '.join(allowed)}.", [field]
        )
    return list(dict.fromkeys(values))


def _sku_fields(product: Product, data: SkuUpdate) -> dict[str, Any]:
    validation.quantities(data.minimum_quantity, data.maximum_quantity)
    cycles = [
        validation.billing_plan(cycle, "supportedBillingCycles") for cycle in data.supported_billing_cycles
    ]
    reserved = is_reserved_instance(product.product_type_id)
    attributes = data.dynamic_attributes
    return {
        "title": validation.text(data.title, "title", limit=200),
        "description": validation.text(data.description, "description", limit=4000, required=False, multiline=True),
        "unit_of_measure": validation.text(data.unit_of_measure, "unitOfMeasure", limit=60, required=False),
        "min_quantity": data.minimum_quantity,
        "max_quantity": data.maximum_quantity,
        "supported_billing_cycles": ordered_cycles(cycles),
        "purchase_prerequisites": _words(
            data.purchase_prerequisites,
            PURCHASE_PREREQUISITES,
            RESERVED_INSTANCE_PREREQUISITES if reserved else (),
            "purchasePrerequisites",
        ),
        "provisioning_variables": _words(
            data.provisioning_variables,
            PROVISIONING_VARIABLES,
            RESERVED_INSTANCE_PROVISIONING if reserved else (),
            "provisioningVariables",
        ),
        "versions": [
            validation.text(item, "dynamicAttributes.versions", limit=100) for item in attributes.versions
        ],
        "languages": _languages(attributes.languages),
        "file_types": [
            validation.text(item, "dynamicAttributes.fileTypes", limit=60) for item in attributes.file_types
        ],
        "arm_sku_name": validation.text(attributes.arm_sku_name, "armSkuName", limit=80, required=False),
        "instance_series": validation.text(
            attributes.instance_series, "instanceSeries", limit=80, required=False
        ),
        "regions": [
            validation.text(item, "dynamicAttributes.regions", limit=60).lower()
            for item in attributes.regions
        ],
    }


def create_sku(
    db: Session,
    *,
    product_id: str,
    data: SkuIn,
    principal: Principal | None,
    now: datetime,
    request_id: str | None = None,
) -> Sku:
    product = _product(db, product_id)
    fields = _sku_fields(product, data)
    if data.id:
        sku_id = validation.catalog_id(data.id, "id")
    else:
        sku_id = _next_number(list(db.scalars(select(Sku.id).where(Sku.product_id == product_id))))
    if db.get(Sku, (product_id, sku_id)) is not None:
        raise SkuExists(f"Product {product_id} already has a SKU {sku_id}.", [sku_id])
    sku = Sku(product_id=product_id, id=sku_id, created_at=now, updated_at=now, **fields)
    db.add(sku)
    product.updated_at = now
    db.flush()
    _record(db, principal, now, "sku.created", f"{product_id}:{sku_id}", request_id, fields)
    return sku


def update_sku(
    db: Session,
    *,
    product_id: str,
    sku_id: str,
    data: SkuUpdate,
    principal: Principal | None,
    now: datetime,
    request_id: str | None = None,
) -> Sku:
    product = _product(db, product_id)
    sku = _sku(db, product_id, sku_id)
    fields = _sku_fields(product, data)
    priced_cycles = set(
        db.scalars(
            select(Availability.billing_plan).where(
                Availability.product_id == product_id, Availability.sku_id == sku_id
            )
        )
    )
    missing = [
        cycle
        for cycle in BILLING_CYCLES
        if cycle in priced_cycles - set(fields["supported_billing_cycles"])
    ]
    if missing:
        raise InvalidCatalogEntry(
            f"supportedBillingCycles: prices of this SKU are billed {', '.join(missing)}; keep "
            f"{'it' if len(missing) == 1 else 'them'} in the list.",
            ["supportedBillingCycles"],
        )
    old = {key: getattr(sku, key) for key in fields}
    for key, value in fields.items():
        setattr(sku, key, value)
    sku.updated_at = now
    db.flush()
    _record(
        db, principal, now, "sku.updated", f"{product_id}:{sku_id}", request_id, {"old": old, "new": fields}
    )
    return sku


def _price_fields(sku: Sku, data: AvailabilityUpdate, *, start_default: datetime) -> dict[str, Any]:
    currency = validation.currency(data.currency)
    cycle = validation.billing_plan(data.billing_plan)
    if cycle not in sku.supported_billing_cycles:
        raise InvalidCatalogEntry(
            f"billingPlan: SKU {sku.product_id}:{sku.id} is billed "
            f"{', '.join(sku.supported_billing_cycles)}, not {cycle}.",
            ["billingPlan"],
        )
    start = data.effective_start_date or start_default
    end = data.effective_end_date
    validation.period(start, end)
    return {
        "currency": currency,
        "unit_price": validation.price(data.unit_price, "unitPrice"),
        "erp_price": validation.price(data.erp_price, "erpPrice") if data.erp_price else None,
        "billing_plan": cycle,
        "tags": validation.text(data.tags, "tags", limit=200, required=False),
        "effective_start": start,
        "effective_end": end,
    }


def _audit_view(fields: dict[str, Any]) -> dict[str, Any]:
    """Prices as their wire strings and dates in ISO form, so the activity log stays plain JSON."""
    view: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, Decimal):
            value = money_str(value, fields.get("currency", "USD"))
        elif isinstance(value, datetime):
            value = value.isoformat()
        view[key] = value
    return view


def create_availability(
    db: Session,
    *,
    product_id: str,
    sku_id: str,
    data: AvailabilityIn,
    principal: Principal | None,
    now: datetime,
    request_id: str | None = None,
) -> Availability:
    product = _product(db, product_id)
    sku = _sku(db, product_id, sku_id)
    fields = _price_fields(sku, data, start_default=now)
    fields["country"] = validation.market(data.country)
    fields["segment"] = validation.segment(data.segment)
    fields["term_duration"] = validation.term(
        product.product_type_id, product.sub_type_id, data.terms[0].duration if data.terms else None
    )
    validation.plan_fits_term(fields["billing_plan"], fields["term_duration"])
    if data.id:
        availability_id = validation.catalog_id(data.id, "id")
    else:
        existing = db.scalars(
            select(Availability.id).where(
                Availability.product_id == product_id, Availability.sku_id == sku_id
            )
        ).all()
        availability_id = _next_number(list(existing))
    if db.get(Availability, (product_id, sku_id, availability_id)) is not None:
        raise AvailabilityExists(
            f"SKU {product_id}:{sku_id} already has an availability {availability_id}.", [availability_id]
        )
    availability = Availability(
        product_id=product_id, sku_id=sku_id, id=availability_id, updated_at=now, **fields
    )
    db.add(availability)
    db.flush()
    _record(
        db,
        principal,
        now,
        "availability.created",
        availability.catalog_item_id,
        request_id,
        _audit_view(fields),
    )
    return availability


def update_availability(
    db: Session,
    *,
    product_id: str,
    sku_id: str,
    availability_id: str,
    data: AvailabilityUpdate,
    principal: Principal | None,
    now: datetime,
    request_id: str | None = None,
) -> Availability:
    """New price, currency, billing plan or dates for one availability (its market and term stay)."""
    _product(db, product_id)
    sku = _sku(db, product_id, sku_id)
    availability = _availability(db, product_id, sku_id, availability_id)
    fields = _price_fields(sku, data, start_default=availability.effective_start)
    validation.plan_fits_term(fields["billing_plan"], availability.term_duration)
    old = _audit_view({key: getattr(availability, key) for key in fields})
    for key, value in fields.items():
        setattr(availability, key, value)
    availability.updated_at = now
    db.flush()
    _record(
        db,
        principal,
        now,
        "availability.updated",
        availability.catalog_item_id,
        request_id,
        {"old": old, "new": _audit_view(fields)},
    )
    return availability


def withdraw(
    db: Session,
    *,
    product_id: str,
    sku_id: str | None = None,
    availability_id: str | None = None,
    principal: Principal | None,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, int]:
    """Ends prices in force (end = now) and drops prices not yet in force, of a product, SKU or one price."""
    _product(db, product_id)
    if sku_id is not None:
        _sku(db, product_id, sku_id)
    if availability_id is not None:
        _availability(db, product_id, sku_id or "", availability_id)
    scope = [Availability.product_id == product_id]
    if sku_id is not None:
        scope.append(Availability.sku_id == sku_id)
    if availability_id is not None:
        scope.append(Availability.id == availability_id)
    dropped = (
        db.execute(delete(Availability).where(*scope, Availability.effective_start > now)).rowcount or 0
    )
    ended = (
        db.execute(
            update(Availability)
            .where(*scope, (Availability.effective_end.is_(None)) | (Availability.effective_end > now))
            .values(effective_end=now, updated_at=now)
        ).rowcount
        or 0
    )
    remaining = db.scalar(select(func.count()).select_from(Availability).where(*scope)) or 0
    target = ":".join(part for part in (product_id, sku_id, availability_id) if part)
    kind = "availability" if availability_id else "sku" if sku_id else "product"
    counts = {"ended": ended, "dropped": dropped, "kept": remaining}
    _record(db, principal, now, f"{kind}.withdrawn", target, request_id, counts)
    return counts
