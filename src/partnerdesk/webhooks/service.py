"""Rules of webhooks: endpoint configuration, publishing events, and the bookkeeping of deliveries.

Other domains call `publish_event` inside their own transaction: the event and one delivery
job per subscribed endpoint are written with the change itself, so a rolled-back order
publishes nothing and a committed one is delivered even if the process dies right after
(the transactional outbox). The HTTP side of a delivery is in `delivery.py`.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Select, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from partnerdesk.accounts.models import Partner
from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.db import new_id
from partnerdesk.core.errors import Forbidden, InvalidInput, NotFound
from partnerdesk.core.secrets import KeyRing
from partnerdesk.jobs import service as jobs
from partnerdesk.jobs.models import JobStatus
from partnerdesk.webhooks import signing, targets
from partnerdesk.webhooks.errors import (
    DeliveryNotRetryable,
    EndpointInactive,
    InvalidWebhookUrl,
    TooManyEndpoints,
    UnknownEventType,
)
from partnerdesk.webhooks.events import EVENT_TYPES, TEST_EVENT, subscribable_event_types
from partnerdesk.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from partnerdesk.webhooks.schemas import EndpointIn, EndpointPatch

DELIVER_JOB = "webhook.deliver"
SECRET_PURPOSE = "webhook-secrets"
MAX_ENDPOINTS_PER_PARTNER = 20
# How long a rotated-out secret keeps signing, so receivers can switch without missing a delivery.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)
# Standard Webhooks advises small payloads; ids plus the resource fit well within this.
MAX_EVENT_DATA_BYTES = 64 * 1024
MAX_URL_LENGTH = 2048
GONE = 410


# --- validation -------------------------------------------------------------------------------

def normalise_url(url: str, *, field: str = "url", allow_private: bool = False) -> str:
    """An absolute http(s) URL with a host; credentials in it are refused (it is shown back in lists).

    Unless `allow_private`, a host that is a private or local address is refused (see webhooks.targets).
    """
    candidate = url.strip()
    problem = None
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        parts, problem = None, "is not a URL"
    if parts is not None:
        if len(candidate) > MAX_URL_LENGTH:
            problem = f"must be at most {MAX_URL_LENGTH} characters"
        elif any(character.isspace() or ord(character) < 32 for character in candidate):
            problem = "must not contain spaces or control characters"
        elif parts.scheme.lower() not in ("http", "https"):
            problem = "must start with http:// or https://"
        elif not parts.hostname:
            problem = "needs a host name"
        elif not _is_valid_host(candidate, parts.hostname):
            problem = "has a host name that is not valid"
        elif parts.username is not None or parts.password is not None:
            problem = "must not contain a user name or password; the signature authenticates the desk"
        elif not allow_private and (private := targets.private_host_problem(parts.hostname)):
            problem = (f"{private}; webhooks go to public hosts (the operator can allow private ones with "
                       f"{targets.PRIVATE_TARGETS_SETTING}=1)")
    if problem:
        shown = candidate if len(candidate) <= 100 else candidate[:100] + "…"
        raise InvalidWebhookUrl(f"{field}: '{shown}' {problem}, as in https://example.com/webhooks.", [field])
    return candidate


def normalise_event_types(names: list[str], *, field: str = "eventTypes") -> list[str]:
    """Known, subscribable event types, without duplicates, in the order given."""
    cleaned: list[str] = []
    for name in names:
        name = name.strip()
        event = EVENT_TYPES.get(name)
        if event is None or not event.subscribable:
            known = ", ".join(subscribable_event_types())
            raise UnknownEventType(f"{field}: '{name}' is not an event type; use one of: {known}.",
                                   [field, name])
        if name not in cleaned:
            cleaned.append(name)
    if not cleaned:
        raise InvalidInput(f"{field} must name at least one event type.", [field])
    return cleaned


def _is_valid_host(url: str, host: str) -> bool:
    """An IP address, or a name that encodes to ASCII for DNS as the HTTP client will need it."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        host.encode("idna")
        httpx.URL(url)
    except (UnicodeError, httpx.InvalidURL):
        return False
    return True


def _clean_description(text: str) -> str:
    if any(ord(character) < 32 and character not in "\t\n\r" for character in text):
        raise InvalidInput("description must not contain control characters.", ["description"])
    return text.strip()


