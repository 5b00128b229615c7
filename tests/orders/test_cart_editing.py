"""The agent's open cart: "Add products" keeps filling one cart per customer and agent, and its lines can be
changed or removed while it is open (the portal's cart pages call these services)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Agent, Role
from partnerdesk.orders import flows, service
from partnerdesk.orders.errors import CartAlreadyCheckedOut, CartLineNotFound, EmptyCart, QuantityOutOfRange
from tests.orders.factories import OFFICE_FR, VISIO_FR_ANNUAL, Shop

pytestmark = pytest.mark.both_engines


def principal_of(db, caller):
    agent_id = db.scalar(select(Agent.id).where(Agent.email == caller.email))
    return accounts.get_principal(db, agent_id)


def office(quantity: int = 2) -> service.CartLine:
    return service.CartLine(id=None, catalog_item_id=OFFICE_FR, quantity=quantity, billing_cycle="one_time",
                            term_duration=None, friendly_name=None, provisioning_context={})


def visio(quantity: int = 3) -> service.CartLine:
    return service.CartLine(id=None, catalog_item_id=VISIO_FR_ANNUAL, quantity=quantity, billing_cycle="annual",
                            term_duration="P1Y", friendly_name=None, provisioning_context={})


def test_add_products_fills_one_open_cart_per_customer_and_agent(desk, shop: Shop, actors):
    customer_id = shop.customer("FR")
    now = desk.clock.now()
    admin_caller = actors(Role.admin_agent)
    with desk.database.session() as db:
        sales = principal_of(db, shop.buyer)
        first = service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=office(), now=now)
        second = service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=visio(), now=now)
        assert second.cart.id == first.cart.id
        assert [line.id for line in second.lines] == [0, 1]
        # Another agent of the partner starts a cart of their own.
        admin = principal_of(db, admin_caller)
        theirs = service.add_to_agents_cart(db, principal=admin, customer_id=customer_id, line=office(1), now=now)
        assert theirs.cart.id != first.cart.id
        assert service.agents_open_cart(db, principal=sales, customer_id=customer_id, now=now).id == first.cart.id
        open_ids = list(db.scalars(service.search_open_carts(db, principal=sales, now=now, customer_id=customer_id)))
        assert {cart.id for cart in open_ids} == {first.cart.id, theirs.cart.id}
        summaries = service.summarise_carts(db, principal=sales, carts=open_ids, now=now)
        mine = next(summary for summary in summaries if summary.cart.id == first.cart.id)
        assert (mine.line_count, mine.quantity) == (2, 5)
        assert mine.totals == {"EUR": Decimal("2469.12") + Decimal("360.00")}


def test_an_ordered_or_expired_cart_is_not_returned_to(desk, shop: Shop, clock):
    customer_id = shop.customer("FR")
    with desk.database.session() as db:
        sales = principal_of(db, shop.buyer)
        cart = service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=office(),
                                          now=clock.now()).cart
        flows.checkout(db, principal=sales, customer_id=customer_id, cart_id=cart.id, now=clock.now())
        assert service.agents_open_cart(db, principal=sales, customer_id=customer_id, now=clock.now()) is None
        fresh = service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=office(),
                                           now=clock.now()).cart
        assert fresh.id != cart.id
        clock.advance(timedelta(days=400))
        assert service.agents_open_cart(db, principal=sales, customer_id=customer_id, now=clock.now()) is None
        assert list(db.scalars(service.search_open_carts(db, principal=sales, now=clock.now()))) == []


def test_a_line_quantity_is_changed_within_the_catalogs_bounds(desk, shop: Shop):
    customer_id = shop.customer("FR")
    now = desk.clock.now()
    with desk.database.session() as db:
        sales = principal_of(db, shop.buyer)
        cart = service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=office(), now=now).cart
        changed = service.change_line_quantity(db, principal=sales, customer_id=customer_id, cart_id=cart.id,
                                               line_id=0, quantity=7, now=now)
        assert [line.quantity for line in changed.lines] == [7]
        with pytest.raises(QuantityOutOfRange):
            service.change_line_quantity(db, principal=sales, customer_id=customer_id, cart_id=cart.id,
                                         line_id=0, quantity=501, now=now)
        with pytest.raises(CartLineNotFound):
            service.change_line_quantity(db, principal=sales, customer_id=customer_id, cart_id=cart.id,
                                         line_id=9, quantity=1, now=now)


def test_lines_are_removed_and_an_emptied_cart_stays_open_but_orders_nothing(desk, shop: Shop):
    customer_id = shop.customer("FR")
    now = desk.clock.now()
    with desk.database.session() as db:
        sales = principal_of(db, shop.buyer)
        cart = service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=office(), now=now).cart
        service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=visio(), now=now)
        left = service.remove_cart_line(db, principal=sales, customer_id=customer_id, cart_id=cart.id, line_id=0,
                                        now=now)
        assert [line.catalog_item_id for line in left.lines] == [VISIO_FR_ANNUAL]
        empty = service.remove_cart_line(db, principal=sales, customer_id=customer_id, cart_id=cart.id, line_id=1,
                                         now=now)
        assert empty.lines == []
        assert service.agents_open_cart(db, principal=sales, customer_id=customer_id, now=now).id == cart.id
        with pytest.raises(EmptyCart):
            flows.checkout(db, principal=sales, customer_id=customer_id, cart_id=cart.id, now=now)
        # The next "Add to cart" fills the emptied cart again, with a fresh line id.
        again = service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=office(1), now=now)
        assert again.cart.id == cart.id and [line.id for line in again.lines] == [0]


def test_an_ordered_cart_cannot_be_edited(desk, shop: Shop):
    customer_id = shop.customer("FR")
    now = desk.clock.now()
    with desk.database.session() as db:
        sales = principal_of(db, shop.buyer)
        cart = service.add_to_agents_cart(db, principal=sales, customer_id=customer_id, line=office(), now=now).cart
        flows.checkout(db, principal=sales, customer_id=customer_id, cart_id=cart.id, now=now)
        with pytest.raises(CartAlreadyCheckedOut):
            service.remove_cart_line(db, principal=sales, customer_id=customer_id, cart_id=cart.id, line_id=0,
                                     now=now)
