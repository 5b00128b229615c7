"""API shapes of webhook endpoints, deliveries and event types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.webhooks.events import subscribable_event_types
from partnerdesk.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

MAX_EVENT_TYPES = 50


# What the document can say of an endpoint (`webhooks.service` checks it, with its own codes): an http(s) URL
# without spaces or control characters, known event types, a description without control characters but tabs
# and line breaks. What it cannot say: that the URL's host resolves to public addresses only (the SSRF guard).
URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\x00-\\x1f\\x85]+$"
DESCRIPTION_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"


def _url(schema: dict[str, Any]) -> None:
    schema.update(format="uri", pattern=URL_PATTERN)


def _event_type(schema: dict[str, Any]) -> None:
    schema["enum"] = subscribable_event_types()


EndpointUrl = Annotated[str, Field(json_schema_extra=_url)]
EventType = Annotated[str, Field(json_schema_extra=_event_type)]
Description = Annotated[str, Field(json_schema_extra={"pattern": DESCRIPTION_PATTERN})]


class EndpointIn(CamelModel):
    url: EndpointUrl = Field(min_length=1, max_length=2048, description="Where events are POSTed: an http(s) URL.")
    event_types: list[EventType] = Field(min_length=1, max_length=MAX_EVENT_TYPES,
                                         description="Event types to receive, e.g. order.created.")
    description: Description = Field("", max_length=500)


def _some_change_and_no_null(schema: dict[str, Any]) -> None:
    """At least one field, and none null (`webhooks.service.update_endpoint`: leave a field out to keep it)."""
    for field in schema["properties"].values():
        options = [option for option in field.pop("anyOf", []) if option.get("type") != "null"]
        if options:
            field.update(options[0])
        field.pop("default", None)
    schema["anyOf"] = [{"required": [name]} for name in schema["properties"]]


class EndpointPatch(CamelModel):
    """Only the fields sent change; at least one is needed, none null."""

    model_config = ConfigDict(json_schema_extra=_some_change_and_no_null)

    url: EndpointUrl | None = Field(None, min_length=1, max_length=2048)
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=MAX_EVENT_TYPES)
    description: Description | None = Field(None, max_length=500)
    active: bool | None = None


class EndpointOut(ResponseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "WebhookEndpoint"}

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointOut:
        path = f"/v1/webhooks/{endpoint.id}"
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            active=endpoint.is_active,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
            links={"self": Link(uri=path), "deliveries": Link(uri=f"{path}/deliveries")},
        )


class EndpointWithSecretOut(EndpointOut):
    # Present only in the first answer to a create or a rotation; a replayed answer carries null.
    secret: str | None = Field(
        None, description="The signing secret (whsec_...). Shown only in this answer: store it now."
    )


class AttemptOut(ResponseModel):
    number: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    succeeded: bool
    error: str | None

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptOut:
        return cls.model_validate(attempt)


class DeliveryOut(ResponseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    last_status_code: int | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[AttemptOut]
    attributes: dict[str, Any] = {"objectType": "WebhookDelivery"}

    @classmethod
    def of(
        cls,
        delivery: WebhookDelivery,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        attempts: list[WebhookAttempt],
    ) -> DeliveryOut:
        return cls(
            id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=status,
            attempt_count=delivery.attempt_count,
            last_status_code=delivery.last_status_code,
            last_attempt_at=delivery.last_attempt_at,
            next_attempt_at=next_attempt_at,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
            attempts=[AttemptOut.of(attempt) for attempt in attempts],
        )


class EventTypeOut(ResponseModel):
    name: str
    description: str
    subscribable: bool
    example: dict[str, Any] = Field(description="An example of the event's `data` object.")
