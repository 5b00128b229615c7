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
