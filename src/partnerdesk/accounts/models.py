"""Tables for partners, agents and their API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime, new_id


class Role(enum.StrEnum):
    operator = "operator"
    admin_agent = "admin_agent"
    sales_agent = "sales_agent"
    helpdesk_agent = "helpdesk_agent"
    billing_admin = "billing_admin"


PARTNER_ROLES = (Role.admin_agent, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin)


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    # Empty for the operator, who belongs to no partner and sees them all.
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=32))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    # An IANA zone the agent chose for the portal's times (none: the browser's, else the partner's country's).
    preferred_time_zone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so an agent can tell its tokens apart without the secret.
    token_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PortalSession(Base):
    """One sign-in to the portal. The browser holds a random token; only its hash is kept here, so a copy
    of this table signs nobody in. A session ends when it is revoked or when a policy's timeout passes."""

    __tablename__ = "portal_sessions"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Moved forward as the agent uses the portal (at most once a minute): the idle timeout counts from it.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # signed_out, password_changed, revoked (by an admin agent or the operator), agent_disabled
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # Shown in the session list so an agent can tell its sessions apart.
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
