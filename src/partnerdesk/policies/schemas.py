"""API shapes of a policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.policies.service import PolicyView


class PolicyOut(ResponseModel):
    key: str
    rule: str
    description: str
    value: Any
    default_value: Any
    is_default: bool
    updated_at: datetime | None
    updated_by: str | None
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Policy"}

    @classmethod
    def of(cls, view: PolicyView) -> PolicyOut:
        return cls(
            key=view.key,
            rule=view.rule,
            description=view.description,
            value=view.value,
            default_value=view.default,
            is_default=view.is_default,
            updated_at=view.updated_at,
            updated_by=view.updated_by,
            links={"self": Link(uri=f"/v1/policies/{view.key}")},
        )


class PolicyIn(CamelModel):
    # Checked by the policy's own rule (a market list, a whole number...), so any JSON is accepted here.
    value: Any
