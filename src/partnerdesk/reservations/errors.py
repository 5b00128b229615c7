"""Errors about Azure subscriptions and Reserved Instances (codes 35xx, inside the carts/orders range)."""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class AzureSubscriptionNotFound(DeskError):
    status_code = 404
    code = 3500


class NoActiveAzureSubscription(DeskError):
    """Rule R8: a Reserved Instance needs an active Azure subscription of the customer."""

    status_code = 400
    code = 3501


class AzureSubscriptionNotRegistered(DeskError):
    """Partner Center's purchase prerequisite: Microsoft.Capacity registered on the subscription."""

    status_code = 400
    code = 3502


class InvalidProvisioningContext(DeskError):
    """A Reserved Instance line's scope, subscription, duration or region does not fit rule R8."""

    status_code = 400
    code = 3503


class AzureSubscriptionInactive(DeskError):
    status_code = 409
    code = 3504


class ReservedInstanceArtifactNotFound(DeskError):
    """An entitlement's `entitledArtifacts[].link` that names no reservation of the customer (issue 16)."""

    status_code = 404
    code = 1701
