"""Managing agents: the list an admin agent (its partner's) or the operator (every partner's) sees, and their
API tokens. Each change is recorded in the activity log; a token's secret never is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Agent, ApiToken, Partner, PortalSession
from partnerdesk.accounts.permissions import manageable_agent
from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.errors import NotFound
from partnerdesk.policies import service as policies


@dataclass(frozen=True)
class AgentSummary:
    agent: Agent
    partner: Partner | None
    live_tokens: int
    live_sessions: int


def _live_counts(db: Session, agent_ids: list[str], now: datetime) -> tuple[dict[str, int], dict[str, int]]:
    if not agent_ids:
        return {}, {}
    tokens = dict(db.execute(
        select(ApiToken.agent_id, func.count()).where(ApiToken.agent_id.in_(agent_ids), ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.agent_id)).all())
    idle_minutes, most_hours = policies.portal_session_timeouts(db)
    sessions = dict(db.execute(
        select(PortalSession.agent_id, func.count())
        .where(PortalSession.agent_id.in_(agent_ids), PortalSession.revoked_at.is_(None),
               PortalSession.last_seen_at > now - timedelta(minutes=idle_minutes),
               PortalSession.created_at > now - timedelta(hours=most_hours))
        .group_by(PortalSession.agent_id)).all())
    return tokens, sessions


def agents_visible_to(db: Session, principal: Principal, *, now: datetime) -> list[AgentSummary]:
    """The partner's agents for an admin agent; every agent, partner by partner, for the operator."""
    manageable = select(Agent, Partner).outerjoin(Partner, Agent.partner_id == Partner.id)
    if not principal.is_operator:
        manageable_agent(db, principal, principal.agent_id)  # refuses roles that manage no agent
        manageable = manageable.where(Agent.partner_id == principal.partner_id)
    rows = db.execute(manageable.order_by(Partner.name.is_not(None), Partner.name, Agent.email)).all()
    tokens, sessions = _live_counts(db, [agent.id for agent, _ in rows], now)
    return [AgentSummary(agent, partner, tokens.get(agent.id, 0), sessions.get(agent.id, 0))
            for agent, partner in rows]


def agent_partner(db: Session, agent: Agent) -> Partner | None:
    return accounts.get_partner(db, agent.partner_id) if agent.partner_id else None


def tokens_of(db: Session, principal: Principal, agent_id: str) -> list[ApiToken]:
    """The agent's API tokens, live ones first, newest first."""
    agent = manageable_agent(db, principal, agent_id)
    return list(db.scalars(select(ApiToken).where(ApiToken.agent_id == agent.id)
                           .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)))


def create_token(db: Session, principal: Principal, *, agent_id: str, now: datetime,
                 request_id: str | None = None) -> str:
    """A new API token for the agent, returned this once (only its hash is kept)."""
    agent = manageable_agent(db, principal, agent_id)
    token = accounts.issue_token(db, agent, now=now)
    audit.record(db, principal=principal, now=now, action="token.created", object_type="agent", object_id=agent.id,
                 partner_id=agent.partner_id, request_id=request_id,
                 details={"agent": agent.email, "tokenPrefix": token[:12]})
    return token


def revoke_token(db: Session, principal: Principal, *, agent_id: str, token_id: str, now: datetime,
                 request_id: str | None = None) -> ApiToken:
    """Revokes one API token: the next request that sends it gets a 401."""
    agent = manageable_agent(db, principal, agent_id)
    token = db.get(ApiToken, token_id) if len(token_id) <= 36 else None
    if token is None or token.agent_id != agent.id:
        raise NotFound(f"{agent.email} has no API token {token_id}.", [token_id])
    if token.revoked_at is None:
        token.revoked_at = now
        db.flush()
        audit.record(db, principal=principal, now=now, action="token.revoked", object_type="agent",
                     object_id=agent.id, partner_id=agent.partner_id, request_id=request_id,
                     details={"agent": agent.email, "tokenPrefix": token.token_prefix})
    return token
