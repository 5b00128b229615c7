"""Rules for customers' Azure subscriptions and for the Reserved Instances bought on them (rule R8).

An Azure subscription is created under the customer's Azure plan and registered for reservations
(the Microsoft.Capacity provider) before a Reserved Instance can be bought for it. Checkout asks
`plan_reservation` whether a cart line's provisioning context fits, then `provision` writes the
reservations in the checkout's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.db import new_id
from partnerdesk.core.errors import Forbidden, InvalidInput
from partnerdesk.customers import service as customers
from partnerdesk.reservations.errors import (
    AzureSubscriptionInactive,
    AzureSubscriptionNotFound,
    AzureSubscriptionNotRegistered,
    InvalidProvisioningContext,
    NoActiveAzureSubscription,
    ReservedInstanceArtifactNotFound,
)
from partnerdesk.reservations.models import CAPACITY_PROVIDER, AzureSubscription, Reservation

SCOPES = ("Shared", "Single")
# Partner Center's `duration` words and the ISO 8601 terms they stand for.
DURATION_TERMS = {"1Year": "P1Y", "3Year": "P3Y"}
TERM_DURATIONS = {term: duration for duration, term in DURATION_TERMS.items()}
# What `provisioningContext.duration` may say, in any letter case: Partner Center's words or the term itself.
_DURATIONS_FOLDED = {**{word.casefold(): word for word in DURATION_TERMS},
                     **{term.casefold(): word for term, word in TERM_DURATIONS.items()}}
CONTEXT_KEYS = ("scope", "subscriptionId", "duration", "region")
REGISTRATION_PREREQUISITE = "AzureSubscriptionRegistration"


def create_azure_subscription(
    db: Session,
    *,
    principal: Principal,
    customer_id: str,
    friendly_name: str | None,
    now: datetime,
    request_id: str | None = None,
) -> AzureSubscription:
    """A new Azure subscription under the customer's Azure plan (not yet registered for reservations)."""
    customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
    if principal.partner_id is None:
        raise Forbidden("Azure subscriptions are created by the customer's partner, not the operator.")
    name = (friendly_name or "").strip() or f"Azure subscription of {customer.company_name}"
    if len(name) > 200:
        raise InvalidInput("friendlyName has at most 200 characters.", ["friendlyName"])
    subscription = AzureSubscription(
        id=new_id(), partner_id=customer.partner_id, customer_id=customer.id, friendly_name=name, status="active",
        capacity_registration="NotRegistered", created_at=now,
    )
    db.add(subscription)
    db.flush()
    audit.record(
        db, principal=principal, now=now, action="azure_subscription.created", object_type="azure_subscription",
        object_id=subscription.id, partner_id=customer.partner_id, customer_id=customer.id,
        request_id=request_id, details={"friendlyName": name},
    )
    return subscription


def list_azure_subscriptions(db: Session, *, principal: Principal, customer_id: str) -> Select:
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    return (
        select(AzureSubscription)
        .where(AzureSubscription.customer_id == customer_id)
        .order_by(AzureSubscription.created_at, AzureSubscription.id)
    )


def get_azure_subscription(
    db: Session, *, principal: Principal, customer_id: str, subscription_id: str
) -> AzureSubscription:
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    subscription = db.get(AzureSubscription, subscription_id)
    if subscription is None or subscription.customer_id != customer_id:
        raise AzureSubscriptionNotFound(
            f"Customer {customer_id} has no Azure subscription {subscription_id}.", [subscription_id]
        )
    return subscription


def register_for_reservations(
    db: Session,
    *,
    principal: Principal,
    customer_id: str,
    subscription_id: str,
    now: datetime,
    request_id: str | None = None,
) -> AzureSubscription:
    """Registers Microsoft.Capacity on the subscription; registering again changes nothing."""
    subscription = get_azure_subscription(
        db, principal=principal, customer_id=customer_id, subscription_id=subscription_id
    )
    if subscription.status != "active":
        raise AzureSubscriptionInactive(
            f"Azure subscription {subscription_id} is {subscription.status}; only an active one can be registered.",
            [subscription_id],
        )
    if subscription.capacity_registration != "Registered":
        subscription.capacity_registration = "Registered"
        subscription.capacity_registered_at = now
        db.flush()
        audit.record(
            db, principal=principal, now=now, action="azure_subscription.registered",
            object_type="azure_subscription", object_id=subscription.id, partner_id=subscription.partner_id,
            customer_id=customer_id, request_id=request_id, details={"provider": CAPACITY_PROVIDER},
        )
    return subscription


def active_azure_subscriptions(db: Session, customer_id: str) -> list[AzureSubscription]:
    """The customer's active Azure subscriptions, oldest first: one query, read once per checkout."""
    return list(
        db.scalars(
            select(AzureSubscription)
            .where(AzureSubscription.customer_id == customer_id, AzureSubscription.status == "active")
            .order_by(AzureSubscription.created_at, AzureSubscription.id)
        )
    )


