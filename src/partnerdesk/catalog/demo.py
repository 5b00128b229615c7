"""Demo catalog: Windows Server and SQL Server licences, and Azure Reserved VM and SQL instances.

Priced in seven markets, Reserved Instances included in BR and IN: there the price data exists and
only rule R1 keeps them out of the catalog. Reserved Instances are sold as Partner Center sells them,
one SKU per size and Azure region (the SKU's `regions` holds that one region, its `armRegionName`), so
a cart line needs no region. Idempotent: only what is missing is added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.catalog.vocabulary import (
    AZURE,
    RESERVED_INSTANCE_PREREQUISITES,
    RESERVED_INSTANCE_PROVISIONING,
    SOFTWARE,
)
from partnerdesk.core.money import round_to_currency

PUBLISHER = "Microsoft Corporation"
# Market, currency, and the rate from the base price (USD for software, EUR for Reserved Instances).
MARKETS = (
    ("US", "USD", Decimal("1"), Decimal("1.08")),
    ("FR", "EUR", Decimal("0.93"), Decimal("1")),
    ("DE", "EUR", Decimal("0.93"), Decimal("1")),
    ("GB", "GBP", Decimal("0.80"), Decimal("0.86")),
    ("BR", "BRL", Decimal("5.00"), Decimal("5.40")),
    ("IN", "INR", Decimal("83"), Decimal("90")),
    ("JP", "JPY", Decimal("150"), Decimal("160")),
)
LANGUAGES = ["en-US", "fr-FR"]
FILE_TYPES = ["ISO x64", "VHD x64"]
# Where each Reserved Instance size is sold: one SKU per (size, region), numbered region by region, so
# the sizes of a product in westeurope keep the first ids ("0001" is the D4s v5 of DESIGN.md's example).
RI_REGIONS = [
    "westeurope",
    "northeurope",
    "francecentral",
    "germanywestcentral",
    "uksouth",
    "eastus",
    "westus2",
    "brazilsouth",
    "centralindia",
    "japaneast",
]


@dataclass(frozen=True)
class DemoSku:
    id: str
    title: str
    base_price: Decimal
    versions: tuple[str, ...] = ()
    arm_sku_name: str = ""


@dataclass(frozen=True)
class DemoProduct:
    id: str
    title: str
    description: str
    type_id: str
    sub_type_id: str
    skus: tuple[DemoSku, ...]
    unit_of_measure: str = ""
    instance_series: str = ""


def _software(
    product_id: str,
    name: str,
    editions: tuple[tuple[str, str, str], ...],
    versions: tuple[str, ...],
    pack: str,
) -> DemoProduct:
    skus = tuple(
        DemoSku(sku_id, f"{name} {edition} - {pack}", Decimal(price), versions)
        for sku_id, edition, price in editions
    )
    return DemoProduct(
        product_id,
        name,
        f"{name} licences, perpetual, with downgrade rights.",
        SOFTWARE,
        "Perpetual",
        skus,
        unit_of_measure=pack,
    )


PRODUCTS = (
    _software(
        "DG7GMGF0DVT5",
        "Windows Server 2022",
        (("0001", "Standard", "1069"), ("0002", "Datacenter", "6155")),
        ("2022", "2019"),
        "16 Core License Pack",
    ),
    _software(
        "DG7GMGF0DVSV",
        "Windows Server 2019",
        (("0001", "Standard", "972"), ("0002", "Datacenter", "6155")),
        ("2019", "2016"),
        "16 Core License Pack",
    ),
    _software(
        "DG7GMGF0FKZV",
        "SQL Server 2022",
        (("0001", "Standard", "3945"), ("0002", "Enterprise", "15123")),
        ("2022", "2019"),
        "2 Core License Pack",
    ),
    _software(
        "DG7GMGF0FLR2",
        "SQL Server 2019",
        (("0001", "Standard", "3717"), ("0002", "Enterprise", "13748")),
        ("2019", "2017"),
        "2 Core License Pack",
    ),
    DemoProduct(
        "DG7GMGF0M80J",
        "SQL Server 2022 Standard subscription",
        "SQL Server 2022 Standard, two cores, as a one-year subscription.",
        SOFTWARE,
        "Subscription",
        (DemoSku("0001", "SQL Server 2022 Standard - 2 Core - 1 year", Decimal("1418"), ("2022",)),),
        unit_of_measure="2 Core License Pack",
    ),
    DemoProduct(
        "DZH318Z0BXQ7",
        "Reserved VM Instance, Dsv5 Series",
        "General purpose virtual machines, reserved for one or three years.",
        AZURE,
        "VirtualMachines",
        (
            DemoSku("0001", "D4s v5", Decimal("1234.56"), arm_sku_name="Standard_D4s_v5"),
            DemoSku("0002", "D2s v5", Decimal("617.28"), arm_sku_name="Standard_D2s_v5"),
        ),
        unit_of_measure="1 instance",
        instance_series="Dsv5 Series",
    ),
    DemoProduct(
        "DZH318Z0BXR1",
        "Reserved VM Instance, Esv5 Series",
        "Memory optimised virtual machines, reserved for one or three years.",
        AZURE,
        "VirtualMachines",
        (DemoSku("0001", "E8s v5", Decimal("3209.86"), arm_sku_name="Standard_E8s_v5"),),
        unit_of_measure="1 instance",
        instance_series="Esv5 Series",
    ),
    DemoProduct(
        # Not DZH318Z0BPS6: that is the Azure plan's product id in Partner Center (reservations.models).
        "DZH318Z0BQ4R",
        "SQL Database Reserved vCore, General Purpose Gen5",
        "Azure SQL Database compute, reserved for one or three years.",
        AZURE,
        "SQL",
        (DemoSku("0001", "8 vCore", Decimal("4870.40"), arm_sku_name="SQLDB_GP_Compute_Gen5"),),
        unit_of_measure="1 vCore pack",
        instance_series="General Purpose Gen5",
    ),
)


def ri_sku_id(product: DemoProduct, size_index: int, region_index: int) -> str:
    """The 4-digit SKU id of one size in one region (Partner Center's SKU ids are 4 letters or digits)."""
    return f"{region_index * len(product.skus) + size_index + 1:04d}"


def catalog_skus(product: DemoProduct) -> list[tuple[DemoSku, str]]:
    """The product's SKUs as the catalog holds them, each with its region ("" for software).

    A Reserved Instance size becomes one SKU per region, with the id `ri_sku_id` gives it.
    """
    if product.type_id != AZURE:
        return [(demo, "") for demo in product.skus]
    return [
        (replace(demo, id=ri_sku_id(product, size_index, region_index)), region)
        for region_index, region in enumerate(RI_REGIONS)
        for size_index, demo in enumerate(product.skus)
    ]


def _sku(product: DemoProduct, demo: DemoSku, region: str, now: datetime) -> Sku:
    reserved = product.type_id == AZURE
    if reserved:
        cycles = ["one_time", "monthly"]
    else:
        cycles = ["annual"] if product.sub_type_id == "Subscription" else ["one_time"]
    return Sku(
        product_id=product.id,
        id=demo.id,
        title=demo.title,
        description=f"{product.title}: {demo.title}" + (f", reserved in {region}." if reserved else "."),
        unit_of_measure=product.unit_of_measure,
        min_quantity=1,
        max_quantity=100 if reserved else 1000,
        supported_billing_cycles=cycles,
        purchase_prerequisites=list(RESERVED_INSTANCE_PREREQUISITES) if reserved else [],
        provisioning_variables=list(RESERVED_INSTANCE_PROVISIONING) if reserved else [],
        versions=list(demo.versions),
        languages=[] if reserved else LANGUAGES,
        file_types=[] if reserved else FILE_TYPES,
        arm_sku_name=demo.arm_sku_name,
        instance_series=product.instance_series,
        regions=[region] if reserved else [],
        created_at=now,
        updated_at=now,
    )


def _prices(product: DemoProduct, demo: DemoSku) -> list[tuple[str, str, str | None, str, Decimal]]:
    """(market, currency, term, billing plan, price) in availability-id order.

    Reserved Instances: every market's P1Y and P3Y upfront prices first, then the monthly ones, so
    the D4s v5 one-year upfront price in FR is DZH318Z0BXQ7:0001:0003, as in DESIGN.md's example.
    """
    if product.type_id != AZURE:
        term, plan = ("P1Y", "annual") if product.sub_type_id == "Subscription" else (None, "one_time")
        return [
            (country, currency, term, plan, round_to_currency(demo.base_price * rate, currency))
            for country, currency, rate, _ri_rate in MARKETS
        ]
    upfront = []
    monthly = []
    for country, currency, _rate, ri_rate in MARKETS:
        for term, factor, months in (("P1Y", Decimal("1"), 12), ("P3Y", Decimal("2.1"), 36)):
            price = round_to_currency(demo.base_price * factor * ri_rate, currency)
            upfront.append((country, currency, term, "one_time", price))
            monthly.append(
                (country, currency, term, "monthly", round_to_currency(price / months, currency))
            )
    return upfront + monthly


def _product(product: DemoProduct, now: datetime) -> Product:
    return Product(
        id=product.id,
        title=product.title,
        description=product.description,
        product_type_id=product.type_id,
        sub_type_id=product.sub_type_id,
        publisher=PUBLISHER,
        created_at=now,
        updated_at=now,
    )


def _availabilities(
    product: DemoProduct, demo: DemoSku, start: datetime, now: datetime
) -> list[Availability]:
    return [
        Availability(
            product_id=product.id,
            sku_id=demo.id,
            id=f"{number:04d}",
            country=country,
            currency=currency,
            term_duration=term,
            billing_plan=plan,
            unit_price=price,
            effective_start=start,
            updated_at=now,
        )
        for number, (country, currency, term, plan, price) in enumerate(_prices(product, demo), start=1)
    ]


def _narrow_skus_of_every_region(
    db: Session, product: DemoProduct, skus: list[tuple[DemoSku, str]], known: set[tuple[str, str]], now: datetime
) -> int:
    """A database loaded before RIs were sold per region holds each size once, in every demo region, under
    the ids the sizes now have in westeurope: those SKUs become the westeurope ones. A SKU an operator
    changed since (its regions no longer the demo's whole list) is left as it is."""
    narrowed = 0
    for demo, region in skus:
        if not region or (product.id, demo.id) not in known:
            continue
        sku = db.get(Sku, (product.id, demo.id))
        if sku is not None and sku.regions == RI_REGIONS and sku.regions != [region]:
            fresh = _sku(product, demo, region, now)
            sku.regions, sku.description, sku.updated_at = fresh.regions, fresh.description, now
            narrowed += 1
    return narrowed


def load(db: Session, now: datetime, log: Callable[[str], None]) -> None:
    """Adds the demo products, SKUs and prices that are not there yet (prices start on January 1st)."""
    start = datetime(now.year, 1, 1, tzinfo=UTC)
    known_products = set(db.scalars(select(Product.id)))
    known_skus = {tuple(row) for row in db.execute(select(Sku.product_id, Sku.id))}
    known_prices = {
        tuple(row)
        for row in db.execute(select(Availability.product_id, Availability.sku_id, Availability.id))
    }
    added = narrowed = 0
    for product in PRODUCTS:
        if product.id not in known_products:
            db.add(_product(product, now))
            db.flush()
        skus = catalog_skus(product)
        narrowed += _narrow_skus_of_every_region(db, product, skus, known_skus, now)
        db.add_all(_sku(product, demo, region, now) for demo, region in skus if (product.id, demo.id) not in known_skus)
        db.flush()
        prices = [
            availability
            for demo, _region in skus
            for availability in _availabilities(product, demo, start, now)
            if (availability.product_id, availability.sku_id, availability.id) not in known_prices
        ]
        db.add_all(prices)
        added += len(prices)
    db.flush()
    if added:
        log(f"demo catalog: {len(PRODUCTS)} products, {added} prices added")
    if narrowed:
        log(f"demo catalog: {narrowed} Reserved Instance SKUs now sold in one region each")