def _is_id(value: str) -> bool:
    # Ids are UUIDs; anything else (including NUL bytes PostgreSQL would refuse) is simply not found.
    try:
        return len(value) == 36 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _url_origin(url: str) -> str:
    # The activity log keeps only the origin: paths and queries of webhook URLs often carry tokens.
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


# --- endpoints --------------------------------------------------------------------------------

def _partner_id(principal: Principal) -> str:
    if principal.partner_id is None:
        raise Forbidden("Webhook endpoints belong to a partner; only a partner's admin agents manage them.")
    return principal.partner_id


def _box(keyring: KeyRing) -> Fernet:
    return keyring.fernet(SECRET_PURPOSE)


def _audit_endpoint(
    db: Session, *, principal: Principal, now: datetime, action: str, endpoint: WebhookEndpoint,
    request_id: str | None, details: dict[str, Any],
) -> None:
    audit.record(db, principal=principal, now=now, action=action, object_type="webhook_endpoint",
                 object_id=endpoint.id, partner_id=endpoint.partner_id, request_id=request_id,
                 details=details)


def create_endpoint(
    db: Session, *, principal: Principal, keyring: KeyRing, data: EndpointIn, now: datetime,
    request_id: str | None = None, allow_private: bool = False,
) -> tuple[WebhookEndpoint, str]:
    """Creates an endpoint and returns it with its signing secret, which is never readable again."""
    partner_id = _partner_id(principal)
    url = normalise_url(data.url, allow_private=allow_private)
    event_types = normalise_event_types(data.event_types)
    # Serialises concurrent creates per partner so the cap holds (NO KEY UPDATE: inserts elsewhere
    # that merely reference the partner are not blocked).
    db.get(Partner, partner_id, with_for_update={"key_share": True})
    count = db.scalar(
        select(func.count()).select_from(WebhookEndpoint)
        .where(WebhookEndpoint.partner_id == partner_id, WebhookEndpoint.deleted_at.is_(None))
    )
    if count >= MAX_ENDPOINTS_PER_PARTNER:
        raise TooManyEndpoints(
            f"A partner may have at most {MAX_ENDPOINTS_PER_PARTNER} webhook endpoints; delete one first.",
            [MAX_ENDPOINTS_PER_PARTNER],
        )
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        partner_id=partner_id,
        url=url,
        description=_clean_description(data.description),
        event_types=event_types,
        is_active=True,
        secret_ciphertext=_box(keyring).encrypt(secret.encode()).decode(),
        created_at=now,
        updated_at=now,
    )
    db.add(endpoint)
    db.flush()
    _audit_endpoint(db, principal=principal, now=now, action="webhook.endpoint_created", endpoint=endpoint,
                    request_id=request_id, details={"urlOrigin": _url_origin(url), "eventTypes": event_types})
    return endpoint, secret


def get_endpoint(
    db: Session, *, principal: Principal, endpoint_id: str, for_update: bool = False
) -> WebhookEndpoint:
    """The endpoint, if it belongs to the caller's partner; anyone else's is simply not found."""
    endpoint = None
    if _is_id(endpoint_id):
        endpoint = db.get(WebhookEndpoint, endpoint_id, with_for_update=for_update)
    if endpoint is None or endpoint.deleted_at is not None or endpoint.partner_id != principal.partner_id:
        raise NotFound(f"No webhook endpoint with id {endpoint_id[:64]}.", [endpoint_id[:64]])
    return endpoint


def search_endpoints(principal: Principal) -> Select:
    return (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.partner_id == _partner_id(principal), WebhookEndpoint.deleted_at.is_(None))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )


def all_endpoints(db: Session) -> list[tuple[WebhookEndpoint, str]]:
    """Every partner's endpoints with the partner's name, for the operator's command line."""
    statement = (
        select(WebhookEndpoint, Partner.name)
        .join(Partner, Partner.id == WebhookEndpoint.partner_id)
        .where(WebhookEndpoint.deleted_at.is_(None))
        .order_by(Partner.name, WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return [(endpoint, name) for endpoint, name in db.execute(statement)]


def _cancel_pending_deliveries(db: Session, endpoint_id: str) -> None:
    db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == DeliveryStatus.pending)
        .values(status=DeliveryStatus.cancelled)
    )


