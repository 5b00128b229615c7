"""Webhook routes, for the partner's admin agents: endpoints, secrets, test pings, delivery history.

`POST /v1/webhooks` and `POST /v1/webhooks/{id}/rotate-secret` answer the signing secret
once. A retry with the same `MS-RequestId` replays the answer without it (`"secret": null`):
the secret is never stored where it could be read back; rotate it if the first answer was lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.core.idempotency import REPLAY_HEADER, run_once
from partnerdesk.core.pagination import ASC, DESC, PageRequest, SortKey, page_params, paginate, to_collection
from partnerdesk.core.schemas import Collection
from partnerdesk.webhooks import service
from partnerdesk.webhooks.events import EVENT_TYPES
from partnerdesk.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from partnerdesk.webhooks.schemas import (
    DeliveryOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointWithSecretOut,
    EventTypeOut,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

ADMINS = (Role.admin_agent,)
WebhookId = Path(alias="webhookId")


def _once(
    ctx: RequestContext, operation: str, payload: Any, work: Callable[[], tuple[int, Any]]
) -> JSONResponse:
    return run_once(ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
                    operation=operation, payload=payload, now=ctx.now, work=work)


def _answer_with_secret(
    ctx: RequestContext, operation: str, payload: Any, status: int,
    change: Callable[[], tuple[WebhookEndpoint, str]],
) -> JSONResponse:
    """Runs `change` once per request id; only a first answer shows the secret it returns."""
    revealed: dict[str, Any] = {}

    def work() -> tuple[int, dict]:
        endpoint, secret = change()
        body = EndpointWithSecretOut.of(endpoint).model_dump(mode="json")
        revealed.update(body=body, secret=secret)
        return status, body  # what the idempotency record keeps: no secret

    response = _once(ctx, operation, payload, work)
    if not revealed:
        return response
    return JSONResponse({**revealed["body"], "secret": revealed["secret"]}, status_code=status)


def _delivery_out(ctx: RequestContext, delivery: WebhookDelivery) -> DeliveryOut:
    progress = service.delivery_progress(ctx.db, [delivery])[delivery.id]
    return DeliveryOut.of(delivery, status=progress.status, next_attempt_at=progress.next_attempt_at,
                          attempts=progress.attempts)


@router.get("/eventtypes", response_model=Collection[EventTypeOut])
def list_event_types(ctx: RequestContext = allow(*ADMINS)) -> Collection[EventTypeOut]:
    items = [EventTypeOut(name=event.name, description=event.description, subscribable=event.subscribable,
                          example=event.example) for event in EVENT_TYPES.values()]
    return Collection[EventTypeOut](total_count=len(items), items=items)


@router.post("", status_code=201, response_model=EndpointWithSecretOut)
def create_webhook(body: EndpointIn, ctx: RequestContext = allow(*ADMINS)) -> JSONResponse:
    """Adds an endpoint; the answer holds its signing secret, shown this once.

    Each event is POSTed as JSON `{"type", "timestamp", "data"}` with the Standard Webhooks
    headers `webhook-id` (the same on every retry: drop duplicates by it), `webhook-timestamp`
    (Unix seconds) and `webhook-signature` (`v1,<base64>`; two space-separated signatures for
    a day after a rotation). To verify, compute HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{raw body}`
    keyed with the base64-decoded part of the secret after `whsec_`, compare it in constant time
    with each signature, and refuse timestamps more than five minutes away; in Python,
    `partnerdesk.webhooks.signing.verify(secret, headers, raw_body, now=...)` does all of it.
    Answer 2xx within 10 seconds; anything else is retried for about three days (5 s, 5 min,
    30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), and 410 Gone pauses the endpoint.
    """
    def change() -> tuple[WebhookEndpoint, str]:
        return service.create_endpoint(ctx.db, principal=ctx.principal, keyring=ctx.desk.keyring, data=body,
                                       now=ctx.now, request_id=ctx.request_id,
                                       allow_private=ctx.desk.settings.webhook_private_targets)

    return _answer_with_secret(ctx, "POST /v1/webhooks", body.model_dump(mode="json"), 201, change)


# The lists' orders (their service's), the keys their keyset pages start after (`core.pagination`): set here
# on the statement too, so the order and the key cannot drift apart.
ENDPOINT_ORDER = SortKey("webhooks", (WebhookEndpoint.created_at, ASC), (WebhookEndpoint.id, ASC))
DELIVERY_ORDER = SortKey("webhook-deliveries", (WebhookDelivery.created_at, DESC), (WebhookDelivery.id, DESC))


@router.get("", response_model=Collection[EndpointOut])
def list_webhooks(
    request: Request, ctx: RequestContext = allow(*ADMINS), page: PageRequest = Depends(page_params)
) -> Collection[EndpointOut]:
    statement = service.search_endpoints(ctx.principal).order_by(None).order_by(*ENDPOINT_ORDER.clauses())
    result = paginate(ctx.db, statement, page, sort=ENDPOINT_ORDER)
    return to_collection(result, request.url.path, dict(request.query_params), EndpointOut.of)


@router.get("/{webhookId}", response_model=EndpointOut)
def get_webhook(webhook_id: str = WebhookId, ctx: RequestContext = allow(*ADMINS)) -> EndpointOut:
    return EndpointOut.of(service.get_endpoint(ctx.db, principal=ctx.principal, endpoint_id=webhook_id))


@router.patch("/{webhookId}", response_model=EndpointOut)
def update_webhook(body: EndpointPatch, webhook_id: str = WebhookId,
                   ctx: RequestContext = allow(*ADMINS)) -> JSONResponse:
    def work() -> tuple[int, dict]:
        endpoint = service.update_endpoint(ctx.db, principal=ctx.principal, endpoint_id=webhook_id,
                                           changes=body, now=ctx.now, request_id=ctx.request_id,
                                           allow_private=ctx.desk.settings.webhook_private_targets)
        return 200, EndpointOut.of(endpoint).model_dump(mode="json")

    payload = {"webhookId": webhook_id, **body.model_dump(mode="json", exclude_unset=True)}
    return _once(ctx, "PATCH /v1/webhooks/{webhookId}", payload, work)


@router.delete("/{webhookId}", status_code=204)
def delete_webhook(webhook_id: str = WebhookId, ctx: RequestContext = allow(*ADMINS)) -> Response:
    def work() -> tuple[int, None]:
        service.delete_endpoint(ctx.db, principal=ctx.principal, endpoint_id=webhook_id, now=ctx.now,
                                request_id=ctx.request_id)
        return 204, None

    answer = _once(ctx, "DELETE /v1/webhooks/{webhookId}", {"webhookId": webhook_id}, work)
    # A 204 has no body at all (JSONResponse would send "null").
    replayed = {REPLAY_HEADER: answer.headers[REPLAY_HEADER]} if REPLAY_HEADER in answer.headers else None
    return Response(status_code=204, headers=replayed)


@router.post("/{webhookId}/rotate-secret", response_model=EndpointWithSecretOut)
def rotate_webhook_secret(webhook_id: str = WebhookId, ctx: RequestContext = allow(*ADMINS)) -> JSONResponse:
    def change() -> tuple[WebhookEndpoint, str]:
        return service.rotate_secret(ctx.db, principal=ctx.principal, keyring=ctx.desk.keyring,
                                     endpoint_id=webhook_id, now=ctx.now, request_id=ctx.request_id)

    operation = "POST /v1/webhooks/{webhookId}/rotate-secret"
    return _answer_with_secret(ctx, operation, {"webhookId": webhook_id}, 200, change)


@router.post("/{webhookId}/test", status_code=202, response_model=DeliveryOut)
def send_test_event(webhook_id: str = WebhookId, ctx: RequestContext = allow(*ADMINS)) -> JSONResponse:
    def work() -> tuple[int, dict]:
        delivery = service.send_test_event(ctx.db, principal=ctx.principal, endpoint_id=webhook_id,
                                           now=ctx.now, request_id=ctx.request_id)
        return 202, _delivery_out(ctx, delivery).model_dump(mode="json")

    return _once(ctx, "POST /v1/webhooks/{webhookId}/test", {"webhookId": webhook_id}, work)


@router.get("/{webhookId}/deliveries", response_model=Collection[DeliveryOut])
def list_deliveries(
    request: Request,
    webhook_id: str = WebhookId,
    ctx: RequestContext = allow(*ADMINS),
    page: PageRequest = Depends(page_params),
    status: DeliveryStatus | None = Query(None, description="pending, delivered, failed or cancelled."),
) -> Collection[DeliveryOut]:
    statement = service.search_deliveries(ctx.db, principal=ctx.principal, endpoint_id=webhook_id,
                                          status=status)
    result = paginate(ctx.db, statement.order_by(None).order_by(*DELIVERY_ORDER.clauses()), page, sort=DELIVERY_ORDER)
    progress = service.delivery_progress(ctx.db, list(result.rows))

    def convert(delivery: WebhookDelivery) -> DeliveryOut:
        state = progress[delivery.id]
        return DeliveryOut.of(delivery, status=state.status, next_attempt_at=state.next_attempt_at,
                              attempts=state.attempts)

    return to_collection(result, request.url.path, dict(request.query_params), convert)


@router.post("/{webhookId}/deliveries/{deliveryId}/retry", status_code=202, response_model=DeliveryOut)
def retry_delivery(
    webhook_id: str = WebhookId,
    delivery_id: str = Path(alias="deliveryId"),
    ctx: RequestContext = allow(*ADMINS),
) -> JSONResponse:
    def work() -> tuple[int, dict]:
        delivery = service.retry_delivery(ctx.db, principal=ctx.principal, endpoint_id=webhook_id,
                                          delivery_id=delivery_id, now=ctx.now, request_id=ctx.request_id)
        return 202, _delivery_out(ctx, delivery).model_dump(mode="json")

    payload = {"webhookId": webhook_id, "deliveryId": delivery_id}
    return _once(ctx, "POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry", payload, work)
