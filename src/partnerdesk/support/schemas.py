"""API shapes of service requests, as Partner Center's `ServiceRequest` (camelCase; money as strings)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictStr, model_validator

from partnerdesk.core.markets import market_pattern
from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.core.wire_types import NotBlank, StrictInteger, any_case_pattern
from partnerdesk.customers.schemas import EMAIL_PATTERN
from partnerdesk.support.models import STATUSES

ShortText = Annotated[StrictStr, Field(max_length=200)]


class SupportTopicOut(ResponseModel):
    id: int
    name: str
    description: str
    attributes: dict[str, str] = Field(default_factory=lambda: {"objectType": "SupportTopic"})


# What the document says of a new request, from the lists `support.service` checks against (read when the
# document is built: the service imports these shapes).
def _from_service(name: str, *, any_case: bool = False) -> Callable[[dict[str, Any]], None]:
    def add_pattern(schema: dict[str, Any]) -> None:
        from partnerdesk.support import service

        value = getattr(service, name)
        schema["pattern"] = any_case_pattern(value) if any_case else value

    return add_pattern


def _support_topics(schema: dict[str, Any]) -> None:
    """A topic id of `GET /v1/servicerequests/supporttopics`, as a number or its digits."""
    from partnerdesk.support.service import SUPPORT_TOPICS

    ids = [topic.id for topic in SUPPORT_TOPICS]
    for option in schema.get("anyOf", []):
        if option.get("type") == "integer":
            option["enum"] = ids
        elif option.get("type") == "string":
            option["pattern"] = any_case_pattern(str(topic_id) for topic_id in ids)


class ContactIn(CamelModel):
    first_name: NotBlank = Field(min_length=1, max_length=100)
    last_name: NotBlank = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=320, json_schema_extra={"pattern": EMAIL_PATTERN})
    phone_number: str = Field(min_length=1, max_length=40, json_schema_extra=_from_service("PHONE_PATTERN"))


class ContactOut(ResponseModel):
    first_name: str
    last_name: str
    email: str
    phone_number: str


class RefundRequestIn(CamelModel):
    """Every item is optional here so that the service can name every missing one at once (rule R6)."""

    customer_domain: ShortText | None = None
    customer_tenant_id: ShortText | None = None
    order_id: ShortText | None = None
    subscription_id: ShortText | None = None
    reason: ShortText | None = None
    reason_details: Annotated[StrictStr, Field(max_length=2000)] | None = None
    # A decimal string ("1234.56"), never a JSON number: money is never a float.
    amount: Annotated[StrictStr, Field(max_length=40)] | None = None
    currency: Annotated[StrictStr, Field(max_length=8)] | None = None


class RefundRequestOut(ResponseModel):
    customer_domain: str
    customer_tenant_id: str
    order_id: str
    # Left out of the answer when the request names the order only (the routes drop nulls), so not required.
    subscription_id: str | None = None
    reason: str
    reason_details: str
    amount: str
    currency: str
    # The operator's decision, once made: "approved" or "rejected".
    decision: str | None = None
    decided_date: datetime | None = None
    decided_by: str | None = None
    approved_amount: str | None = None
    credited_amount: str | None = None
    decision_note: str | None = None
    override_reason: str | None = None


class AttachmentOut(ResponseModel):
    id: str
    file_name: str
    content_type: str
    size: int
    created_date: datetime
    created_by: str
    links: dict[str, Link] = Field(default_factory=dict)


class RefundApprovalIn(CamelModel):
    """`POST .../refundrequest/approve`: by default the amount the request asks for."""

    amount: Annotated[StrictStr, Field(max_length=40)] | None = Field(
        None, description="Part of the amount asked, as a decimal string; by default all of it.")
    note: Annotated[StrictStr, Field(max_length=2000)] | None = None
    override_reason: Annotated[StrictStr, Field(max_length=2000)] | None = Field(
        None, description="Required after the cancellation window (rule R5) has closed; recorded.")


class RefundRejectionIn(CamelModel):
    reason: Annotated[StrictStr, Field(min_length=1, max_length=2000)]


def _without_read_only_fields(value: Any, kept: set[str]) -> Any:
    """Drops the fields of `ServiceRequestOut` a client echoes back (Partner Center's SDK sends the whole
    `ServiceRequest`); anything that is neither kept nor a field of the request stays an unknown field."""
    if not isinstance(value, dict):
        return value
    echoed = {field.alias or name for name, field in ServiceRequestOut.model_fields.items()}
    return {key: item for key, item in value.items() if key not in echoed or key in kept}


class ServiceRequestIn(CamelModel):
    title: NotBlank = Field(min_length=1, max_length=200)
    description: NotBlank = Field(min_length=1, max_length=10_000)
    severity: str = Field(min_length=1, max_length=16, description="minimal, moderate or critical",
                          json_schema_extra=_from_service("SEVERITIES", any_case=True))
    support_topic_id: Annotated[StrictStr, Field(min_length=1, max_length=20)] | StrictInteger = Field(
        json_schema_extra=_support_topics)
    primary_contact: ContactIn
    country_code: Annotated[str, Field(json_schema_extra={"pattern": f"^$|{market_pattern()}"})] | None = Field(
        None, max_length=2)
    customer_id: str | None = Field(None, max_length=36)
    refund_request: RefundRequestIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _echoed_request(cls, value: Any) -> Any:
        return _without_read_only_fields(value, {"title", "description", "severity", "supportTopicId",
                                                 "primaryContact", "countryCode", "customerId", "refundRequest"})


class NoteIn(CamelModel):
    text: NotBlank = Field(min_length=1, max_length=10_000)


def _note_or_status(schema: dict[str, Any]) -> None:
    """At least one of the two, not null (`support.service.update_request` refuses a PATCH that changes nothing)."""
    schema["anyOf"] = [{"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                       for name in ("newNote", "status")]


class ServiceRequestPatchIn(CamelModel):
    """`PATCH /v1/servicerequests/{id}`: a new note, a new status, or both."""

    model_config = ConfigDict(json_schema_extra=_note_or_status)

    new_note: NoteIn | None = None
    status: Annotated[str, Field(json_schema_extra={"pattern": any_case_pattern(STATUSES)})] | None = Field(
        None, max_length=20, description="open, attention_needed or closed")

    @model_validator(mode="before")
    @classmethod
    def _echoed_request(cls, value: Any) -> Any:
        return _without_read_only_fields(value, {"newNote", "status"})


class NoteOut(ResponseModel):
    created_by_name: str
    created_date: datetime
    text: str


class OrganizationOut(ResponseModel):
    id: str
    name: str


class ServiceRequestOut(ResponseModel):
    id: str
    title: str
    description: str
    severity: str
    support_topic_id: str
    support_topic_name: str
    status: str
    agent_locale: str
    country_code: str | None = None
    customer_id: str | None = None
    created_date: datetime
    last_updated_date: datetime
    last_closed_date: datetime | None = None
    organization: OrganizationOut
    primary_contact: ContactOut
    notes: list[NoteOut]
    attachments: list[AttachmentOut] = Field(default_factory=list)
    refund_request: RefundRequestOut | None = None
    links: dict[str, Link] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(default_factory=lambda: {"objectType": "ServiceRequest"})
