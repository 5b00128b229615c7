"""Signing in with a password or an API token, throttled: per account and per IP address.

Failed attempts are counted over `signin_throttle_minutes` (operator policies): after
`signin_failures_per_account` wrong passwords for one email address, or `signin_failures_per_ip` failures
from one address (wrong portal passwords and unknown API tokens together), every attempt is refused
until the period ends, the right password or token included, and the moment throttling starts is
recorded in the activity log. A successful sign-in forgets the account's failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts import sessions
from partnerdesk.accounts.models import Agent
from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.desk import Desk
from partnerdesk.core.errors import DeskError
from partnerdesk.core.throttling import Counted, Limit, Throttle, TooManyFailedSignIns
from partnerdesk.policies import service as policies

ACCOUNT_SCOPE = "signin-account"
# Portal passwords and API tokens share the count of one address's failures.
ADDRESS_SCOPE = "signin-address"


@dataclass(frozen=True)
class SignInLimits:
    per_address: Limit
    # None where there is no account to count for (an unknown API token names no one).
    per_account: Limit | None = None

    @classmethod
    def read(cls, db: Session) -> SignInLimits:
        per_account, per_address, minutes = policies.signin_throttle(db)
        return cls(per_address=Limit(ADDRESS_SCOPE, per_address, minutes * 60),
                   per_account=Limit(ACCOUNT_SCOPE, per_account, minutes * 60))


@dataclass(frozen=True)
class SignInResult:
    principal: Principal | None = None
    # The new session's token for the browser, and how long the cookie may live.
    session_token: str | None = None
    cookie_max_age_seconds: int = 0
    # Set when the attempt was refused without looking at the password, or when this failure started throttling.
    retry_after_seconds: int | None = None


def _account_key(email: str) -> str:
    return email.strip().lower()


def address_wait(throttle: Throttle, limits: SignInLimits, address: str) -> int | None:
    """Seconds an address must still wait before trying again, or None."""
    return throttle.wait(limits.per_address, address)


def record_throttling(db: Session, *, now: datetime, channel: str, address: str, email: str | None,
                      counted: dict[str, Counted]) -> None:
    """The activity-log entry of throttling that starts now (to the agent's partner when the email is known)."""
    agent = db.scalar(select(Agent).where(Agent.email == email)) if email else None
    used_up = sorted(scope for scope, result in counted.items() if result.used_up)
    audit.record(db, principal=None, now=now, action="signin.throttled", object_type="agent",
                 object_id=agent.id if agent else None, partner_id=agent.partner_id if agent else None,
                 details={"channel": channel, "email": email, "ipAddress": address, "limits": used_up,
                          "retryAfterSeconds": max(counted[scope].retry_after_seconds for scope in used_up)})


def count_failure(desk: Desk, throttle: Throttle, limits: SignInLimits, *, channel: str, address: str,
                  email: str | None) -> int | None:
    """Counts one failed attempt; if it used up a limit, records that throttling starts and returns the wait."""
    counted = {"address": throttle.count(limits.per_address, address)}
    if email is not None and limits.per_account is not None:
        counted["account"] = throttle.count(limits.per_account, _account_key(email))
    if not any(result.used_up for result in counted.values()):
        return None
    now = desk.clock.now()
    with desk.database.session() as db:
        record_throttling(db, now=now, channel=channel, address=address, email=email, counted=counted)
    return max(result.retry_after_seconds for result in counted.values() if result.used_up)


def sign_in_with_password(desk: Desk, throttle: Throttle, *, email: str, password: str, address: str,
                          user_agent: str = "") -> SignInResult:
    """Checks the password unless the account or the address is throttled; opens a session when it is right."""
    email = _account_key(email)
    with desk.database.session(write=False) as db:
        limits = SignInLimits.read(db)
    assert limits.per_account is not None
    waits = [wait for wait in (throttle.wait(limits.per_account, email), address_wait(throttle, limits, address))
             if wait is not None]
    if waits:
        return SignInResult(retry_after_seconds=max(waits))
    # A read-only transaction: checking a password takes a while and must not hold a write lock.
    with desk.database.session(write=False) as db:
        principal = accounts.authenticate_password(db, email, password)
        _idle, most_hours = policies.portal_session_timeouts(db)
    if principal is None:
        wait = count_failure(desk, throttle, limits, channel="portal", address=address, email=email)
        return SignInResult(retry_after_seconds=wait)
    throttle.forget(limits.per_account, email)
    with desk.database.session() as db:
        token = sessions.start_session(db, agent_id=principal.agent_id, now=desk.clock.now(), ip_address=address,
                                       user_agent=user_agent)
    return SignInResult(principal=principal, session_token=token, cookie_max_age_seconds=most_hours * 3600)


class WrongPassword(DeskError):
    status_code = 400
    code = 1810


class PasswordsDiffer(DeskError):
    status_code = 400
    code = 1811


def change_own_password(desk: Desk, throttle: Throttle, principal: Principal, *, current: str, new: str,
                        confirmation: str, address: str, keep_session_id: str | None) -> int:
    """An agent changes its own password, proving the current one (a wrong one counts as a failed sign-in);
    every other portal session of the agent ends. Returns how many ended."""
    with desk.database.session(write=False) as db:
        limits = SignInLimits.read(db)
    assert limits.per_account is not None
    waits = [wait for wait in (throttle.wait(limits.per_account, principal.email),
                               address_wait(throttle, limits, address)) if wait is not None]
    if waits:
        raise TooManyFailedSignIns(f"Too many failed sign-ins; try again in {max(waits)} seconds.", max(waits))
    if new != confirmation:
        raise PasswordsDiffer("The new password and its confirmation differ.", ["confirmation"])
    with desk.database.session(write=False) as db:
        proven = accounts.authenticate_password(db, principal.email, current) is not None
    if not proven:
        wait = count_failure(desk, throttle, limits, channel="password-change", address=address,
                             email=principal.email)
        if wait is not None:
            raise TooManyFailedSignIns(f"Too many failed sign-ins; try again in {wait} seconds.", wait)
        raise WrongPassword("The current password is not right.", ["currentPassword"])
    now = desk.clock.now()
    with desk.database.session() as db:
        agent = db.get(Agent, principal.agent_id)
        assert agent is not None
        ended = accounts.set_password(db, agent, new, now=now, keep_session_id=keep_session_id)
        audit.record(db, principal=principal, now=now, action="password.changed", object_type="agent",
                     object_id=agent.id, details={"endedSessions": ended})
    return ended