@dataclass(frozen=True)
class ReservationPlan:
    """A cart line's provisioning context once checked: what the reservation will be."""

    scope: str
    billing_subscription_id: str
    applied_scopes: tuple[str, ...]
    region: str
    duration: str
    term_duration: str

    def provisioning_context(self) -> dict[str, str]:
        context = {"scope": self.scope, "subscriptionId": self.billing_subscription_id,
                   "duration": self.duration, "region": self.region}
        return context


def _normalised_context(context: dict[str, Any], field: str) -> dict[str, str]:
    allowed = {key.casefold(): key for key in CONTEXT_KEYS}
    normalised: dict[str, str] = {}
    for key, value in context.items():
        canonical = allowed.get(str(key).casefold())
        if canonical is None:
            raise InvalidProvisioningContext(
                f"{field}.{key} is not a provisioning variable of a Reserved Instance; use "
                + ", ".join(CONTEXT_KEYS) + ".",
                [f"{field}.{key}"],
            )
        if not isinstance(value, str) or not value.strip():
            raise InvalidProvisioningContext(f"{field}.{canonical} must be a non-empty string.",
                                             [f"{field}.{canonical}"])
        normalised[canonical] = value.strip()
    return normalised


def term_from_context(context: dict[str, Any] | None) -> str | None:
    """The term (`P1Y`) a Reserved Instance line's `provisioningContext.duration` names, or None.

    Partner Center's cart lines for Reserved Instances give the term there ("1Year") and no termDuration.
    """
    for key, value in (context or {}).items():
        if str(key).casefold() == "duration" and isinstance(value, str):
            word = _DURATIONS_FOLDED.get(value.strip().casefold())
            return DURATION_TERMS[word] if word else None
    return None


def _duration(value: str, *, field: str) -> str:
    word = _DURATIONS_FOLDED.get(value.casefold())
    if word is None:
        raise InvalidProvisioningContext(
            f"{field}: '{value}' is not a reservation duration; use one of: {', '.join(DURATION_TERMS)}.", [field])
    return word


def _region(regions: Sequence[str], values: dict[str, str], *, field: str) -> str:
    """The region of the reservation: the SKU's own when it is sold per region, else the one the line names."""
    given = values.get("region")
    if len(regions) == 1:
        if given is not None and given.casefold() != regions[0].casefold():
            raise InvalidProvisioningContext(
                f"{field}.region: '{given}' is not this SKU's region; the SKU is sold for {regions[0]} only "
                "(its dynamicAttributes.armRegionName): leave region out or choose the SKU of that region.",
                [f"{field}.region", regions[0]],
            )
        return regions[0]
    if given is None:
        raise InvalidProvisioningContext(
            f"{field}.region is required; this SKU can be reserved in: {', '.join(regions)}.", [f"{field}.region"]
        )
    return _pick(regions, given, field=f"{field}.region", what="a region of this SKU")


def _pick(options: Iterable[str], value: str, *, field: str, what: str) -> str:
    options = tuple(options)
    for option in options:
        if option.casefold() == value.casefold():
            return option
    raise InvalidProvisioningContext(
        f"{field}: '{value}' is not {what}; use one of: {', '.join(options)}.", [field]
    )


def _billing_subscription(
    subscriptions: Sequence[AzureSubscription], requested: str | None, *, customer_id: str, field: str,
    registration_required: bool,
) -> AzureSubscription:
    if not subscriptions:
        raise NoActiveAzureSubscription(
            f"Customer {customer_id} has no active Azure subscription; a Reserved Instance needs one (rule R8). "
            "Create one with POST /v1/customers/{customerId}/subscriptions/azureplan.",
            [customer_id],
        )
    if requested is not None:
        chosen = next((s for s in subscriptions if s.id.casefold() == requested.casefold()), None)
        if chosen is None:
            raise InvalidProvisioningContext(
                f"{field}.subscriptionId: {requested} is not an active Azure subscription of customer "
                f"{customer_id}.",
                [f"{field}.subscriptionId", requested],
            )
        candidates = [chosen]
    else:
        candidates = list(subscriptions)
    if registration_required:
        registered = [s for s in candidates if s.capacity_registration == "Registered"]
        if not registered:
            named = candidates[0].id if requested is not None else "any of the customer's subscriptions"
            raise AzureSubscriptionNotRegistered(
                f"Azure subscription {named} is not registered for reservations ({CAPACITY_PROVIDER}); register it "
                "with POST /v1/customers/{customerId}/subscriptions/{subscriptionId}/registrations.",
                [candidates[0].id],
            )
        candidates = registered
    return candidates[0]


