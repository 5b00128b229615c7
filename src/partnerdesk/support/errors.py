"""Support errors: service requests and refund requests (codes 70xx)."""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class ServiceRequestNotFound(DeskError):
    status_code = 404
    code = 7000


class InvalidLocale(DeskError):
    status_code = 400
    code = 7001


class UnknownSupportTopic(DeskError):
    status_code = 400
    code = 7002


class InvalidServiceRequest(DeskError):
    """A severity, contact, country, customer or filter the desk cannot take."""

    status_code = 400
    code = 7003


class InvalidServiceRequestChange(DeskError):
    status_code = 400
    code = 7004


class ServiceRequestClosed(DeskError):
    status_code = 409
    code = 7005


class StatusChangeForbidden(DeskError):
    """Agents may close their requests; only the operator sets any other status."""

    status_code = 403
    code = 7006


class RefundFilerRequired(DeskError):
    """Only an admin agent files a refund request (rule R6)."""

    status_code = 403
    code = 7010


class RefundItemsMissing(DeskError):
    """A refund request without one or more of the items rule R6 requires; `data` names every one."""

    status_code = 400
    code = 7011


class RefundCustomerUnknown(DeskError):
    status_code = 400
    code = 7012


class RefundPurchaseUnknown(DeskError):
    """The order or subscription is not one of the customer's."""

    status_code = 400
    code = 7013


class InvalidRefundAmount(DeskError):
    status_code = 400
    code = 7014


class RefundAmountTooHigh(DeskError):
    """More than was paid for the lines and not yet credited."""

    status_code = 400
    code = 7015


class RefundCurrencyMismatch(DeskError):
    status_code = 400
    code = 7016


class InvalidRefundReason(DeskError):
    status_code = 400
    code = 7017


class RefundNotExpected(DeskError):
    """A `refundRequest` on a topic other than the refund topic."""

    status_code = 400
    code = 7018
