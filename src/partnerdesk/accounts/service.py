"""Rules for partners, agents, passwords and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from partnerdesk.accounts.models import PARTNER_ROLES, Agent, ApiToken, Partner, PortalSession, Role
from partnerdesk.core.csv_safe import control_character_problem
from partnerdesk.core.errors import Conflict, InvalidInput, NotFound
from partnerdesk.core.secrets import hash_token, new_api_token

_password_hasher = PasswordHasher()
# Verifying against this when the email is unknown keeps sign-in time the same either way.
_DUMMY_HASH = _password_hasher.hash("not a real password")


@dataclass(frozen=True)
class Principal:
    """Who is calling: an agent, its role and its partner (none for the operator)."""

    agent_id: str
    email: str
    display_name: str
    role: Role
    partner_id: str | None
    preferred_language: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role is Role.operator

    def can_see_partner(self, partner_id: str | None) -> bool:
        return self.is_operator or (partner_id is not None and partner_id == self.partner_id)

    @property
    def idempotency_scope(self) -> str:
        return self.partner_id or f"operator:{self.agent_id}"


def principal_of(agent: Agent) -> Principal:
    return Principal(
        agent_id=agent.id,
        email=agent.email,
        display_name=agent.display_name,
        role=agent.role,
        partner_id=agent.partner_id,
        preferred_language=agent.preferred_language,
    )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 320:
        raise InvalidInput(f"'{email}' is not an email address.", ["email"])
    return email


def get_or_create_partner(db: Session, *, name: str, now: datetime) -> Partner:
    # The partner's name is on every invoice and billing export: one line of printable text.
    problem = control_character_problem(name, "partner")
    if problem is not None:
        raise InvalidInput(problem, ["partner"])
    name = name.strip()
    if not name:
        raise InvalidInput("A partner needs a name.", ["partner"])
    partner = db.scalar(select(Partner).where(Partner.name == name))
    if partner is None:
        partner = Partner(name=name, created_at=now)
        db.add(partner)
        db.flush()
    return partner


def get_partner(db: Session, partner_id: str) -> Partner:
    partner = db.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"No partner with id {partner_id}.", [partner_id])
    return partner


def add_agent(
    db: Session,
    *,
    email: str,
    role: Role,
    now: datetime,
    partner_name: str | None = None,
    display_name: str = "",
    password: str | None = None,
    preferred_language: str | None = None,
) -> Agent:
    email = normalise_email(email)
    if role is Role.operator and partner_name:
        raise InvalidInput("The operator belongs to no partner; leave out --partner.", ["partner"])
    if role in PARTNER_ROLES and not partner_name:
        raise InvalidInput(f"A {role.value} belongs to a partner; give --partner NAME.", ["partner"])
    if db.scalar(select(Agent.id).where(Agent.email == email)) is not None:
        raise Conflict(f"An agent with email {email} already exists.", [email])
    partner = get_or_create_partner(db, name=partner_name, now=now) if partner_name else None
    agent = Agent(
        email=email,
        role=role,
        partner_id=partner.id if partner else None,
        display_name=display_name.strip() or email.split("@")[0],
        password_hash=_password_hasher.hash(password) if password else None,
        preferred_language=preferred_language,
        created_at=now,
    )
    db.add(agent)
    db.flush()
    return agent


def get_agent_by_email(db: Session, email: str) -> Agent:
    agent = db.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        raise NotFound(f"No agent with email {email}.", [email])
    return agent


def list_agents(db: Session) -> list[tuple[Agent, Partner | None]]:
    statement = select(Agent, Partner).outerjoin(Partner, Agent.partner_id == Partner.id).order_by(Agent.email)
    return [(agent, partner) for agent, partner in db.execute(statement)]


def set_password(db: Session, agent: Agent, password: str, *, now: datetime,
                 keep_session_id: str | None = None) -> int:
    """Stores a new password and ends the agent's portal sessions (but `keep_session_id`, the one changing
    it), so whoever held an old one is signed out; returns how many sessions ended."""
    if len(password) < 4:
        raise InvalidInput("A password needs at least 4 characters.", ["password"])
    agent.password_hash = _password_hasher.hash(password)
    sessions = PortalSession.__table__.c
    ended = update(PortalSession.__table__).where(sessions.agent_id == agent.id, sessions.revoked_at.is_(None))
    if keep_session_id is not None:
        ended = ended.where(sessions.id != keep_session_id)
    return db.execute(ended.values(revoked_at=now, revoked_reason="password_changed")).rowcount or 0


def set_preferred_language(db: Session, agent_id: str, language: str | None) -> None:
    agent = db.get(Agent, agent_id)
    if agent is not None:
        agent.preferred_language = language


def preferred_time_zone(db: Session, agent_id: str) -> str | None:
    return db.scalar(select(Agent.preferred_time_zone).where(Agent.id == agent_id))


def set_preferred_time_zone(db: Session, agent_id: str, zone: str | None) -> None:
    """Keeps the agent's zone (checked by the caller) so it follows the agent to any browser; None forgets it."""
    agent = db.get(Agent, agent_id)
    if agent is not None:
        agent.preferred_time_zone = zone


def issue_token(db: Session, agent: Agent, *, now: datetime) -> str:
    """Creates an API token and returns it; only its hash is kept, so this is the one time it is seen."""
    token = new_api_token()
    db.add(ApiToken(agent_id=agent.id, token_hash=hash_token(token), token_prefix=token[:12], created_at=now))
    db.flush()
    return token


def revoke_tokens(db: Session, agent: Agent, *, now: datetime) -> int:
    result = db.execute(
        update(ApiToken)
        .where(ApiToken.agent_id == agent.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount or 0


# Every API request runs it: on the tables' columns (see CONTRIBUTING, "How a write is done").
_agent, _token = Agent.__table__.c, ApiToken.__table__.c
AGENT_OF_TOKEN = (
    select(_agent.id, _agent.email, _agent.display_name, _agent.role, _agent.partner_id, _agent.preferred_language)
    .join(ApiToken.__table__, _token.agent_id == _agent.id)
    .where(_token.token_hash == bindparam("token_hash"), _token.revoked_at.is_(None), _agent.is_active)
)


def principal_of_row(row) -> Principal:
    """The principal of a row whose first columns are AGENT_OF_TOKEN's."""
    agent_id, email, display_name, role, partner_id, preferred_language = row
    return Principal(agent_id=agent_id, email=email, display_name=display_name, role=role, partner_id=partner_id,
                     preferred_language=preferred_language)


def authenticate_token(db: Session, token: str) -> Principal | None:
    row = db.execute(AGENT_OF_TOKEN, {"token_hash": hash_token(token)}).first()
    return None if row is None else principal_of_row(row)


def authenticate_password(db: Session, email: str, password: str) -> Principal | None:
    agent = db.scalar(select(Agent).where(Agent.email == email.strip().lower(), Agent.is_active))
    stored = agent.password_hash if agent and agent.password_hash else _DUMMY_HASH
    try:
        _password_hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if agent is None or agent.password_hash is None:
        return None
    return principal_of(agent)


def get_principal(db: Session, agent_id: str) -> Principal | None:
    agent = db.get(Agent, agent_id)
    if agent is None or not agent.is_active:
        return None
    return principal_of(agent)
