"""A server killed with SIGKILL while clients buy, reveal keys, download and file support requests, then restarted:
every purchase is whole, no key is given twice, no link is counted past its limit, and after the restart every
webhook event and every email goes out (issue 18, item 3). On SQLite and PostgreSQL (the name says crash)."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from partnerdesk.billing.models import InvoiceLineItem
from partnerdesk.jobs.worker import run_due_jobs
from partnerdesk.orders.models import Entitlement, Order, OrderLineItem, Subscription
from partnerdesk.policies import service as policies
from partnerdesk.software.models import DownloadLink, ProductKey
from partnerdesk.support.models import SupportEmail
from partnerdesk.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.orders.factories import OFFICE_FR, software_line
from tests.servicerequests.conftest import request_body
from tests.servicerequests.test_support_emails import Inbox, free_port
from tests.software.conftest import software  # noqa: F401 - the fixture
from tests.software.factories import CHOICE, SoftwareShop
from tests.support.served import UVICORN_FACTORY, served
from tests.webhooks.helpers import create_endpoint
from tests.webhooks.receiver import Receiver

LINK_LIMIT = 30
EVENTS_BEFORE_THE_KILL = 24


@dataclass
class Activity:
    """What the clients saw before the kill."""

    checkouts: int = 0
    downloads_completed: int = 0
    requests_filed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)

    def count(self, what: str) -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)
            if self.checkouts + self.downloads_completed + self.requests_filed >= EVENTS_BEFORE_THE_KILL:
                self.enough.set()


def _buyer(base: str, shop: SoftwareShop, activity: Activity) -> None:
    headers = shop.admin.headers()
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        try:
            while True:
                cart = client.post(f"/v1/customers/{shop.customer_id}/carts",
                                   json={"lineItems": [software_line(OFFICE_FR)]})
                placed = client.post(f"/v1/customers/{shop.customer_id}/carts/{cart.json()['id']}/checkout")
                assert placed.status_code == 201, placed.text
                activity.count("checkouts")
                order_id = placed.json()["orders"][0]["id"]
                items = client.get(f"/v1/customers/{shop.customer_id}/software").json()["items"]
                for item in items:
                    if item["orderId"] == order_id:
                        client.post(f"/v1/customers/{shop.customer_id}/software/{item['id']}/keysanddownloads",
                                    json=CHOICE)
        except httpx.TransportError:
            return


def _downloader(base: str, path: str, activity: Activity, completed: list[int]) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        try:
            while True:
                answer = client.get(path)
                if answer.status_code == 410:
                    return
                assert answer.status_code == 200
                completed.append(len(answer.content))
                activity.count("downloads_completed")
        except httpx.TransportError:
            return


def _filer(base: str, shop: SoftwareShop, activity: Activity) -> None:
    with httpx.Client(base_url=base, headers=shop.admin.headers(), timeout=60) as client:
        try:
            while True:
                filed = client.post("/v1/servicerequests/en-US", json=request_body())
                assert filed.status_code == 201, filed.text
                activity.count("requests_filed")
        except httpx.TransportError:
            return


def _count(desk, model) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def inbox(desk, monkeypatch):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    url = f"smtp://127.0.0.1:{controller.port}"
    desk.settings.smtp_url = url
    monkeypatch.setenv("PARTNERDESK_SMTP_URL", url)
    try:
        yield handler
    finally:
        controller.stop()
        desk.settings.smtp_url = None


@pytest.fixture
def receiver(desk, monkeypatch):
    receiving = Receiver()
    receiving.thread.start()
    desk.settings.webhook_private_targets = True
    monkeypatch.setenv("PARTNERDESK_WEBHOOK_PRIVATE_TARGETS", "1")
    try:
        yield receiving
    finally:
        receiving.server.shutdown()
        desk.settings.webhook_private_targets = False


def test_a_server_killed_mid_traffic_keeps_every_invariant_and_delivers_after_restart(
        software: SoftwareShop, settings, clock, inbox, receiver):  # noqa: F811
    create_endpoint(software.admin, receiver.url, ["order.created", "servicerequest.created"])
    with software.desk.database.session() as db:
        policies.set_policy(db, key="download_link_max_downloads", value=LINK_LIMIT, principal=None,
                            now=software.desk.clock.now())
    link = software.link()  # one purchase, its key shown, a link of 30 downloads
    activity, completed = Activity(), []

    with served(settings, UVICORN_FACTORY, kill=True) as (base, server):
        clients = [threading.Thread(target=_buyer, args=(base, software, activity)) for _ in range(3)]
        clients += [threading.Thread(target=_downloader, args=(base, link, activity, completed)) for _ in range(4)]
        clients += [threading.Thread(target=_filer, args=(base, software, activity))]
        for client in clients:
            client.start()
        assert activity.enough.wait(timeout=180), "too little happened before the kill"
        server.send_signal(signal.SIGKILL)
        for client in clients:
            client.join(timeout=120)

    desk = software.desk
    # Every purchase is whole: one line, subscription, entitlement and charge per order.
    counts = {model.__tablename__: _count(desk, model)
              for model in (Order, OrderLineItem, Subscription, Entitlement, InvoiceLineItem)}
    assert len(set(counts.values())) == 1, counts
    assert counts["orders"] >= 1 + activity.checkouts
    # No key is held by two purchases, and no purchase holds more keys than units.
    with desk.database.session(write=False) as db:
        holders = Counter(db.scalars(select(ProductKey.entitlement_id).where(ProductKey.entitlement_id.is_not(None))))
        used = db.scalar(select(DownloadLink.downloads_used))
    assert set(holders.values()) <= {1}
    # The link was never counted past its limit, and no body was served beyond what was counted.
    assert used <= LINK_LIMIT and len(completed) <= used
    assert all(size == len(software.content) for size in completed)

    with served(settings, UVICORN_FACTORY, kill=True) as (base, _server):
        assert httpx.get(f"{base}{link}").status_code in (200, 410)  # the desk serves again
    # The served processes ran on the real clock; the test's worker runs on its own, moved past them.
    clock.advance(max(timedelta(0), datetime.now(UTC) - clock.now()) + timedelta(hours=1))
    for _ in range(3):  # the worker after the restart; a second and third pass find nothing left to do
        run_due_jobs(desk, limit=1000)

    with desk.database.session(write=False) as db:
        deliveries = db.scalar(select(func.count()).select_from(WebhookDelivery))
        delivered = db.scalar(select(func.count()).select_from(WebhookDelivery)
                              .where(WebhookDelivery.status == DeliveryStatus.delivered))
        emails = db.scalar(select(func.count()).select_from(SupportEmail))
        unsent = db.scalar(select(func.count()).select_from(SupportEmail).where(SupportEmail.sent_at.is_(None)))
    # Each event a subscribed endpoint was owed arrived once (the worker ran after the crash, not during it).
    assert deliveries >= activity.checkouts + activity.requests_filed and delivered == deliveries
    received_ids = Counter(request.headers.get("webhook-id") for request in receiver.requests)
    assert len(received_ids) == deliveries and set(received_ids.values()) == {1}
    # A request whose answer the kill cut off may still have been filed: at least one email each.
    assert emails >= activity.requests_filed
    assert unsent == 0
    message_ids = Counter(message["Message-ID"] for message in inbox.messages)
    assert len(message_ids) == emails and set(message_ids.values()) == {1}
