"""Business errors of webhooks (codes 50xx)."""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class InvalidWebhookUrl(DeskError):
    status_code = 400
    code = 5000


class UnknownEventType(DeskError):
    status_code = 400
    code = 5001


class TooManyEndpoints(DeskError):
    status_code = 409
    code = 5002


class EndpointInactive(DeskError):
    status_code = 409
    code = 5003


class DeliveryNotRetryable(DeskError):
    status_code = 409
    code = 5004
