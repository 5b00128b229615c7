"""The one data path: a refused request never breaks the next ones, request ids in any UUID spelling,
a transaction reads its own writes, and rows written leave out what the columns default.

Regression tests for an earlier hand-made PostgreSQL path (named server-side statements, reads sent
ahead of time, rows as hand-built dicts): one refused purchase broke every later purchase until a
restart, `urn:uuid:` request ids answered 500, and a prefetched read missed a row written before it.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import select

from partnerdesk.accounts.auth import role_matrix
from partnerdesk.accounts.models import Partner, Role
from partnerdesk.accounts.service import Principal
from partnerdesk.customers import service as customers
from partnerdesk.orders import service as orders
from partnerdesk.orders.models import OrderLineItem, Subscription
from partnerdesk.orders.schemas import CartLineItemIn
from tests.orders.factories import new_request_id, software_line
from tests.orders.test_checkout import row_counts
from tests.support.actors import customer_body


def _all_at_once(count: int, call) -> list[httpx.Response]:
    start = threading.Event()

    def run(index: int) -> httpx.Response:
        start.wait()
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, index) for index in range(count)]
        start.set()
        return [future.result() for future in futures]


def _purchase(live_server: str, token: str, customer: str, *, quantity: int = 1) -> tuple[int, int]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_server, timeout=120, headers=headers) as client:
        cart = client.post(f"/v1/customers/{customer}/carts", json={"lineItems": [software_line(quantity=quantity)]})
        if cart.status_code != 201:
            return cart.status_code, 0
        placed = client.post(f"/v1/customers/{customer}/carts/{cart.json()['id']}/checkout")
        return cart.status_code, placed.status_code


def test_refused_purchases_never_break_the_next_ones_of_any_partner(shop, actors, live_server, desk):
    customer = shop.customer("FR")
    for _ in range(8):
        shop.buy(customer, software_line())
    unknown = shop.cart(customer, software_line("NOPE00000000:0001:0001"))
    assert unknown.status_code == 404 and unknown.json()["code"] == 2003
    cart = shop.cart(customer, software_line()).json()
    assert shop.checkout(customer, cart["id"]).status_code == 201
    again = shop.checkout(customer, cart["id"])
    assert again.status_code == 409 and again.json()["code"] == 3002

    rival = actors(Role.sales_agent, partner="Rival Reseller")
    rival_customer = rival.post("/v1/customers", json=customer_body()).json()["id"]
    buyers = [(shop.buyer.token, customer), (rival.token, rival_customer)]
    answers = _all_at_once(30, lambda index: _purchase(live_server, *buyers[index % 2]))
    assert answers == [(201, 201)] * 30
    assert row_counts(desk)["orders"] == 8 + 1 + 30


def test_a_credit_limit_race_refuses_some_purchases_and_breaks_none(shop, actors, live_server, desk):
    customer = shop.customer("FR")
    with desk.database.session(write=False) as db:
        partner_id = db.scalar(select(Partner.id).where(Partner.name == shop.buyer.partner))
    # Room for exactly 10 purchases of one EUR 1234.56 licence.
    limit = actors(Role.operator).put(f"/v1/partners/{partner_id}/creditlimits/EUR", json={"amount": "12345.60"})
    assert limit.status_code == 200, limit.text
    answers = _all_at_once(50, lambda _index: _purchase(live_server, shop.buyer.token, customer))
    assert {cart for cart, _placed in answers} == {201}
    placed = [placed for _cart, placed in answers]
    assert placed.count(201) == 10 and placed.count(402) == 40, placed
    # The refusals broke nothing: the next purchase, after the limit is raised, goes through.
    actors(Role.operator).put(f"/v1/partners/{partner_id}/creditlimits/EUR", json={"amount": "99999.00"})
    assert _purchase(live_server, shop.buyer.token, customer) == (201, 201)


def _spellings(request_id: str) -> list[str]:
    return [f"urn:uuid:{request_id}", "{" + request_id.upper() + "}", request_id.replace("-", "")]


def test_request_ids_in_every_uuid_spelling_are_one_request(shop):
    customer = shop.customer("FR")
    request_id = new_request_id()
    first = shop.buyer.post(f"/v1/customers/{customer}/carts", json={"lineItems": [software_line()]},
                            request_id=f"urn:uuid:{request_id}")
    assert first.status_code == 201
    assert first.headers["MS-RequestId"] == f"urn:uuid:{request_id}"  # echoed as sent
    for spelling in [request_id, *_spellings(request_id)]:
        retry = shop.buyer.post(f"/v1/customers/{customer}/carts", json={"lineItems": [software_line()]},
                                request_id=spelling)
        assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json() == first.json()

    checkout_id = new_request_id()
    placed = shop.checkout(customer, first.json()["id"], request_id="{" + checkout_id + "}")
    replayed = shop.checkout(customer, first.json()["id"], request_id=f"urn:uuid:{checkout_id.upper()}")
    assert placed.status_code == replayed.status_code == 201
    assert replayed.json() == placed.json() and replayed.headers["Idempotent-Replayed"] == "true"


def test_no_write_route_answers_5xx_to_any_request_id_spelling(app, actors):
    """Every write route of the API, as every role, with odd but valid request ids: never a 5xx."""
    writes = [(method, path) for method, path, _roles in role_matrix(app)
              if method in {"POST", "PUT", "PATCH", "DELETE"}]
    assert len(writes) > 10
    for role in Role:
        caller = actors(role)
        for method, path in writes:
            url = path.replace("{", "x").replace("}", "")
            for spelling in _spellings(str(uuid.uuid4())):
                response = caller.request(method, url, json={}, request_id=spelling)
                assert response.status_code < 500, (role, method, url, spelling, response.text)


def test_a_transaction_reads_what_it_wrote_before(shop, desk):
    """Reads after writes in one transaction see them, on every engine (a cart written with Core,
    then locked and read for checkout)."""
    customer_id = shop.customer("FR")
    with desk.database.session(write=False) as db:
        buyer = db.scalar(select(Partner.id).where(Partner.name == shop.buyer.partner))
    principal = Principal(agent_id="agent", email="a@test.example", display_name="A", role=Role.sales_agent,
                          partner_id=buyer)
    now = desk.clock.now()
    with desk.database.session() as db:
        customer = customers.get_customer_ref(db, principal=principal, customer_id=customer_id)
        assert db.execute(select(Subscription.id).where(Subscription.customer_id == customer_id)).all() == []
        written = orders.create_cart(db, principal=principal, customer_id=customer_id,
                                     lines=[CartLineItemIn.model_validate(software_line(quantity=2))], now=now)
        read = orders.lock_open_cart(db, customer=customer, cart_id=written.cart.id, now=now + timedelta(seconds=1))
        assert [line.catalog_item_id for line in read.lines] == [line.catalog_item_id for line in written.lines]


def test_rows_written_leave_defaults_to_their_columns(shop, desk):
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line())["orders"][0]
    with desk.database.session(write=False) as db:
        line = db.scalar(select(OrderLineItem).where(OrderLineItem.order_id == order["id"]))
        subscription = db.get(Subscription, line.subscription_id)
    assert (line.status, line.transaction_type, line.credited_amount, line.cancelled_at) == ("active", "New", 0, None)
    assert subscription.status == "active"


def test_purchases_go_on_while_a_migration_adds_columns(shop, desk):
    """Statements psycopg has prepared on the server (after 5 runs on a connection) survive a schema
    change made by another connection, as a migration run under load makes it."""
    customer = shop.customer("FR")
    for _ in range(8):
        shop.buy(customer, software_line())
    with desk.database.engine.begin() as connection:
        for table in ("carts", "cart_line_items", "orders", "order_line_items", "idempotency_records"):
            connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN added_by_migration VARCHAR(20)")
    for _ in range(3):
        cart = shop.cart(customer, software_line())
        assert cart.status_code == 201, cart.text
        placed = shop.checkout(customer, cart.json()["id"], request_id=new_request_id())
        assert placed.status_code == 201, placed.text
    assert row_counts(desk)["orders"] == 11
