"""Fixtures for purchase tests: a loaded catalog and a shop that buys as a sales agent of Contoso Reseller."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from tests.orders.factories import Shop, load_catalog


@pytest.fixture
def shop(desk, actors) -> Shop:
    load_catalog(desk)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))
