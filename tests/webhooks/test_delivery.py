"""Publishing events and delivering them to a real HTTP receiver: signatures, retries, restarts, outbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.core.desk import Desk
from partnerdesk.jobs import service as jobs
from partnerdesk.jobs.models import Job, JobStatus
from partnerdesk.jobs.worker import run_due_jobs
from partnerdesk.webhooks import service as webhooks
from partnerdesk.webhooks.errors import UnknownEventType
from partnerdesk.webhooks.models import WebhookDelivery, WebhookEvent
from partnerdesk.webhooks.signing import verify
from tests.webhooks.helpers import count, create_endpoint, deliver_due, partner_id_of, publish


def independent_signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def lowered(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def deliveries(admin, endpoint: dict) -> list[dict]:
    response = admin.get(f"/v1/webhooks/{endpoint['id']}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture
def admin(actors):
    return actors(Role.admin_agent)


@pytest.fixture
def partner_id(desk, admin) -> str:
    return partner_id_of(desk, admin)


def test_a_published_event_arrives_signed_per_standard_webhooks(desk, admin, partner_id, receiver, clock):
    endpoint = create_endpoint(admin, receiver.url, ["order.created"])
    event_id = publish(desk, partner_id, "order.created", orderId="o-1", customerId="c-1",
                       totalPrice="2469.12")
    assert deliver_due(desk) == 1
    [request] = receiver.requests
    headers = lowered(request.headers)
    assert headers["webhook-id"] == event_id
    assert headers["webhook-timestamp"] == str(int(clock.now().timestamp()))
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"] == independent_signature(endpoint["secret"], headers, request.body)
    verify(endpoint["secret"], request.headers, request.body, now=clock.now())
    assert json.loads(request.body) == {
        "type": "order.created",
        "timestamp": "2026-11-24T10:00:00Z",
        "data": {"orderId": "o-1", "customerId": "c-1", "totalPrice": "2469.12"},
    }
    [delivery] = deliveries(admin, endpoint)
    assert delivery["status"] == "delivered" and delivery["eventId"] == event_id
    assert delivery["attemptCount"] == 1 and delivery["lastStatusCode"] == 200
    assert delivery["nextAttemptAt"] is None
    assert delivery["attempts"][0]["succeeded"] is True and delivery["attempts"][0]["error"] is None
    assert deliver_due(desk) == 0 and len(receiver.requests) == 1


def test_a_failed_delivery_is_retried_after_the_backoff_with_the_same_webhook_id(
    desk, admin, partner_id, receiver, clock
):
    endpoint = create_endpoint(admin, receiver.url)
    receiver.answer(500)
    publish(desk, partner_id)
    assert deliver_due(desk) == 1
    [pending] = deliveries(admin, endpoint)
    assert pending["status"] == "pending" and pending["attemptCount"] == 1
    assert pending["attempts"][0]["statusCode"] == 500 and pending["attempts"][0]["error"] == "HTTP 500"
    retry_at = pending["nextAttemptAt"]
    assert "2026-11-24T10:00:05" <= retry_at < "2026-11-24T10:00:06"
    assert deliver_due(desk) == 0, "not due before the backoff has passed"
    clock.advance(timedelta(seconds=4))
    assert deliver_due(desk) == 0
    clock.advance(timedelta(seconds=2))
    assert deliver_due(desk) == 1
    first, second = receiver.requests
    assert lowered(first.headers)["webhook-id"] == lowered(second.headers)["webhook-id"]
    assert first.body == second.body
    first_sent, second_sent = (int(lowered(r.headers)["webhook-timestamp"]) for r in (first, second))
    assert second_sent == first_sent + 6
    verify(endpoint["secret"], second.headers, second.body, now=clock.now())
    [delivered] = deliveries(admin, endpoint)
    assert delivered["status"] == "delivered" and delivered["attemptCount"] == 2
    assert [attempt["statusCode"] for attempt in delivered["attempts"]] == [500, 200]


def test_a_restart_in_between_loses_nothing(settings, clock, admin, partner_id, receiver):
    first_desk = Desk.from_settings(settings, clock=clock)
    endpoint = create_endpoint(admin, receiver.url)
    event_id = publish(first_desk, partner_id)
    first_desk.database.dispose()
    assert receiver.requests == []
    restarted = Desk.from_settings(settings, clock=clock)
    try:
        assert run_due_jobs(restarted, limit=10) == 1
    finally:
        restarted.database.dispose()
    [request] = receiver.requests
    assert lowered(request.headers)["webhook-id"] == event_id
    verify(endpoint["secret"], request.headers, request.body, now=clock.now())


def test_a_rolled_back_transaction_publishes_nothing(desk, admin, partner_id, receiver):
    create_endpoint(admin, receiver.url)

    class CheckoutFailed(Exception):
        pass

    with pytest.raises(CheckoutFailed), desk.database.session() as db:
        webhooks.publish_event(db, partner_id=partner_id, event_type="order.created", data={"orderId": "o-1"},
                               now=desk.clock.now())
        raise CheckoutFailed
    assert count(desk, WebhookEvent) == count(desk, WebhookDelivery) == count(desk, Job) == 0
    assert deliver_due(desk) == 0 and receiver.requests == []


def test_only_the_partners_active_endpoints_subscribed_to_the_type_receive_it(desk, actors, admin, partner_id,
                                                                              receiver):
    subscribed = create_endpoint(admin, receiver.url + "/subscribed", ["order.created", "order.cancelled"])
    create_endpoint(admin, receiver.url + "/other-type", ["entitlement.revoked"])
    paused = create_endpoint(admin, receiver.url + "/paused", ["order.created"])
    admin.patch(f"/v1/webhooks/{paused['id']}", json={"active": False})
    rival = actors(Role.admin_agent, partner="Rival Reseller")
    create_endpoint(rival, receiver.url + "/rival", ["order.created"])
    publish(desk, partner_id, "order.created", orderId="o-1")
    assert deliver_due(desk) == 1
    assert [request.path for request in receiver.requests] == ["/hooks/subscribed"]
    assert len(deliveries(admin, subscribed)) == 1 and deliveries(admin, paused) == []


def test_each_subscribed_endpoint_gets_its_own_signature(desk, admin, partner_id, receiver, clock):
    one = create_endpoint(admin, receiver.url + "/one", ["entitlement.revoked"])
    two = create_endpoint(admin, receiver.url + "/two", ["entitlement.revoked"])
    publish(desk, partner_id, "entitlement.revoked", subscriptionId="s-1")
    assert deliver_due(desk) == 2
    by_path = {request.path: request for request in receiver.requests}
    verify(one["secret"], by_path["/hooks/one"].headers, by_path["/hooks/one"].body, now=clock.now())
    verify(two["secret"], by_path["/hooks/two"].headers, by_path["/hooks/two"].body, now=clock.now())
    signatures = {path: request.headers["webhook-signature"] for path, request in by_path.items()}
    assert signatures["/hooks/one"] != signatures["/hooks/two"]


@pytest.mark.parametrize("event_type", ["order.shipped", "webhook.test", ""])
def test_publishing_an_unknown_type_is_refused_and_writes_nothing(desk, partner_id, event_type):
    with pytest.raises(UnknownEventType), desk.database.session() as db:
        webhooks.publish_event(db, partner_id=partner_id, event_type=event_type, data={},
                               now=desk.clock.now())
    assert count(desk, WebhookEvent) == 0


def test_event_data_must_be_plain_json(desk, partner_id):
    from decimal import Decimal

    with pytest.raises(TypeError, match="plain JSON"), desk.database.session() as db:
        webhooks.publish_event(db, partner_id=partner_id, event_type="order.created",
                               data={"totalPrice": Decimal("1.00")}, now=desk.clock.now())
    assert count(desk, WebhookEvent) == 0


def test_a_test_ping_goes_to_one_endpoint_whatever_it_subscribes_to(desk, admin, receiver, clock):
    endpoint = create_endpoint(admin, receiver.url, ["entitlement.revoked"])
    other = create_endpoint(admin, receiver.url + "/other", ["entitlement.revoked"])
    response = admin.post(f"/v1/webhooks/{endpoint['id']}/test")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending" and response.json()["eventType"] == "webhook.test"
    assert deliver_due(desk) == 1
    [request] = receiver.requests
    verify(endpoint["secret"], request.headers, request.body, now=clock.now())
    assert json.loads(request.body)["type"] == "webhook.test"
    assert json.loads(request.body)["data"]["webhookId"] == endpoint["id"]
    assert deliveries(admin, endpoint)[0]["status"] == "delivered" and deliveries(admin, other) == []
    admin.patch(f"/v1/webhooks/{endpoint['id']}", json={"active": False})
    paused = admin.post(f"/v1/webhooks/{endpoint['id']}/test")
    assert paused.status_code == 409 and paused.json()["code"] == 5003


def test_after_the_rotation_both_secrets_sign_until_the_grace_period_ends(desk, admin, partner_id, receiver,
                                                                          clock):
    endpoint = create_endpoint(admin, receiver.url)
    new_secret = admin.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret").json()["secret"]
    publish(desk, partner_id)
    deliver_due(desk)
    during = receiver.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    verify(endpoint["secret"], during.headers, during.body, now=clock.now())
    verify(new_secret, during.headers, during.body, now=clock.now())
    clock.advance(webhooks.PREVIOUS_SECRET_GRACE + timedelta(seconds=1))
    publish(desk, partner_id)
    deliver_due(desk)
    after = receiver.requests[-1]
    assert after.headers["webhook-signature"] == independent_signature(new_secret, lowered(after.headers),
                                                                       after.body)


def test_deliveries_give_up_after_the_last_attempt_and_can_be_sent_again(desk, admin, partner_id, receiver,
                                                                         clock):
    endpoint = create_endpoint(admin, receiver.url)
    receiver.default = 503
    publish(desk, partner_id)
    for _attempt in range(jobs.MAX_ATTEMPTS):
        assert deliver_due(desk) == 1
        clock.advance(timedelta(hours=27))
    assert deliver_due(desk) == 0
    [failed] = deliveries(admin, endpoint)
    assert failed["status"] == "failed" and failed["attemptCount"] == jobs.MAX_ATTEMPTS
    assert failed["nextAttemptAt"] is None
    with desk.database.session(write=False) as db:
        assert db.scalar(select(Job.status)) is JobStatus.dead
        record = db.scalar(select(ActivityRecord).where(ActivityRecord.action == "webhook.delivery_failed"))
    assert record.operator_type == "system" and record.partner_id == partner_id
    assert record.details["attempts"] == jobs.MAX_ATTEMPTS and record.details["lastStatusCode"] == 503
    receiver.default = 200
    retried = admin.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{failed['id']}/retry")
    assert retried.status_code == 202 and retried.json()["status"] == "pending"
    assert deliver_due(desk) == 1
    [delivered] = deliveries(admin, endpoint)
    assert delivered["status"] == "delivered" and delivered["attemptCount"] == jobs.MAX_ATTEMPTS + 1
    assert len({lowered(request.headers)["webhook-id"] for request in receiver.requests}) == 1
    again = admin.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{failed['id']}/retry")
    assert again.status_code == 409 and again.json()["code"] == 5004


def test_a_410_gone_pauses_the_endpoint_without_retrying(desk, admin, partner_id, receiver, clock):
    endpoint = create_endpoint(admin, receiver.url)
    receiver.answer(410)
    publish(desk, partner_id)
    publish(desk, partner_id)
    assert deliver_due(desk) == 2  # the second job finds its delivery cancelled and sends nothing
    clock.advance(timedelta(days=4))
    assert deliver_due(desk) == 0
    assert len(receiver.requests) == 1
    assert admin.get(f"/v1/webhooks/{endpoint['id']}").json()["active"] is False
    assert sorted(d["status"] for d in deliveries(admin, endpoint)) == ["cancelled", "failed"]
    records = admin.get("/v1/activitylogs?action=webhook.endpoint_disabled").json()["items"]
    assert len(records) == 1 and records[0]["operatorType"] == "system"


def test_a_receiver_that_cannot_be_reached_is_recorded_without_the_url(desk, admin, partner_id, receiver):
    url = receiver.url + "/private-token-123"
    receiver.stop()
    endpoint = create_endpoint(admin, url)
    publish(desk, partner_id)
    assert deliver_due(desk) == 1
    [delivery] = deliveries(admin, endpoint)
    attempt = delivery["attempts"][0]
    assert delivery["status"] == "pending" and attempt["statusCode"] is None
    assert attempt["error"].startswith("request failed: ConnectError")
    assert "private-token-123" not in attempt["error"] and "127.0.0.1" not in attempt["error"]


def test_a_retry_after_answer_delays_the_next_attempt(desk, admin, partner_id, receiver):
    endpoint = create_endpoint(admin, receiver.url)
    receiver.answer(429)
    receiver.extra_headers = {"Retry-After": "120"}
    publish(desk, partner_id)
    deliver_due(desk)
    assert deliveries(admin, endpoint)[0]["nextAttemptAt"].startswith("2026-11-24T10:02:00")


def test_deleting_or_pausing_an_endpoint_cancels_what_is_pending(desk, admin, partner_id, receiver):
    deleted = create_endpoint(admin, receiver.url + "/deleted")
    paused = create_endpoint(admin, receiver.url + "/paused")
    publish(desk, partner_id)
    admin.delete(f"/v1/webhooks/{deleted['id']}")
    admin.patch(f"/v1/webhooks/{paused['id']}", json={"active": False})
    assert deliveries(admin, paused)[0]["status"] == "cancelled"
    assert deliver_due(desk) == 2
    assert receiver.requests == []
    with desk.database.session(write=False) as db:
        assert set(db.scalars(select(WebhookDelivery.status))) == {webhooks.DeliveryStatus.cancelled}


def test_a_job_claimed_by_a_crashed_worker_runs_again_after_its_lease(desk, admin, partner_id, receiver,
                                                                       clock):
    endpoint = create_endpoint(admin, receiver.url)
    event_id = publish(desk, partner_id)
    with desk.database.session() as db:
        crashed = jobs.claim_next(db, now=clock.now(), kinds=[webhooks.DELIVER_JOB])
    assert crashed is not None
    assert deliver_due(desk) == 0, "the lease is still held"
    clock.advance(jobs.DEFAULT_LEASE + timedelta(seconds=1))
    assert deliver_due(desk) == 1
    [request] = receiver.requests
    assert lowered(request.headers)["webhook-id"] == event_id
    verify(endpoint["secret"], request.headers, request.body, now=clock.now())
    with desk.database.session() as db:
        assert jobs.mark_succeeded(db, crashed, now=clock.now()) is False, "its lease is gone"
        job = db.scalar(select(Job))
        assert (job.status, job.attempts) == (JobStatus.succeeded, 2)


def test_concurrent_workers_deliver_each_event_once(desk, admin, partner_id, receiver):
    create_endpoint(admin, receiver.url)
    event_ids = {publish(desk, partner_id) for _ in range(24)}
    start = threading.Barrier(4)
    processed: list[int] = []

    def work() -> None:
        start.wait()
        processed.append(run_due_jobs(desk, limit=100))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    received = [lowered(request.headers)["webhook-id"] for request in receiver.requests]
    assert sorted(received) == sorted(event_ids), "every event exactly once"
    assert sum(processed) == 24


def test_the_worker_inside_the_app_delivers_without_being_called(settings, clock, receiver):
    """What `partnerdesk serve` does: the app's lifespan runs a worker thread that polls the queue."""
    from fastapi.testclient import TestClient

    from partnerdesk.app import create_app
    from tests.support.actors import Actors

    desk = Desk.from_settings(settings.model_copy(update={"run_worker": True, "worker_poll_seconds": 0.05}),
                              clock=clock)
    try:
        with TestClient(create_app(desk=desk)) as client:
            admin = Actors(desk=desk, client=client)(Role.admin_agent)
            endpoint = create_endpoint(admin, receiver.url)
            publish(desk, partner_id_of(desk, admin))
            [request] = receiver.wait_for(1)
            verify(endpoint["secret"], request.headers, request.body, now=clock.now())
    finally:
        desk.database.dispose()


def test_with_the_sandbox_clock_moved_the_signature_still_carries_the_wall_clock(desk, admin, partner_id,
                                                                                  receiver, clock):
    from partnerdesk.sandbox import service as sandbox

    endpoint = create_endpoint(admin, receiver.url)
    with desk.database.session() as db:
        test_clock = sandbox.advance(db, clock, sandbox=True, days=30)
        webhooks.publish_event(db, partner_id=partner_id, event_type="order.created", data={"orderId": "o-1"},
                               now=test_clock.now())
    assert deliver_due(desk) == 1
    [request] = receiver.requests
    verify(endpoint["secret"], request.headers, request.body, now=clock.now())
    assert json.loads(request.body)["timestamp"] == "2026-12-24T10:00:00Z"
