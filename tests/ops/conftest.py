"""Fixtures for the operations tests: a software shop (a purchase gives a download link), and metrics read back."""

from __future__ import annotations

import re

import pytest

from partnerdesk.accounts.models import Role
from tests.orders.factories import Shop, load_catalog
from tests.software.factories import SoftwareShop, add_file, file_bytes, import_keys, make_keys


@pytest.fixture
def software(desk, actors) -> SoftwareShop:
    load_catalog(desk)
    shop = Shop(desk=desk, buyer=actors(Role.sales_agent))
    content = file_bytes(20_000)
    import_keys(desk, make_keys(10))
    add_file(desk, content)
    software_shop = SoftwareShop(shop=shop, actors=actors, desk=desk, content=content)
    software_shop.customer_id = shop.customer()
    return software_shop


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when it is not there yet)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{{re.escape(wanted)}\}})? (\S+)$" if wanted
                         else rf"^{re.escape(name)} (\S+)$", re.MULTILINE)
    found = pattern.search(text)
    return float(found.group(1)) if found else 0.0


# Debian's Chromium for the browser test of the docs page, configured as for the portal's browser tests.
from tests.web.conftest import base_url, browser_type_launch_args  # noqa: E402, F401
