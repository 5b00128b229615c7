"""Hybrid Benefit errors: estimates and the VM rate table (codes 80xx)."""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class InvalidEstimate(DeskError):
    """A fleet or licence inventory the calculator cannot take; `data` names the field, as `vms[0].vCpus`."""

    status_code = 400
    code = 8000


class UnknownEdition(DeskError):
    status_code = 400
    code = 8001


class InvalidRate(DeskError):
    """A negative rate, or a Windows rate below the base rate."""

    status_code = 400
    code = 8002


class RateNotFound(DeskError):
    """A VM line names a size and region the operator's rate table has no rate for (in that currency)."""

    status_code = 400
    code = 8003


class InvalidReservationTerm(DeskError):
    status_code = 400
    code = 8004


class EstimateNotFound(DeskError):
    status_code = 404
    code = 8005


class InvalidRateTable(DeskError):
    """A rate table file with a bad row: `data` lists each problem by line; nothing was imported."""

    status_code = 400
    code = 8010


class NothingToSuggest(DeskError):
    """The estimate suggests no product to buy for this customer, so no cart was made."""

    status_code = 409
    code = 8020
