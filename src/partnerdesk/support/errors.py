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


class NotARefundRequest(DeskError):
    """An approval or rejection of a request that asks for no refund."""

    status_code = 409
    code = 7020


class RefundAlreadyDecided(DeskError):
    status_code = 409
    code = 7021


class InvalidRefundDecision(DeskError):
    """An approved amount above what was asked, or a rejection without its reason."""

    status_code = 400
    code = 7022


class RefundNothingToCredit(DeskError):
    """Every line the refund names was cancelled and credited already (a direct cancel came first)."""

    status_code = 409
    code = 7023


class RefundWindowClosed(DeskError):
    """Rule R5's window closed and the operator gave no override reason."""

    status_code = 409
    code = 7024


class InvalidAttachment(DeskError):
    """A file a request cannot take: empty, too large, of a type not allowed, or badly named."""

    status_code = 400
    code = 7025


class TooManyAttachments(DeskError):
    status_code = 409
    code = 7026


class AttachmentNotFound(DeskError):
    status_code = 404
    code = 7027


class AttachmentUnavailable(DeskError):
    """The attachment's bytes cannot be read from the file store right now."""

    status_code = 503
    code = 7028
