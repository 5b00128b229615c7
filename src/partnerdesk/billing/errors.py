"""Billing errors (codes 4xxx)."""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class InvoiceNotFound(DeskError):
    status_code = 404
    code = 4000


class CreditLimitExceeded(DeskError):
    """The purchase would take the partner's unpaid balance past its credit limit: nothing was written."""

    status_code = 402
    code = 4001


class InvalidCreditLimit(DeskError):
    status_code = 400
    code = 4002


class InvalidBillingPeriod(DeskError):
    status_code = 400
    code = 4003


class PartnerNotFound(DeskError):
    status_code = 404
    code = 4004


class InvoiceNotPayable(DeskError):
    status_code = 409
    code = 4005


class InvalidBillingProfile(DeskError):
    status_code = 400
    code = 4006


class InvoiceClosed(DeskError):
    """The invoice was closed at the end of its month and never changes; corrections go on the next one."""

    status_code = 409
    code = 4100


class InvoiceStillOpen(DeskError):
    """An invoice is closed only once its month has ended."""

    status_code = 409
    code = 4101


class StatementLanguageNotSupported(DeskError):
    status_code = 400
    code = 4102


class InvoiceFontMissing(DeskError):
    """The Unicode font the PDF statement needs is not installed (Debian's fonts-dejavu-core)."""

    status_code = 503
    code = 4103


class SubscriptionNotRenewable(DeskError):
    """Only an active subscription with a term renews (perpetual software, cancelled or expired ones do not)."""

    status_code = 409
    code = 4104
