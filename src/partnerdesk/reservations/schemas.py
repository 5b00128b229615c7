"""Partner Center shapes of an Azure plan subscription and of its registration status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.reservations.models import AZURE_PLAN_OFFER_NAME, AzureSubscription


class AzurePlanSubscriptionIn(CamelModel):
    friendly_name: str | None = Field(None, max_length=200)


class AzureSubscriptionOut(ResponseModel):
    id: str
    offer_id: str
    offer_name: str = AZURE_PLAN_OFFER_NAME
    friendly_name: str
    quantity: int = 1
    unit_type: str = "Usage-based"
    creation_date: datetime
    effective_start_date: datetime
    status: str
    billing_type: str = "usage"
    billing_cycle: str = "monthly"
    contract_type: str = "subscription"
    registration_status: str
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Subscription"}

    @classmethod
    def of(cls, subscription: AzureSubscription) -> AzureSubscriptionOut:
        base = f"/v1/customers/{subscription.customer_id}/subscriptions/{subscription.id}"
        return cls(
            id=subscription.id,
            offer_id=subscription.offer_id,
            friendly_name=subscription.friendly_name,
            creation_date=subscription.created_at,
            effective_start_date=subscription.created_at,
            status=subscription.status,
            registration_status=subscription.capacity_registration,
            links={"self": Link(uri=base), "registrationStatus": Link(uri=f"{base}/registrationstatus")},
        )


class RegistrationStatusOut(ResponseModel):
    subscription_id: str
    status: str
    attributes: dict[str, Any] = {"objectType": "SubscriptionRegistrationStatus"}

    @classmethod
    def of(cls, subscription: AzureSubscription) -> RegistrationStatusOut:
        return cls(subscription_id=subscription.id, status=subscription.capacity_registration)
