"""Every order and subscription of a partner, across its customers: the queries behind the portal's
Orders and Subscriptions views, scoped and filtered as the per-customer routes are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Role
from partnerdesk.orders import service
from partnerdesk.orders.errors import InvalidOrderFilter
from partnerdesk.orders.service import PurchaseSearch
from tests.orders.factories import OFFICE_FR, VISIO_FR_ANNUAL, Shop, load_catalog, software_line
from tests.support.actors import customer_body

pytestmark = pytest.mark.both_engines


def add_customer(caller, company: str) -> str:
    response = caller.post("/v1/customers", json=customer_body(company_name=company))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def principal_of(desk, caller):
    with desk.database.session(write=False) as db:
        return accounts.principal_of(accounts.get_agent_by_email(db, caller.email))


def ids(desk, statement) -> list[str]:
    with desk.database.session(write=False) as db:
        return [row.id for row in db.scalars(statement)]


@pytest.fixture
def purchases(desk, actors, clock):
    """Contoso buys for Fabrikam, then (a day later) for Northwind; Rival buys for its own customer."""
    load_catalog(desk)
    sales, rival = actors(Role.sales_agent), actors(Role.sales_agent, "Rival")
    shop = Shop(desk=desk, buyer=sales)
    fabrikam, northwind = add_customer(sales, "Fabrikam"), add_customer(sales, "Northwind Traders")
    first = shop.buy(fabrikam, software_line(OFFICE_FR))["orders"][0]
    clock.advance(timedelta(days=1))
    second = shop.buy(northwind, software_line(VISIO_FR_ANNUAL, billingCycle="annual", termDuration="P1Y"))["orders"][0]
    theirs = Shop(desk=desk, buyer=rival).buy(add_customer(rival, "Rival Client"), software_line(OFFICE_FR))
    return {"sales": sales, "rival": rival, "first": first["id"], "second": second["id"],
            "theirs": theirs["orders"][0]["id"], "fabrikam": fabrikam}


def test_an_agent_sees_every_order_of_its_partner_newest_first_and_no_other(desk, purchases):
    agent = principal_of(desk, purchases["sales"])
    found = ids(desk, service.search_partner_orders(agent, PurchaseSearch()))
    assert found == [purchases["second"], purchases["first"]]
    rival = principal_of(desk, purchases["rival"])
    assert ids(desk, service.search_partner_orders(rival, PurchaseSearch())) == [purchases["theirs"]]


def test_the_operator_sees_every_partner_or_the_one_it_names(desk, actors, purchases):
    operator = principal_of(desk, actors(Role.operator))
    assert len(ids(desk, service.search_partner_orders(operator, PurchaseSearch()))) == 3
    rival_partner = principal_of(desk, purchases["rival"]).partner_id
    narrowed = service.search_partner_orders(operator, PurchaseSearch(partner_id=rival_partner))
    assert ids(desk, narrowed) == [purchases["theirs"]]
    subscriptions = service.search_partner_subscriptions(operator, PurchaseSearch(partner_id=rival_partner))
    assert len(ids(desk, subscriptions)) == 1


def test_orders_are_filtered_by_status_customer_and_date(desk, actors, purchases, clock):
    agent = principal_of(desk, purchases["sales"])
    assert ids(desk, service.search_partner_orders(agent, PurchaseSearch(customer_text="NORTHWIND"))) \
        == [purchases["second"]]
    assert ids(desk, service.search_partner_orders(agent, PurchaseSearch(customer_text="rival"))) == []
    assert ids(desk, service.search_partner_orders(agent, PurchaseSearch(status="cancelled"))) == []
    admin = actors(Role.admin_agent)
    cancelled = admin.patch(f"/v1/customers/{purchases['fabrikam']}/orders/{purchases['first']}",
                            json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    assert ids(desk, service.search_partner_orders(agent, PurchaseSearch(status="cancelled"))) \
        == [purchases["first"]]
    today = datetime.combine(clock.now().date(), datetime.min.time(), UTC)
    assert ids(desk, service.search_partner_orders(agent, PurchaseSearch(created_from=today))) \
        == [purchases["second"]]
    assert ids(desk, service.search_partner_orders(agent, PurchaseSearch(created_before=today))) \
        == [purchases["first"]]


def test_subscriptions_are_filtered_the_same_way(desk, purchases):
    agent = principal_of(desk, purchases["sales"])
    everything = ids(desk, service.search_partner_subscriptions(agent, PurchaseSearch()))
    assert len(everything) == 2
    northwind = ids(desk, service.search_partner_subscriptions(agent, PurchaseSearch(customer_text="northwind")))
    assert len(northwind) == 1 and northwind[0] == everything[0]  # the newest first
    assert ids(desk, service.search_partner_subscriptions(agent, PurchaseSearch(status="active"))) == everything
    assert ids(desk, service.search_partner_subscriptions(agent, PurchaseSearch(status="deleted"))) == []


def test_an_unknown_status_is_refused_with_the_field_named(desk, purchases):
    agent = principal_of(desk, purchases["sales"])
    with pytest.raises(InvalidOrderFilter) as refused:
        service.search_partner_orders(agent, PurchaseSearch(status="shipped"))
    assert refused.value.data == ["status"]
    with pytest.raises(InvalidOrderFilter):
        service.search_partner_subscriptions(agent, PurchaseSearch(status="completed"))
