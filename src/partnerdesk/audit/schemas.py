"""API shapes of one activity record: Partner Desk's own, and Partner Center's `AuditRecord`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import Field

from partnerdesk.core.schemas import ResponseModel


class ActivityRecordOut(ResponseModel):
    id: int
    occurred_at: datetime
    partner_id: str | None
    agent_id: str | None
    agent_email: str
    operator_type: str
    customer_id: str | None
    action: str
    object_type: str
    object_id: str | None
    request_id: str | None
    details: dict[str, Any]


# Partner Center's audit records (`GET /v1/auditrecords`), read from the same activity log.
# The activity log's action -> Partner Center's (operationType, resourceType), where Partner Center
# documents one for the same operation; any other action keeps its own name, dots as underscores.
PARTNER_CENTER_OPERATIONS: dict[str, tuple[str, str]] = {
    "customer.created": ("add_customer", "customer"),
    "customer.updated": ("update_customer", "customer"),
    "billing_profile.updated": ("update_customer_billing_profile", "customer"),
    "order.created": ("create_order", "order"),
    "order.cancelled": ("update_order", "order"),
    "entitlement.created": ("create_entitlement", "subscription"),
    "entitlement.revoked": ("revoke_entitlement", "subscription"),
    "azure_subscription.created": ("create_azure_subscription", "subscription"),
    "azure_subscription.registered": ("register_azure_subscription", "subscription"),
}


def partner_center_operation(action: str, object_type: str) -> tuple[str, str]:
    return PARTNER_CENTER_OPERATIONS.get(action, (action.replace(".", "_"), object_type))


def object_types_of(resource_type: str) -> list[str]:
    """The activity log's object types that Partner Center's `resourceType` names (case-insensitively)."""
    wanted = resource_type.strip().casefold()
    types = {object_type for action, (_, kind) in PARTNER_CENTER_OPERATIONS.items()
             for object_type in [action.split(".")[0]] if kind == wanted}
    return sorted(types | {wanted})


class KeyValueOut(ResponseModel):
    key: str
    value: str | None


class AuditRecordOut(ResponseModel):
    """One activity record in Partner Center's `AuditRecord` shape."""

    partner_id: str | None
    customer_id: str | None
    customer_name: str | None
    user_principal_name: str
    application_id: str = "Partner Desk"
    resource_type: str
    resource_old_value: str | None = None
    resource_new_value: str = Field(description="The operation's details, as a JSON string.")
    operation_type: str = Field(description="add_customer, create_order, update_order, ...")
    operation_date: datetime
    operation_status: str = Field("succeeded", description="The log keeps operations that took place.")
    customized_data: list[KeyValueOut]
    attributes: dict[str, Any] = {"objectType": "AuditRecord"}

    @classmethod
    def of(cls, record: Any, customer_name: str | None) -> AuditRecordOut:
        operation, resource = partner_center_operation(record.action, record.object_type)
        details = record.details or {}
        data = [KeyValueOut(key="ObjectId", value=record.object_id)] if record.object_id else []
        data += [KeyValueOut(key=str(key), value=value if isinstance(value, str) or value is None
                             else json.dumps(value, separators=(",", ":"), default=str))
                 for key, value in details.items()]
        return cls(
            partner_id=record.partner_id, customer_id=record.customer_id, customer_name=customer_name,
            user_principal_name=record.agent_email, resource_type=resource,
            resource_new_value=json.dumps(details, separators=(",", ":"), default=str),
            operation_type=operation, operation_date=record.occurred_at, customized_data=data,
        )