def plan_reservation(
    *,
    context: dict[str, Any],
    field: str,
    customer_id: str,
    term_duration: str | None,
    regions: Sequence[str],
    purchase_prerequisites: Sequence[str],
    subscriptions: Sequence[AzureSubscription],
) -> ReservationPlan:
    """Checks a Reserved Instance line's provisioning context against rule R8; raises a 4xx naming the field."""
    values = _normalised_context(context, field)
    if "scope" not in values:
        raise InvalidProvisioningContext(f"{field}.scope is required: Shared or Single.", [f"{field}.scope"])
    scope = _pick(SCOPES, values["scope"], field=f"{field}.scope", what="a reservation scope")
    requested = values.get("subscriptionId")
    if scope == "Single" and requested is None:
        raise InvalidProvisioningContext(
            f"{field}.subscriptionId is required when the scope is Single: the Azure subscription the "
            "reservation applies to.",
            [f"{field}.subscriptionId"],
        )
    if term_duration not in TERM_DURATIONS:
        raise InvalidProvisioningContext(
            f"A Reserved Instance is bought for P1Y or P3Y, not {term_duration}.", [f"{field}.duration"]
        )
    duration = TERM_DURATIONS[term_duration]
    if "duration" in values:
        given = _duration(values["duration"], field=f"{field}.duration")
        if given != duration:
            raise InvalidProvisioningContext(
                f"{field}.duration {given} does not match termDuration {term_duration} (expected {duration}).",
                [f"{field}.duration"],
            )
    region = _region(regions, values, field=field)
    subscription = _billing_subscription(
        subscriptions, requested, customer_id=customer_id, field=field,
        registration_required=REGISTRATION_PREREQUISITE in purchase_prerequisites,
    )
    applied = (f"/subscriptions/{subscription.id}",) if scope == "Single" else ()
    return ReservationPlan(scope=scope, billing_subscription_id=subscription.id, applied_scopes=applied,
                           region=region, duration=duration, term_duration=term_duration)


@dataclass(frozen=True)
class ReservationToProvision:
    plan: ReservationPlan
    partner_id: str
    customer_id: str
    order_id: str
    line_item_number: int
    entitlement_id: str
    product_id: str
    sku_id: str
    display_name: str
    arm_sku_name: str
    quantity: int
    effective_date: datetime
    expiry_date: datetime


def provision(db: Session, reservations: Sequence[ReservationToProvision], *, now: datetime) -> list[dict[str, Any]]:
    """Writes the reservations in one statement and returns their rows (as the checkout answers them)."""
    rows = [
        {
            "id": new_id(),
            "reservation_order_id": new_id(),
            "partner_id": item.partner_id,
            "customer_id": item.customer_id,
            "order_id": item.order_id,
            "line_item_number": item.line_item_number,
            "entitlement_id": item.entitlement_id,
            "product_id": item.product_id,
            "sku_id": item.sku_id,
            "display_name": item.display_name,
            "arm_sku_name": item.arm_sku_name,
            "region": item.plan.region,
            "scope": item.plan.scope,
            "billing_subscription_id": item.plan.billing_subscription_id,
            "applied_scopes": list(item.plan.applied_scopes),
            "quantity": item.quantity,
            "term_duration": item.plan.term_duration,
            "effective_date": item.effective_date,
            "expiry_date": item.expiry_date,
            "provisioning_state": "Succeeded",
            "created_at": now,
        }
        for item in reservations
    ]
    if rows:
        db.execute(Reservation.__table__.insert(), rows)
    return rows


def reservations_by_entitlement(db: Session, entitlement_ids: Sequence[str]) -> dict[str, list[Reservation]]:
    """The reservation artifacts of some entitlements, in one query."""
    found: dict[str, list[Reservation]] = {}
    if not entitlement_ids:
        return found
    statement = (
        select(Reservation)
        .where(Reservation.entitlement_id.in_(list(entitlement_ids)))
        .order_by(Reservation.created_at, Reservation.id)
    )
    for reservation in db.scalars(statement):
        found.setdefault(reservation.entitlement_id, []).append(reservation)
    return found


def reservations_of_artifact(
    db: Session, *, principal: Principal, customer_id: str, reservation_order_id: str
) -> list[Reservation]:
    """The reservations behind one Reserved Instance artifact (an entitlement's `entitledArtifacts[].link`)."""
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    found = list(db.scalars(
        select(Reservation)
        .where(Reservation.customer_id == customer_id, Reservation.reservation_order_id == reservation_order_id)
        .order_by(Reservation.created_at, Reservation.id)
    ))
    if not found:
        raise ReservedInstanceArtifactNotFound(
            f"Customer {customer_id} has no Reserved Instance artifact {reservation_order_id}.", [reservation_order_id])
    return found


CANCELLED = "Cancelled"


def cancel_reservations(db: Session, entitlement_ids: Sequence[str]) -> int:
    """Rule R5: the reservations of cancelled purchases stop applying; returns how many were cancelled."""
    if not entitlement_ids:
        return 0
    result = db.execute(
        update(Reservation)
        .where(Reservation.entitlement_id.in_(list(entitlement_ids)), Reservation.provisioning_state != CANCELLED)
        .values(provisioning_state=CANCELLED)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount
