"""Policy errors (codes 29xx, beside the catalog whose rule R1 they first served)."""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class UnknownPolicy(DeskError):
    status_code = 404
    code = 2900


class InvalidPolicyValue(DeskError):
    status_code = 400
    code = 2901
