"""Fixtures for the Partner Center compatibility tests: the purchase tests' catalog and shop."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from tests.orders.factories import Shop, load_catalog


@pytest.fixture
def shop(desk, actors) -> Shop:
    load_catalog(desk)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))
