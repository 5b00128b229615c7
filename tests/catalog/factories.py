"""Test factories for the catalog: a small software product and a Reserved Instance, priced per market."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from partnerdesk.catalog import admin
from partnerdesk.catalog.schemas import AvailabilityIn, ProductIn, SkuIn
from partnerdesk.core.desk import Desk

SOFTWARE_ID = "DG7GMGF0DVT5"
RESERVED_ID = "DZH318Z0BXQ7"
START = datetime(2026, 1, 1, tzinfo=UTC)
# Currencies are part of the price data; any ISO 4217 code will do for these tests.
CURRENCIES = {"FR": "EUR", "DE": "EUR", "US": "USD", "GB": "GBP", "BR": "BRL", "IN": "INR", "JP": "JPY"}


@dataclass
class SeededCatalog:
    """Catalog item ids by market: `software["FR"]`, `reserved["FR"]` (one-year term)."""

    software: dict[str, str] = field(default_factory=dict)
    reserved: dict[str, str] = field(default_factory=dict)


def build_catalog(
    desk: Desk, markets=("FR", "US", "BR"), *, start: datetime = START, end: datetime | None = None
) -> SeededCatalog:
    """Windows Server 2022 Standard and a D4s v5 Reserved Instance, both priced in every market given."""
    catalog = SeededCatalog()
    now = desk.clock.now()
    with desk.database.session() as db:
        admin.create_product(
            db,
            principal=None,
            now=now,
            data=ProductIn.model_validate(
                {
                    "id": SOFTWARE_ID,
                    "title": "Windows Server 2022",
                    "publisher": "Microsoft Corporation",
                    "productType": {"id": "Software", "subType": {"id": "Perpetual"}},
                }
            ),
        )
        admin.create_sku(
            db,
            product_id=SOFTWARE_ID,
            principal=None,
            now=now,
            data=SkuIn.model_validate(
                {
                    "title": "Windows Server 2022 Standard - 16 Core License Pack",
                    "supportedBillingCycles": ["one_time"],
                    "dynamicAttributes": {
                        "versions": ["2022", "2019"],
                        "languages": ["en-US", "fr-FR"],
                        "fileTypes": ["ISO x64", "VHD x64"],
                    },
                }
            ),
        )
        admin.create_product(
            db,
            principal=None,
            now=now,
            data=ProductIn.model_validate(
                {
                    "id": RESERVED_ID,
                    "title": "Reserved VM Instance, Dsv5 Series",
                    "publisher": "Microsoft Corporation",
                    "productType": {"id": "Azure", "subType": {"id": "VirtualMachines"}},
                }
            ),
        )
        admin.create_sku(
            db,
            product_id=RESERVED_ID,
            principal=None,
            now=now,
            data=SkuIn.model_validate(
                {
                    "title": "D4s v5",
                    "supportedBillingCycles": ["one_time"],
                    "dynamicAttributes": {
                        "armSkuName": "Standard_D4s_v5",
                        "instanceSeries": "Dsv5 Series",
                        "regions": ["westeurope", "eastus"],
                    },
                }
            ),
        )
        for country in markets:
            currency = CURRENCIES.get(country, "USD")
            dates = {
                "effectiveStartDate": start.isoformat(),
                "effectiveEndDate": end.isoformat() if end else None,
            }
            software = admin.create_availability(
                db,
                product_id=SOFTWARE_ID,
                sku_id="0001",
                principal=None,
                now=now,
                data=AvailabilityIn.model_validate(
                    {
                        "country": country,
                        "currency": currency,
                        "unitPrice": "1069.00",
                        "billingPlan": "one_time",
                        **dates,
                    }
                ),
            )
            reserved = admin.create_availability(
                db,
                product_id=RESERVED_ID,
                sku_id="0001",
                principal=None,
                now=now,
                data=AvailabilityIn.model_validate(
                    {
                        "country": country,
                        "currency": currency,
                        "unitPrice": "1234.56",
                        "billingPlan": "one_time",
                        "terms": [{"duration": "P1Y"}],
                        **dates,
                    }
                ),
            )
            catalog.software[country] = software.catalog_item_id
            catalog.reserved[country] = reserved.catalog_item_id
    return catalog