_WIRE_NAMES = {"event_types": "eventTypes"}


def update_endpoint(
    db: Session, *, principal: Principal, endpoint_id: str, changes: EndpointPatch, now: datetime,
    request_id: str | None = None, allow_private: bool = False,
) -> WebhookEndpoint:
    """Changes the fields sent. Pausing an endpoint cancels the deliveries still pending for it."""
    given = changes.model_fields_set
    if not given:
        raise InvalidInput("Send at least one of url, eventTypes, description, active.", [])
    for name in sorted(given):
        if getattr(changes, name) is None:
            field = _WIRE_NAMES.get(name, name)
            raise InvalidInput(f"{field} must not be null; leave it out to keep it.", [field])
    endpoint = get_endpoint(db, principal=principal, endpoint_id=endpoint_id, for_update=True)
    details: dict[str, Any] = {"changed": sorted(_WIRE_NAMES.get(name, name) for name in given)}
    if "url" in given:
        endpoint.url = normalise_url(changes.url, allow_private=allow_private)
        details["urlOrigin"] = _url_origin(endpoint.url)
    if "event_types" in given:
        endpoint.event_types = normalise_event_types(changes.event_types)
        details["eventTypes"] = endpoint.event_types
    if "description" in given:
        endpoint.description = _clean_description(changes.description)
    if "active" in given:
        endpoint.is_active = changes.active
        details["active"] = changes.active
        if not changes.active:
            _cancel_pending_deliveries(db, endpoint.id)
    endpoint.updated_at = now
    db.flush()
    _audit_endpoint(db, principal=principal, now=now, action="webhook.endpoint_updated", endpoint=endpoint,
                    request_id=request_id, details=details)
    return endpoint


def delete_endpoint(
    db: Session, *, principal: Principal, endpoint_id: str, now: datetime, request_id: str | None = None
) -> None:
    endpoint = get_endpoint(db, principal=principal, endpoint_id=endpoint_id, for_update=True)
    endpoint.deleted_at = now
    endpoint.updated_at = now
    endpoint.is_active = False
    _cancel_pending_deliveries(db, endpoint.id)
    db.flush()
    _audit_endpoint(db, principal=principal, now=now, action="webhook.endpoint_deleted", endpoint=endpoint,
                    request_id=request_id, details={"urlOrigin": _url_origin(endpoint.url)})


