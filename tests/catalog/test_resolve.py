"""`resolve_purchasable`: the one check carts and orders make on a catalog item."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Role
from partnerdesk.catalog import service
from partnerdesk.catalog.errors import (
    CatalogItemNotFound,
    MalformedCatalogItemId,
    NotInForce,
    NotSoldInMarket,
)
from partnerdesk.core.errors import UnknownCountry
from tests.catalog.factories import RESERVED_ID, START, build_catalog
from tests.support.actors import customer_body


def resolve(desk, catalog_item_id: str, country: str, now=None):
    with desk.database.session(write=False) as db:
        return service.resolve_purchasable(
            db, catalog_item_id=catalog_item_id, country=country, now=now or desk.clock.now()
        )


def test_a_purchasable_item_carries_what_a_cart_line_needs(desk):
    catalog = build_catalog(desk, markets=("FR",))
    item = resolve(desk, catalog.reserved["FR"], "fr")
    assert item.catalog_item_id == catalog.reserved["FR"] == f"{RESERVED_ID}:0001:0001"
    assert (item.product_id, item.sku_id, item.availability_id) == (RESERVED_ID, "0001", "0001")
    assert item.title == "Reserved VM Instance, Dsv5 Series, D4s v5, 1 year"
    assert item.unit_price == Decimal("1234.56") and isinstance(item.unit_price, Decimal)
    assert item.currency == "EUR" and item.country == "FR"
    assert (
        item.is_reserved_instance and item.product_type_id == "Azure" and item.sub_type == "VirtualMachines"
    )
    assert [term.duration for term in item.terms] == ["P1Y"]
    assert item.supported_billing_cycles == ("one_time",) and item.billing_plan == "one_time"
    assert (item.min_quantity, item.max_quantity) == (1, 1000)
    assert item.arm_sku_name == "Standard_D4s_v5"
    software = resolve(desk, catalog.software["FR"], "FR")
    assert not software.is_reserved_instance and software.terms == ()
    assert software.versions == ("2022", "2019") and software.languages == ("en-US", "fr-FR")
    assert software.file_types == ("ISO x64", "VHD x64")


@pytest.mark.parametrize(
    "catalog_item_id",
    [
        "",
        "DZH318Z0BXQ7",
        "DZH318Z0BXQ7:0001",
        "A:B:C:D",
        "A::C",
        "A B:0001:0001",
        "DZH318Z0BXQ7:0001:0001 ; drop",
    ],
)
def test_a_malformed_catalog_item_id_is_400(desk, catalog_item_id):
    build_catalog(desk, markets=("FR",))
    with pytest.raises(MalformedCatalogItemId) as raised:
        resolve(desk, catalog_item_id, "FR")
    assert raised.value.status_code == 400 and "productId:skuId:availabilityId" in raised.value.description


def test_an_unknown_catalog_item_is_404(desk):
    build_catalog(desk, markets=("FR",))
    with pytest.raises(CatalogItemNotFound) as raised:
        resolve(desk, f"{RESERVED_ID}:0001:0999", "FR")
    assert raised.value.status_code == 404


def test_a_price_of_another_market_is_refused_naming_both(desk):
    catalog = build_catalog(desk, markets=("FR", "US"))
    with pytest.raises(NotSoldInMarket) as raised:
        resolve(desk, catalog.software["FR"], "US")
    assert raised.value.status_code == 400
    assert "priced for market FR, not US" in raised.value.description


def test_an_unknown_country_is_refused(desk):
    catalog = build_catalog(desk, markets=("FR",))
    with pytest.raises(UnknownCountry):
        resolve(desk, catalog.software["FR"], "Narnia")


def test_prices_are_in_force_from_their_start_until_their_end_excluded(desk):
    end = START + timedelta(days=30)
    catalog = build_catalog(desk, markets=("FR",), start=START, end=end)
    item_id = catalog.software["FR"]
    assert resolve(desk, item_id, "FR", now=START).availability_id == "0001"
    assert resolve(desk, item_id, "FR", now=end - timedelta(microseconds=1)).availability_id == "0001"
    with pytest.raises(NotInForce, match="not on sale yet"):
        resolve(desk, item_id, "FR", now=START - timedelta(seconds=1))
    with pytest.raises(NotInForce, match="no longer on sale") as raised:
        resolve(desk, item_id, "FR", now=end)
    assert raised.value.status_code == 400 and raised.value.code == 2103


def test_browse_for_customer_lists_priced_items_grouped_by_product(actors, desk):
    build_catalog(desk, markets=("FR", "BR"))
    admin = actors(Role.admin_agent)
    fr = admin.post("/v1/customers", json=customer_body(country="FR")).json()["id"]
    br = admin.post("/v1/customers", json=customer_body(country="BR")).json()["id"]
    with desk.database.session(write=False) as db:
        agent = accounts.principal_of(accounts.get_agent_by_email(db, admin.email))
        software = service.browse_for_customer(
            db, principal=agent, customer_id=fr, target_view="Software", now=desk.clock.now()
        )
        reserved_br = service.browse_for_customer(
            db, principal=agent, customer_id=br, target_view="AzureReservations", now=desk.clock.now()
        )
        reserved_fr = service.browse_for_customer(
            db, principal=agent, customer_id=fr, target_view="AzureReservationsVM", now=desk.clock.now()
        )
    assert software.country == "FR" and [item.currency for item in software.items] == ["EUR"]
    assert [(product_id, title) for product_id, title, _items in software.by_product()] == [
        ("DG7GMGF0DVT5", "Windows Server 2022")
    ]
    assert reserved_br.hidden_by_rule_r1 and reserved_br.items == ()
    assert not reserved_fr.hidden_by_rule_r1 and reserved_fr.items[0].unit_price == Decimal("1234.56")
