"""`/v1/policies`: every role may read the rules' numbers; only the operator changes them."""

from __future__ import annotations

from fastapi import APIRouter, Path

from partnerdesk.accounts.auth import ANY_ROLE, RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.core.schemas import Collection
from partnerdesk.policies import service
from partnerdesk.policies.schemas import PolicyIn, PolicyOut

router = APIRouter(prefix="/v1/policies", tags=["policies"])

PolicyKey = Path(alias="key", min_length=1, max_length=64)


@router.get("", response_model=Collection[PolicyOut])
def list_policies(ctx: RequestContext = allow(*ANY_ROLE)) -> Collection[PolicyOut]:
    items = [PolicyOut.of(view) for view in service.list_policies(ctx.db)]
    return Collection[PolicyOut](total_count=len(items), items=items)


@router.get("/{key}", response_model=PolicyOut)
def get_policy(key: str = PolicyKey, ctx: RequestContext = allow(*ANY_ROLE)) -> PolicyOut:
    return PolicyOut.of(service.get_policy(ctx.db, key))


@router.put("/{key}", response_model=PolicyOut)
def set_policy(
    body: PolicyIn, key: str = PolicyKey, ctx: RequestContext = allow(Role.operator)
) -> PolicyOut:
    view = service.set_policy(
        ctx.db, key=key, value=body.value, principal=ctx.principal, now=ctx.now, request_id=ctx.request_id
    )
    return PolicyOut.of(view)


@router.delete("/{key}", response_model=PolicyOut)
def reset_policy(key: str = PolicyKey, ctx: RequestContext = allow(Role.operator)) -> PolicyOut:
    """Puts the policy back to the seed's default."""
    return PolicyOut.of(
        service.reset_policy(
            ctx.db, key=key, principal=ctx.principal, now=ctx.now, request_id=ctx.request_id
        )
    )
