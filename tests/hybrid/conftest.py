"""Fixtures for the Hybrid Benefit calculator: the demo catalog and rate table, and customers in some markets."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.catalog import demo as catalog_demo
from partnerdesk.core.desk import Desk
from partnerdesk.hybrid import demo as hybrid_demo
from tests.support.actors import Actors, customer_body


@dataclass
class Market:
    desk: Desk
    actors: Actors

    def customer(self, country: str = "FR", partner: str = "Contoso Reseller") -> str:
        response = self.actors(Role.admin_agent, partner).post("/v1/customers", json=customer_body(country=country))
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def azure_subscription(self, customer_id: str) -> str:
        """An active Azure subscription registered for reservations: what a Reserved Instance cart needs."""
        admin = self.actors(Role.admin_agent)
        created = admin.post(f"/v1/customers/{customer_id}/subscriptions/azureplan", json={})
        assert created.status_code == 201, created.text
        subscription_id = created.json()["id"]
        registered = admin.post(f"/v1/customers/{customer_id}/subscriptions/{subscription_id}/registrations")
        assert registered.status_code in (200, 201, 202), registered.text
        return subscription_id


@pytest.fixture
def market(desk: Desk, actors: Actors) -> Market:
    """The demo catalog (Reserved Instances of Dsv5 and Esv5 sizes, Windows Server packs) and the demo rate table."""
    with desk.database.session() as db:
        catalog_demo.load(db, desk.clock.now(), lambda _message: None)
        hybrid_demo.load(db, desk.clock.now(), lambda _message: None)
    return Market(desk, actors)
