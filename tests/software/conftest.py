"""Fixtures for keys and downloads: a software shop with a key pool of 10 and one 300 KB file."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from tests.orders.factories import Shop, load_catalog
from tests.software.factories import SoftwareShop, add_file, file_bytes, import_keys, make_keys


@pytest.fixture
def software(desk, actors) -> SoftwareShop:
    load_catalog(desk)
    shop = Shop(desk=desk, buyer=actors(Role.sales_agent))
    content = file_bytes(300_000)
    import_keys(desk, make_keys(10))
    add_file(desk, content)
    software_shop = SoftwareShop(shop=shop, actors=actors, desk=desk, content=content)
    software_shop.customer_id = shop.customer()
    return software_shop
