"""Who may manage which agent: an admin agent its own partner's agents, the operator every agent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from partnerdesk.accounts.models import Agent, Role
from partnerdesk.accounts.service import Principal
from partnerdesk.core.errors import Forbidden, NotFound

MANAGERS = (Role.admin_agent, Role.operator)


def manageable_agent(db: Session, principal: Principal, agent_id: str) -> Agent:
    """The agent `principal` may manage (tokens, sessions); another partner's agent is a 404, as in the API."""
    if principal.role not in MANAGERS:
        raise Forbidden(f"The {principal.role.value} role may not manage agents; it is for: admin_agent, operator.",
                        [principal.role.value])
    agent = db.get(Agent, agent_id) if len(agent_id) <= 36 else None
    if agent is None or not (principal.is_operator or agent.partner_id == principal.partner_id):
        raise NotFound(f"No agent with id {agent_id}.", [agent_id])
    return agent
