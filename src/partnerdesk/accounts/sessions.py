"""Portal sessions kept on the server: one row per sign-in, found by the hash of the browser's random token.

A session ends when the agent signs out, when its password changes, when an admin agent of its
partner or the operator revokes it, or when one of the operator's timeouts passes
(`portal_session_idle_minutes` since it was last used, `portal_session_max_hours` since sign-in).
A cookie copied before any of these signs nobody in afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from partnerdesk.accounts.models import Agent, PortalSession
from partnerdesk.accounts.permissions import manageable_agent
from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.errors import NotFound
from partnerdesk.core.secrets import hash_token
from partnerdesk.policies import service as policies

# The last use is written at most this often, so browsing costs no write per page.
TOUCH_INTERVAL = timedelta(minutes=1)
SIGNED_OUT = "signed_out"
PASSWORD_CHANGED = "password_changed"
REVOKED = "revoked"


@dataclass(frozen=True)
class LiveSession:
    """The session a request's token names, still in force."""

    id: str
    agent_id: str
    # Whether `last_seen_at` is older than TOUCH_INTERVAL and should be moved to now (`touch`).
    touch_due: bool


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def start_session(db: Session, *, agent_id: str, now: datetime, ip_address: str = "",
                  user_agent: str = "") -> str:
    """Opens a session for `agent_id` and returns its token: the browser keeps it, the table keeps its hash."""
    token = new_session_token()
    db.add(PortalSession(agent_id=agent_id, token_hash=hash_token(token), created_at=now, last_seen_at=now,
                         ip_address=ip_address[:64], user_agent=user_agent[:200]))
    db.flush()
    return token


def _limits(db: Session, now: datetime) -> tuple[datetime, datetime]:
    """(last use after which a session is still alive, sign-in after which it is still alive)."""
    idle_minutes, most_hours = policies.portal_session_timeouts(db)
    return now - timedelta(minutes=idle_minutes), now - timedelta(hours=most_hours)


# Every portal page runs it: on the table's columns (see CONTRIBUTING, "How a write is done").
_session = PortalSession.__table__.c
_SESSION_OF_TOKEN = select(_session.id, _session.agent_id, _session.created_at, _session.last_seen_at).where(
    _session.token_hash == bindparam("token_hash"), _session.revoked_at.is_(None))


def live_session(db: Session, token: str, *, now: datetime) -> LiveSession | None:
    """The session of `token` if it is neither revoked nor timed out; None otherwise."""
    if not token or len(token) > 100:
        return None
    row = db.execute(_SESSION_OF_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    idle_since, started_since = _limits(db, now)
    if row.last_seen_at <= idle_since or row.created_at <= started_since:
        return None
    return LiveSession(id=row.id, agent_id=row.agent_id, touch_due=now - row.last_seen_at >= TOUCH_INTERVAL)


def touch(db: Session, session_id: str, *, now: datetime) -> None:
    db.execute(update(PortalSession.__table__).where(_session.id == session_id).values(last_seen_at=now))


def end_session(db: Session, token: str, *, now: datetime, reason: str = SIGNED_OUT) -> None:
    """Revokes the session of `token` (signing out); nothing happens for an unknown or ended one."""
    db.execute(update(PortalSession.__table__)
               .where(_session.token_hash == hash_token(token), _session.revoked_at.is_(None))
               .values(revoked_at=now, revoked_reason=reason))


def end_sessions_of(db: Session, agent_id: str, *, now: datetime, reason: str,
                    keep_session_id: str | None = None) -> int:
    """Revokes every open session of an agent (but `keep_session_id`); returns how many."""
    statement = update(PortalSession.__table__).where(_session.agent_id == agent_id, _session.revoked_at.is_(None))
    if keep_session_id is not None:
        statement = statement.where(_session.id != keep_session_id)
    return db.execute(statement.values(revoked_at=now, revoked_reason=reason)).rowcount or 0


def sessions_of(db: Session, principal: Principal, agent_id: str, *, now: datetime) -> list[PortalSession]:
    """The agent's sessions still in force, newest first (admin agents of its partner and the operator)."""
    agent = manageable_agent(db, principal, agent_id)
    idle_since, started_since = _limits(db, now)
    return list(db.scalars(
        select(PortalSession)
        .where(PortalSession.agent_id == agent.id, PortalSession.revoked_at.is_(None),
               PortalSession.last_seen_at > idle_since, PortalSession.created_at > started_since)
        .order_by(PortalSession.created_at.desc(), PortalSession.id)))


def revoke_session(db: Session, principal: Principal, *, agent_id: str, session_id: str, now: datetime,
                   request_id: str | None = None) -> PortalSession:
    """An admin agent (its own partner's agents) or the operator (anyone) ends one session at once."""
    agent: Agent = manageable_agent(db, principal, agent_id)
    row = db.get(PortalSession, session_id)
    if row is None or row.agent_id != agent.id:
        raise NotFound(f"{agent.email} has no session {session_id}.", [session_id])
    if row.revoked_at is None:
        row.revoked_at, row.revoked_reason = now, REVOKED
        db.flush()
        audit.record(db, principal=principal, now=now, action="session.revoked", object_type="agent",
                     object_id=agent.id, partner_id=agent.partner_id, request_id=request_id,
                     details={"agent": agent.email, "session": row.id})
    return row
