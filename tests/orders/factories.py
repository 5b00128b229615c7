"""Test data for purchases: catalog rows (written straight to the catalog tables), customers, Azure subscriptions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.core.desk import Desk
from tests.support.actors import Caller, customer_body

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)

SOFTWARE_PRODUCT = "DG7GMGF0DVT5"
RI_PRODUCT = "DZH318Z0BXQ7"
# catalogItemIds
OFFICE_FR = f"{SOFTWARE_PRODUCT}:0001:0002"          # perpetual, EUR 1234.56, one_time
OFFICE_US = f"{SOFTWARE_PRODUCT}:0001:0003"          # perpetual, USD 999.99
OFFICE_BR = f"{SOFTWARE_PRODUCT}:0001:0004"          # perpetual, BRL 500.10
VISIO_FR_ANNUAL = f"{SOFTWARE_PRODUCT}:0002:0001"    # subscription P1Y, EUR 120.00 a year, annual
VISIO_FR_MONTHLY = f"{SOFTWARE_PRODUCT}:0002:0002"   # subscription P1Y, EUR 10.00 a month, monthly
RI_FR_1Y = f"{RI_PRODUCT}:0001:0003"                 # D4s v5, P1Y, EUR 1234.56
RI_FR_3Y = f"{RI_PRODUCT}:0001:0004"                 # D4s v5, P3Y, EUR 3000.0001
RI_BR_1Y = f"{RI_PRODUCT}:0001:0005"                 # priced for BR, refused there by rule R1
RI_US_1Y = f"{RI_PRODUCT}:0001:0006"                 # USD 1100.00

RI_REGIONS = ["westeurope", "northeurope"]


def _availability(product_id: str, sku_id: str, availability_id: str, country: str, currency: str, price: str,
                  *, term: str | None, plan: str, now: datetime) -> Availability:
    return Availability(product_id=product_id, sku_id=sku_id, id=availability_id, country=country, currency=currency,
                        segment="Commercial", term_duration=term, billing_plan=plan, unit_price=Decimal(price),
                        erp_price=None, tier_min=None, tier_max=None, tags="", effective_start=LONG_AGO,
                        effective_end=None, updated_at=now)


def load_catalog(desk: Desk) -> None:
    now = desk.clock.now()
    stamps = {"created_at": now, "updated_at": now}
    with desk.database.session() as db:
        db.add_all([
            Product(id=SOFTWARE_PRODUCT, title="Office LTSC Professional Plus 2024", description="",
                    product_type_id="Software", sub_type_id="Perpetual", publisher="Microsoft", **stamps),
            Product(id=RI_PRODUCT, title="Reserved VM Instance, Dsv5 Series", description="",
                    product_type_id="Azure", sub_type_id="VirtualMachines", publisher="Microsoft", **stamps),
        ])
        db.flush()
        db.add_all([
            Sku(product_id=SOFTWARE_PRODUCT, id="0001", title="Office LTSC Professional Plus 2024", description="",
                unit_of_measure="License", min_quantity=1, max_quantity=500, supported_billing_cycles=["one_time"],
                purchase_prerequisites=[], provisioning_variables=[], versions=["2024"], languages=["en", "fr"],
                file_types=["ISO"], arm_sku_name="", instance_series="", regions=[], **stamps),
            Sku(product_id=SOFTWARE_PRODUCT, id="0002", title="Visio Plan 2", description="",
                unit_of_measure="Seat", min_quantity=1, max_quantity=300,
                supported_billing_cycles=["monthly", "annual"], purchase_prerequisites=[],
                provisioning_variables=[], versions=[], languages=[], file_types=[], arm_sku_name="",
                instance_series="", regions=[], **stamps),
            Sku(product_id=RI_PRODUCT, id="0001", title="D4s v5", description="", unit_of_measure="VM",
                min_quantity=1, max_quantity=100, supported_billing_cycles=["one_time", "monthly"],
                purchase_prerequisites=["InventoryCheck", "AzureSubscriptionRegistration"],
                provisioning_variables=["Scope", "SubscriptionId", "Duration"], versions=[], languages=[],
                file_types=[], arm_sku_name="Standard_D4s_v5", instance_series="Dsv5 Series", regions=RI_REGIONS,
                **stamps),
        ])
        db.flush()
        db.add_all([
            _availability(SOFTWARE_PRODUCT, "0001", "0002", "FR", "EUR", "1234.56", term=None, plan="one_time",
                          now=now),
            _availability(SOFTWARE_PRODUCT, "0001", "0003", "US", "USD", "999.99", term=None, plan="one_time",
                          now=now),
            _availability(SOFTWARE_PRODUCT, "0001", "0004", "BR", "BRL", "500.10", term=None, plan="one_time",
                          now=now),
            _availability(SOFTWARE_PRODUCT, "0002", "0001", "FR", "EUR", "120.00", term="P1Y", plan="annual",
                          now=now),
            _availability(SOFTWARE_PRODUCT, "0002", "0002", "FR", "EUR", "10.00", term="P1Y", plan="monthly",
                          now=now),
            _availability(RI_PRODUCT, "0001", "0003", "FR", "EUR", "1234.56", term="P1Y", plan="one_time", now=now),
            _availability(RI_PRODUCT, "0001", "0004", "FR", "EUR", "3000.0001", term="P3Y", plan="one_time",
                          now=now),
            _availability(RI_PRODUCT, "0001", "0005", "BR", "BRL", "5000.00", term="P1Y", plan="one_time", now=now),
            _availability(RI_PRODUCT, "0001", "0006", "US", "USD", "1100.00", term="P1Y", plan="one_time", now=now),
        ])


def software_line(catalog_item_id: str = OFFICE_FR, quantity: int = 1, line_id: int = 0, **extra: Any) -> dict:
    return {"id": line_id, "catalogItemId": catalog_item_id, "quantity": quantity, "billingCycle": "one_time",
            **extra}


def ri_line(catalog_item_id: str = RI_FR_1Y, quantity: int = 2, line_id: int = 0, term: str = "P1Y",
            **context: str) -> dict:
    provisioning = {"scope": "Shared", "duration": "1Year" if term == "P1Y" else "3Year", "region": "westeurope"}
    provisioning.update(context)
    return {"id": line_id, "catalogItemId": catalog_item_id, "quantity": quantity, "billingCycle": "one_time",
            "termDuration": term, "provisioningContext": {k: v for k, v in provisioning.items() if v is not None}}


@dataclass
class Shop:
    """A catalog, a customer of one partner and helpers to buy for it through the API."""

    desk: Desk
    buyer: Caller

    def customer(self, country: str = "FR") -> str:
        response = self.buyer.post("/v1/customers", json=customer_body(country=country))
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def azure_subscription(self, customer_id: str, *, register: bool = True, caller: Caller | None = None) -> str:
        caller = caller or self.buyer
        created = caller.post(f"/v1/customers/{customer_id}/subscriptions/azureplan", json={"friendlyName": "prod"})
        assert created.status_code == 201, created.text
        subscription_id = created.json()["id"]
        if register:
            registered = caller.post(f"/v1/customers/{customer_id}/subscriptions/{subscription_id}/registrations")
            assert registered.status_code == 202, registered.text
        return subscription_id

    def cart(self, customer_id: str, *lines: dict, caller: Caller | None = None):
        return (caller or self.buyer).post(f"/v1/customers/{customer_id}/carts", json={"lineItems": list(lines)})

    def checkout(self, customer_id: str, cart_id: str, caller: Caller | None = None, request_id: str | None = None):
        return (caller or self.buyer).post(f"/v1/customers/{customer_id}/carts/{cart_id}/checkout",
                                           request_id=request_id)

    def buy(self, customer_id: str, *lines: dict, caller: Caller | None = None) -> dict:
        cart = self.cart(customer_id, *lines, caller=caller)
        assert cart.status_code == 201, cart.text
        result = self.checkout(customer_id, cart.json()["id"], caller=caller)
        assert result.status_code == 201, result.text
        return result.json()


def new_request_id() -> str:
    return str(uuid.uuid4())
