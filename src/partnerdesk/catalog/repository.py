"""Every catalog query. The browsing and buying paths are Core selects of the columns they need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from partnerdesk.catalog.models import Availability, CatalogState, Product, Sku
from partnerdesk.catalog.vocabulary import AZURE, TargetView

PRODUCT_COLUMNS = (
    Product.id,
    Product.title,
    Product.description,
    Product.product_type_id,
    Product.sub_type_id,
    Product.publisher,
)
SKU_COLUMNS = (
    Sku.product_id,
    Sku.id,
    Sku.title,
    Sku.description,
    Sku.unit_of_measure,
    Sku.min_quantity,
    Sku.max_quantity,
    Sku.supported_billing_cycles,
    Sku.purchase_prerequisites,
    Sku.provisioning_variables,
    Sku.versions,
    Sku.languages,
    Sku.file_types,
    Sku.arm_sku_name,
    Sku.instance_series,
    Sku.regions,
)
AVAILABILITY_COLUMNS = (
    Availability.product_id,
    Availability.sku_id,
    Availability.id,
    Availability.country,
    Availability.currency,
    Availability.segment,
    Availability.term_duration,
    Availability.billing_plan,
    Availability.unit_price,
    Availability.erp_price,
    Availability.tier_min,
    Availability.tier_max,
    Availability.tags,
    Availability.effective_start,
    Availability.effective_end,
)
# One row per availability with its SKU's and product's columns, labelled so they never clash.
PURCHASABLE_COLUMNS = (
    Product.title.label("product_title"),
    Product.product_type_id,
    Product.sub_type_id,
    Product.publisher,
    Product.description.label("product_description"),
    Sku.title.label("sku_title"),
    Sku.description.label("sku_description"),
    Sku.unit_of_measure,
    Sku.min_quantity,
    Sku.max_quantity,
    Sku.supported_billing_cycles,
    Sku.purchase_prerequisites,
    Sku.provisioning_variables,
    Sku.versions,
    Sku.languages,
    Sku.file_types,
    Sku.arm_sku_name,
    Sku.instance_series,
    Sku.regions,
    Availability.product_id,
    Availability.sku_id,
    Availability.id.label("availability_id"),
    Availability.country,
    Availability.currency,
    Availability.segment,
    Availability.term_duration,
    Availability.billing_plan,
    Availability.unit_price,
    Availability.erp_price,
    Availability.tags,
    Availability.effective_start,
    Availability.effective_end,
)


def in_force(now: datetime) -> ColumnElement[bool]:
    """Prices in force at `now`: start <= now < end (an open end never ends)."""
    return and_(
        Availability.effective_start <= now,
        or_(Availability.effective_end.is_(None), Availability.effective_end > now),
    )


def _purchasable_select() -> Select:
    return (
        select(*PURCHASABLE_COLUMNS)
        .select_from(Availability)
        .join(Sku, and_(Sku.product_id == Availability.product_id, Sku.id == Availability.sku_id))
        .join(Product, Product.id == Availability.product_id)
    )


def _availability_key(
    product_id: str | ColumnElement, sku_id: str | ColumnElement, availability_id: str | ColumnElement
) -> tuple[ColumnElement[bool], ...]:
    return (
        Availability.product_id == product_id,
        Availability.sku_id == sku_id,
        Availability.id == availability_id,
    )


# Built once: every cart line and every checkout line runs it.
_PURCHASABLE_BY_KEY = _purchasable_select().where(
    *_availability_key(bindparam("product_id"), bindparam("sku_id"), bindparam("availability_id"))
)


def purchasable_row(db: Session, product_id: str, sku_id: str, availability_id: str) -> tuple | None:
    """The columns of PURCHASABLE_COLUMNS, by name, for one availability."""
    return db.execute(_PURCHASABLE_BY_KEY, {"product_id": product_id, "sku_id": sku_id,
                                            "availability_id": availability_id}).first()


def _view_filter(view: TargetView) -> list[ColumnElement[bool]]:
    conditions = [Product.product_type_id == view.product_type_id]
    if view.sub_type_id is not None:
        conditions.append(Product.sub_type_id == view.sub_type_id)
    return conditions


def purchasable_rows(
    db: Session,
    *,
    country: str,
    now: datetime,
    view: TargetView | None = None,
    product_ids: Sequence[str] | None = None,
    sku_id: str | None = None,
    include_reserved_instances: bool = True,
) -> Sequence[Row]:
    """Every price in force in `country` at `now`, in catalog order (product title, SKU, availability)."""
    statement = _purchasable_select().where(Availability.country == country, in_force(now))
    if view is not None:
        statement = statement.where(*_view_filter(view))
    if product_ids is not None:
        statement = statement.where(Availability.product_id.in_(product_ids))
    if sku_id is not None:
        statement = statement.where(Availability.sku_id == sku_id)
    if not include_reserved_instances:
        statement = statement.where(Product.product_type_id != AZURE)
    statement = statement.order_by(Product.title, Product.id, Sku.id, Availability.id)
    return db.execute(statement).all()


def _on_sale(country: str, now: datetime, sku_id: ColumnElement | None = None) -> ColumnElement[bool]:
    """An EXISTS for the outer product (or SKU) having a price in force in `country`."""
    conditions = [Availability.product_id == Product.id, Availability.country == country, in_force(now)]
    if sku_id is not None:
        conditions.append(Availability.sku_id == sku_id)
    return exists().where(*conditions)


def products_on_sale(
    db: Session, *, view: TargetView, country: str, now: datetime, offset: int, size: int
) -> tuple[int, Sequence[tuple]]:
    """One page of the products of `view` with a price in force in `country`, and how many there are.

    One statement: the window count rides along with the page, so the EXISTS probe per product runs
    once (a separate COUNT would run it all again). Rows are plain tuples in PRODUCT_COLUMNS order.
    """
    conditions = [*_view_filter(view), _on_sale(country, now)]
    statement = (
        select(*PRODUCT_COLUMNS, func.count().over().label("total"))
        .where(*conditions)
        .order_by(Product.title, Product.id)
        .offset(offset)
        .limit(size)
    )
    rows = db.execute(statement).all()
    if not rows:
        # Past the last page there is no row to carry the count.
        total = db.scalar(select(func.count()).select_from(Product).where(*conditions)) if offset else 0
        return total or 0, []
    return rows[0][-1], [tuple(row)[:-1] for row in rows]


def product_row(db: Session, product_id: str) -> Row | None:
    return db.execute(select(*PRODUCT_COLUMNS).where(Product.id == product_id)).first()


def product_on_sale(db: Session, product_id: str, *, country: str, now: datetime) -> bool:
    return db.scalar(select(_on_sale(country, now)).where(Product.id == product_id)) or False


def skus_of(db: Session, product_id: str, *, country: str | None, now: datetime, sku_id: str | None = None):
    """The SKUs of a product, only those with a price in force in `country` when one is given."""
    statement = select(*SKU_COLUMNS).where(Sku.product_id == product_id)
    if sku_id is not None:
        statement = statement.where(Sku.id == sku_id)
    if country is not None:
        statement = statement.where(
            exists().where(
                Availability.product_id == Sku.product_id,
                Availability.sku_id == Sku.id,
                Availability.country == country,
                in_force(now),
            )
        )
    return db.execute(statement.order_by(Sku.id)).all()


def availabilities_of(
    db: Session, product_id: str, sku_id: str, *, country: str | None, now: datetime | None
) -> Sequence[Row]:
    """A SKU's availabilities: those in force in `country` at `now`, or every one when both are None."""
    statement = select(*AVAILABILITY_COLUMNS).where(
        Availability.product_id == product_id, Availability.sku_id == sku_id
    )
    if country is not None:
        statement = statement.where(Availability.country == country)
    if now is not None:
        statement = statement.where(in_force(now))
    return db.execute(statement.order_by(Availability.id)).all()


def availability_row(db: Session, product_id: str, sku_id: str, availability_id: str) -> Row | None:
    statement = select(*AVAILABILITY_COLUMNS).where(*_availability_key(product_id, sku_id, availability_id))
    return db.execute(statement).first()


# Every purchase line reads it: on the table's columns (see CONTRIBUTING, "How a write is done").
_state = CatalogState.__table__.c
_CATALOG_STAMP = select(_state.epoch, _state.version).where(_state.id == 1)


def catalog_stamp(db: Session) -> tuple[str, int]:
    """The database's (epoch, version): triggers bump the version on every catalog write."""
    row = db.execute(_CATALOG_STAMP).first()
    return (row[0], row[1]) if row else ("", -1)


def next_price_change(db: Session, country: str, now: datetime) -> datetime | None:
    """The first moment after `now` when a price of `country` starts or ends: what is on sale may change."""
    starts = select(func.min(Availability.effective_start)).where(
        Availability.country == country, Availability.effective_start > now
    )
    ends = select(func.min(Availability.effective_end)).where(
        Availability.country == country, Availability.effective_end > now
    )
    moments = [moment for moment in (db.scalar(starts), db.scalar(ends)) if moment is not None]
    return min(moments, default=None)
