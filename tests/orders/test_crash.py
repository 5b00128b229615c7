"""A server killed mid-purchase (SIGKILL, no shutdown) leaves no half-written purchase, and a retry of
every checkout whose answer was lost, with its MS-RequestId, makes exactly one order."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field

import httpx
from sqlalchemy import func, select

from partnerdesk.billing.models import InvoiceLineItem
from partnerdesk.orders.models import Cart, Entitlement, Order, OrderLineItem, Subscription
from tests.orders.factories import new_request_id, software_line
from tests.support.served import UVICORN_FACTORY, served

BUYERS = 8
CHECKOUTS_BEFORE_THE_KILL = 12


@dataclass
class Ledger:
    """What the buyers saw: carts whose checkout answered 201, and checkouts whose answer was lost."""

    placed: dict[str, str] = field(default_factory=dict)  # cart id -> order id
    lost: dict[str, str] = field(default_factory=dict)  # cart id -> the checkout's MS-RequestId
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)


def _buy_until_killed(base: str, token: str, customer: str, ledger: Ledger) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while True:
            try:
                cart = client.post(f"/v1/customers/{customer}/carts", json={"lineItems": [software_line()]})
            except httpx.TransportError:
                return
            assert cart.status_code == 201, cart.text
            cart_id, request_id = cart.json()["id"], new_request_id()
            try:
                placed = client.post(f"/v1/customers/{customer}/carts/{cart_id}/checkout",
                                     headers={"MS-RequestId": request_id})
            except httpx.TransportError:
                with ledger.lock:
                    ledger.lost[cart_id] = request_id
                return
            assert placed.status_code == 201, placed.text
            with ledger.lock:
                ledger.placed[cart_id] = placed.json()["orders"][0]["id"]
                if len(ledger.placed) >= CHECKOUTS_BEFORE_THE_KILL:
                    ledger.enough.set()


def _counts(desk) -> dict[str, int]:
    with desk.database.session(write=False) as db:
        return {model.__tablename__: db.scalar(select(func.count()).select_from(model))
                for model in (Order, OrderLineItem, Subscription, Entitlement, InvoiceLineItem)}


def test_a_server_killed_mid_purchase_leaves_whole_purchases_and_retries_make_one_order(shop, desk, settings):
    customer = shop.customer("FR")
    ledger = Ledger()
    with served(settings, UVICORN_FACTORY, kill=True) as (base, server):
        buyers = [threading.Thread(target=_buy_until_killed, args=(base, shop.buyer.token, customer, ledger))
                  for _ in range(BUYERS)]
        for buyer in buyers:
            buyer.start()
        assert ledger.enough.wait(timeout=120), "the buyers placed too few orders before the kill"
        server.send_signal(signal.SIGKILL)
        for buyer in buyers:
            buyer.join(timeout=120)

    # Whatever was cut off, every purchase is whole: one line, subscription, entitlement and charge per order.
    counts = _counts(desk)
    assert len(set(counts.values())) == 1, counts
    with served(settings, UVICORN_FACTORY, kill=True) as (base, _server):
        headers = {"Authorization": f"Bearer {shop.buyer.token}"}
        for cart_id, request_id in ledger.lost.items():
            retried = httpx.post(f"{base}/v1/customers/{customer}/carts/{cart_id}/checkout", timeout=60,
                                 headers={**headers, "MS-RequestId": request_id})
            assert retried.status_code == 201, retried.text
            ledger.placed[cart_id] = retried.json()["orders"][0]["id"]

    with desk.database.session(write=False) as db:
        orders_by_cart = dict(db.execute(select(Order.cart_id, func.count()).group_by(Order.cart_id)).all())
        ordered_carts = set(db.scalars(select(Cart.id).where(Cart.status == "Ordered")))
    assert orders_by_cart == dict.fromkeys(ledger.placed, 1)
    assert ordered_carts == set(ledger.placed)
    counts = _counts(desk)
    assert set(counts.values()) == {len(ledger.placed)}, counts