def rotate_secret(
    db: Session, *, principal: Principal, keyring: KeyRing, endpoint_id: str, now: datetime,
    request_id: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new secret, returned once; the old one keeps signing alongside it for `PREVIOUS_SECRET_GRACE`."""
    endpoint = get_endpoint(db, principal=principal, endpoint_id=endpoint_id, for_update=True)
    secret = signing.new_secret()
    endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
    endpoint.previous_secret_expires_at = now + PREVIOUS_SECRET_GRACE
    endpoint.secret_ciphertext = _box(keyring).encrypt(secret.encode()).decode()
    endpoint.updated_at = now
    db.flush()
    _audit_endpoint(db, principal=principal, now=now, action="webhook.secret_rotated", endpoint=endpoint,
                    request_id=request_id,
                    details={"previousSecretValidUntil": endpoint.previous_secret_expires_at.isoformat()})
    return endpoint, secret


# --- publishing -------------------------------------------------------------------------------

def _checked_data(data: dict[str, Any]) -> dict[str, Any]:
    # Bad data here is a defect in the publishing code, not bad input from a user: fail loudly.
    if not isinstance(data, dict):
        raise TypeError("webhook event data must be a dict")
    try:
        encoded = json.dumps(data, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"webhook event data must be plain JSON (money as strings, times as ISO 8601): {error}"
        ) from None
    if len(encoded.encode()) > MAX_EVENT_DATA_BYTES:
        raise ValueError(
            f"webhook event data is larger than {MAX_EVENT_DATA_BYTES} bytes; send ids, not documents"
        )
    return json.loads(encoded)


@dataclass(frozen=True)
class PublishedEvent:
    id: str
    event_type: str


# Publishing runs inside checkouts: its statements are built once.
_INSERT_EVENT = insert(WebhookEvent.__table__)
_endpoint = WebhookEndpoint.__table__.c
_SUBSCRIBED_ENDPOINTS = (
    select(_endpoint.id, _endpoint.event_types)
    .where(_endpoint.partner_id == bindparam("partner_id"), _endpoint.is_active, _endpoint.deleted_at.is_(None))
    .order_by(_endpoint.created_at, _endpoint.id)
)


def _record_event(db: Session, *, partner_id: str, event_type: str, data: dict[str, Any],
                  now: datetime) -> PublishedEvent:
    event = PublishedEvent(id=new_id(), event_type=event_type)
    db.execute(_INSERT_EVENT, [{"id": event.id, "partner_id": partner_id, "event_type": event_type,
                                "data": _checked_data(data), "occurred_at": now}])
    return event


def _enqueue_delivery(db: Session, *, event: PublishedEvent, endpoint_id: str, now: datetime) -> WebhookDelivery:
    delivery_id = new_id()
    job = jobs.enqueue(db, kind=DELIVER_JOB, payload={"deliveryId": delivery_id}, now=now)
    delivery = WebhookDelivery(
        id=delivery_id,
        event_id=event.id,
        endpoint_id=endpoint_id,
        event_type=event.event_type,
        job_id=job.id,
        status=DeliveryStatus.pending,
        attempt_count=0,
        created_at=now,
    )
    db.add(delivery)
    db.flush()
    return delivery


def publish_event(
    db: Session, *, partner_id: str, event_type: str, data: dict[str, Any], now: datetime
) -> PublishedEvent:
    """Records an event of `partner_id` and queues its delivery to every active endpoint subscribed to it.

    Call it inside the transaction that makes the change; it flushes and never commits.
    `data` is the event's `data` object on the wire: camelCase, JSON only, no secrets.
    """
    event_kind = EVENT_TYPES.get(event_type)
    if event_kind is None or not event_kind.subscribable:
        raise UnknownEventType(f"'{event_type}' is not an event type that can be published.", [event_type])
    event = _record_event(db, partner_id=partner_id, event_type=event_type, data=data, now=now)
    for endpoint in db.execute(_SUBSCRIBED_ENDPOINTS, {"partner_id": partner_id}):
        if event_type in endpoint.event_types:
            _enqueue_delivery(db, event=event, endpoint_id=endpoint.id, now=now)
    return event


def send_test_event(
    db: Session, *, principal: Principal, endpoint_id: str, now: datetime, request_id: str | None = None
) -> WebhookDelivery:
    """Queues a `webhook.test` ping to one endpoint, whatever event types it subscribes to."""
    endpoint = get_endpoint(db, principal=principal, endpoint_id=endpoint_id)
    if not endpoint.is_active:
        raise EndpointInactive(f"Webhook endpoint {endpoint_id} is paused; activate it to send a test.",
                               [endpoint_id])
    data = {"webhookId": endpoint.id, "message": "A test event from Partner Desk."}
    event = _record_event(db, partner_id=endpoint.partner_id, event_type=TEST_EVENT, data=data, now=now)
    delivery = _enqueue_delivery(db, event=event, endpoint_id=endpoint.id, now=now)
    _audit_endpoint(db, principal=principal, now=now, action="webhook.test_sent", endpoint=endpoint,
                    request_id=request_id, details={"eventId": event.id})
    return delivery


# --- deliveries -------------------------------------------------------------------------------

def search_deliveries(
    db: Session, *, principal: Principal, endpoint_id: str, status: DeliveryStatus | None = None
) -> Select:
    get_endpoint(db, principal=principal, endpoint_id=endpoint_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return statement.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())


@dataclass(frozen=True)
class DeliveryProgress:
    status: DeliveryStatus
    next_attempt_at: datetime | None
    attempts: list[WebhookAttempt]


def delivery_progress(db: Session, deliveries: list[WebhookDelivery]) -> dict[str, DeliveryProgress]:
    """Attempts and the next retry time of each delivery, read in two queries for the whole page."""
    ids = [delivery.id for delivery in deliveries]
    attempts: dict[str, list[WebhookAttempt]] = {delivery_id: [] for delivery_id in ids}
    if ids:
        for attempt in db.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)).order_by(WebhookAttempt.number)
        ):
            attempts[attempt.delivery_id].append(attempt)
    pending = [delivery.job_id for delivery in deliveries if delivery.status is DeliveryStatus.pending]
    states = jobs.job_states(db, pending)
    progress = {}
    for delivery in deliveries:
        status, next_attempt_at = delivery.status, None
        if status is DeliveryStatus.pending:
            state = states.get(delivery.job_id)
            if state is None or state.status is JobStatus.dead:
                # The job gave up without the delivery hearing of it (its last worker vanished).
                status = DeliveryStatus.failed
            else:
                next_attempt_at = state.run_after
        progress[delivery.id] = DeliveryProgress(status=status, next_attempt_at=next_attempt_at,
                                                 attempts=attempts[delivery.id])
    return progress


def retry_delivery(
    db: Session, *, principal: Principal, endpoint_id: str, delivery_id: str, now: datetime,
    request_id: str | None = None,
) -> WebhookDelivery:
    """Sends a failed or cancelled delivery again, with a fresh set of attempts (the same webhook-id)."""
    endpoint = get_endpoint(db, principal=principal, endpoint_id=endpoint_id)
    delivery = db.get(WebhookDelivery, delivery_id, with_for_update=True) if _is_id(delivery_id) else None
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(f"No delivery with id {delivery_id[:64]} for this endpoint.", [delivery_id[:64]])
    if not endpoint.is_active:
        raise EndpointInactive(f"Webhook endpoint {endpoint_id} is paused; activate it first.", [endpoint_id])
    status = delivery_progress(db, [delivery])[delivery.id].status
    if status not in (DeliveryStatus.failed, DeliveryStatus.cancelled):
        raise DeliveryNotRetryable(
            f"Delivery {delivery_id} is {status.value}; only a failed or cancelled delivery can be resent.",
            [delivery_id],
        )
    delivery.job_id = jobs.enqueue(db, kind=DELIVER_JOB, payload={"deliveryId": delivery.id}, now=now).id
    delivery.status = DeliveryStatus.pending
    db.flush()
    _audit_endpoint(db, principal=principal, now=now, action="webhook.delivery_retried", endpoint=endpoint,
                    request_id=request_id, details={"deliveryId": delivery.id, "eventId": delivery.event_id})
    return delivery


# --- one attempt, as the delivery job sees it ---------------------------------------------------

@dataclass(frozen=True)
class OutgoingRequest:
    """A signed request, ready to send; built in a transaction, sent outside of any."""

    delivery_id: str
    url: str
    body: bytes
    headers: dict[str, str]


def envelope(event: WebhookEvent) -> bytes:
    """The body every endpoint receives: Standard Webhooks' {type, timestamp, data}, compact JSON."""
    document = {
        "type": event.event_type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _signing_secrets(endpoint: WebhookEndpoint, keyring: KeyRing, now: datetime) -> list[str]:
    box = _box(keyring)
    in_use = [box.decrypt(endpoint.secret_ciphertext.encode()).decode()]
    if endpoint.previous_secret_ciphertext and endpoint.previous_secret_expires_at \
            and endpoint.previous_secret_expires_at > now:
        in_use.append(box.decrypt(endpoint.previous_secret_ciphertext.encode()).decode())
    return in_use


def prepare_attempt(
    db: Session, *, keyring: KeyRing, delivery_id: str, now: datetime, signed_at: datetime
) -> OutgoingRequest | None:
    """The signed request for the next attempt, or None when there is nothing (left) to send.

    `now` is the desk's time (moved by the sandbox test clock); `signed_at` is the wall
    clock, because receivers check `webhook-timestamp` against their own clocks.
    """
    delivery = db.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status is not DeliveryStatus.pending:
        return None
    endpoint = db.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or endpoint.deleted_at is not None or not endpoint.is_active:
        delivery.status = DeliveryStatus.cancelled
        db.flush()
        return None
    event = db.get(WebhookEvent, delivery.event_id)
    body = envelope(event)
    headers = signing.signed_headers(_signing_secrets(endpoint, keyring, now), message_id=event.id,
                                     timestamp=int(signed_at.timestamp()), body=body)
    return OutgoingRequest(delivery_id=delivery.id, url=endpoint.url, body=body, headers=headers)


@dataclass(frozen=True)
class AttemptOutcome:
    status_code: int | None
    duration_ms: int
    error: str | None
    # How long the receiver asked us to wait (Retry-After), if it did.
    retry_after: timedelta | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def record_attempt(
    db: Session, *, delivery_id: str, outcome: AttemptOutcome, now: datetime, final: bool
) -> DeliveryStatus:
    """Writes the attempt and moves the delivery on: delivered, retried later, or failed for good.

    A 410 Gone answer means the receiver wants no more webhooks: the endpoint is paused.
    """
    if outcome.status_code == GONE:
        # Lock the endpoint before the delivery, in the order pausing and deleting take them.
        endpoint_id = db.scalar(select(WebhookDelivery.endpoint_id).where(WebhookDelivery.id == delivery_id))
        db.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    delivery = db.get(WebhookDelivery, delivery_id, with_for_update=True)
    delivery.attempt_count += 1
    db.add(WebhookAttempt(
        delivery_id=delivery.id,
        number=delivery.attempt_count,
        attempted_at=now,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        succeeded=outcome.succeeded,
        error=jobs.truncate_error(outcome.error) if outcome.error else None,
    ))
    delivery.last_status_code = outcome.status_code
    delivery.last_attempt_at = now
    if outcome.succeeded:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
    elif outcome.status_code == GONE:
        delivery.status = DeliveryStatus.failed
        _pause_gone_endpoint(db, delivery.endpoint_id, now)
    elif final:
        delivery.status = DeliveryStatus.failed
        _audit_failed_delivery(db, delivery, now)
    else:
        delivery.status = DeliveryStatus.pending
    db.flush()
    return delivery.status


def _pause_gone_endpoint(db: Session, endpoint_id: str, now: datetime) -> None:
    endpoint = db.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if not endpoint.is_active:
        return
    endpoint.is_active = False
    endpoint.updated_at = now
    _cancel_pending_deliveries(db, endpoint.id)
    audit.record(db, principal=None, now=now, action="webhook.endpoint_disabled",
                 object_type="webhook_endpoint", object_id=endpoint.id, partner_id=endpoint.partner_id,
                 details={"reason": "the receiver answered 410 Gone", "urlOrigin": _url_origin(endpoint.url)})


def _audit_failed_delivery(db: Session, delivery: WebhookDelivery, now: datetime) -> None:
    endpoint = db.get(WebhookEndpoint, delivery.endpoint_id)
    details = {"endpointId": endpoint.id, "eventId": delivery.event_id, "eventType": delivery.event_type,
               "attempts": delivery.attempt_count, "lastStatusCode": delivery.last_status_code}
    audit.record(db, principal=None, now=now, action="webhook.delivery_failed",
                 object_type="webhook_delivery", object_id=delivery.id, partner_id=endpoint.partner_id,
                 details=details)


# --- history ------------------------------------------------------------------------------------

FINAL_STATUSES = (DeliveryStatus.delivered, DeliveryStatus.failed, DeliveryStatus.cancelled)


@dataclass(frozen=True)
class PurgedHistory:
    events: int
    deliveries: int
    attempts: int


def purge_history(db: Session, *, occurred_before: datetime) -> PurgedHistory:
    """Deletes webhook history older than `occurred_before`: finished deliveries (with their attempts)
    of events that occurred before it, then those events once no delivery of them is left.

    A delivery still being retried, and its event, are kept whatever their age: the receiver may yet
    get it. What was ordered or cancelled stays in the activity log; this is only the delivery record.
    """
    old_finished = (
        select(WebhookDelivery.id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookEvent.occurred_at < occurred_before, WebhookDelivery.status.in_(FINAL_STATUSES))
    )
    attempts = db.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old_finished)))
    deliveries = db.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(old_finished)))
    events = db.execute(
        delete(WebhookEvent).where(
            WebhookEvent.occurred_at < occurred_before,
            ~exists().where(WebhookDelivery.event_id == WebhookEvent.id),
        )
    )
    return PurgedHistory(events=events.rowcount or 0, deliveries=deliveries.rowcount or 0,
                         attempts=attempts.rowcount or 0)
