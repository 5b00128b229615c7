"""Operator policies: every number and list the rules use, with the seed's value as its default.

The programme changed these over time (the cancellation window became 30 days in 2021, the R1 market
list was rewritten in 2019), so they are data. Nothing is cached between requests: a change takes
effect on the next read. Other domains call the typed getters (`ri_excluded_markets(db)`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.markets import all_markets
from partnerdesk.policies.errors import InvalidPolicyValue, UnknownPolicy
from partnerdesk.policies.models import PolicySetting

CLI_ACTOR = "cli"


def _market_list(key: str) -> Callable[[Any], list[str]]:
    def parse(value: Any) -> list[str]:
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InvalidPolicyValue(f'{key} is a list of market codes such as ["BR", "IN"].', [key])
        codes = [item.strip().upper() for item in value]
        unknown = [item for item, code in zip(value, codes, strict=True) if code not in all_markets()]
        if unknown:
            listed = ", ".join(f"'{item}'" for item in unknown)
            raise InvalidPolicyValue(
                f"{key}: {listed} {'is not a market' if len(unknown) == 1 else 'are not markets'}; "
                "use ISO 3166-1 alpha-2 country codes such as BR or IN.",
                unknown,
            )
        return sorted(set(codes))

    return parse


def _whole_number(key: str, minimum: int, maximum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise InvalidPolicyValue(f"{key} is a whole number from {minimum} to {maximum}.", [key])
        return value

    return parse


def _tax_rates(key: str) -> Callable[[Any], dict[str, str]]:
    """Market -> tax rate in percent, as `{"FR": "20", "DE": "19"}` (the CLI also takes `FR=20,DE=19`)."""

    def parse(value: Any) -> dict[str, str]:
        if isinstance(value, str):
            pairs = [part.split("=", 1) for part in value.replace(",", " ").split() if part]
            if not all(len(pair) == 2 for pair in pairs):
                raise InvalidPolicyValue(f"{key} reads market=percent pairs, as FR=20,DE=19.", [key])
            value = dict(pairs)
        if not isinstance(value, dict):
            raise InvalidPolicyValue(f'{key} is an object of market codes and percents, as {{"FR": "20"}}.', [key])
        rates: dict[str, str] = {}
        for market, rate in value.items():
            code = str(market).strip().upper()
            if code not in all_markets():
                raise InvalidPolicyValue(f"{key}: '{market}' is not a market; use a code such as FR.", [key, market])
            try:
                percent = Decimal(str(rate).strip()) if not isinstance(rate, bool | float) else None
            except InvalidOperation:
                percent = None
            if percent is None or not percent.is_finite() or not 0 <= percent < 100 \
                    or percent != percent.quantize(Decimal("0.01")):
                raise InvalidPolicyValue(
                    f"{key}: the rate of {code} is a percent from 0 to 99.99 written as text, as \"20\" or \"5.5\".",
                    [key, code])
            rates[code] = format(percent.normalize(), "f")
        return dict(sorted(rates.items()))

    return parse


@dataclass(frozen=True)
class PolicyDefinition:
    key: str
    rule: str
    description: str
    default: Any
    # Checks a JSON value (or the CLI's text) and returns its canonical JSON form.
    parse: Callable[[Any], Any]


def _extension_list(key: str) -> Callable[[Any], list[str]]:
    def parse(value: Any) -> list[str]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise InvalidPolicyValue(f"{key}: give a list of file name extensions, such as [\"pdf\", \"png\"].", [key])
        extensions = sorted({item.strip().lstrip(".").casefold() for item in items if item.strip()})
        bad = [item for item in extensions if not item.isalnum() or len(item) > 10]
        if bad or not extensions:
            raise InvalidPolicyValue(f"{key}: {', '.join(bad) or 'an empty list'} is not a list of file name "
                                     "extensions such as pdf or png.", [key])
        return extensions

    return parse


_DEFINITIONS = (
    PolicyDefinition(
        "ri_excluded_markets",
        "R1",
        "Markets where Azure Reserved Instances are not sold: the catalog hides them and carts and orders "
        "holding one are refused.",
        sorted(
            [
                "AR",
                "AZ",
                "BY",
                "BR",
                "CN",
                "IN",
                "ID",
                "KZ",
                "LI",
                "MY",
                "MX",
                "RU",
                "SA",
                "ZA",
                "KR",
                "TW",
                "TR",
                "UA",
            ]
        ),
        _market_list("ri_excluded_markets"),
    ),
    PolicyDefinition(
        "download_link_days",
        "R4",
        "Days a download link stays valid after it is issued (whichever comes first with the limit).",
        14,
        _whole_number("download_link_days", 1, 3650),
    ),
    PolicyDefinition(
        "download_link_max_downloads",
        "R4",
        "Downloads one link allows before it stops working (whichever comes first with the days).",
        50,
        _whole_number("download_link_max_downloads", 1, 1_000_000),
    ),
    PolicyDefinition(
        "cancellation_window_days",
        "R5",
        "Days after the purchase during which an admin agent may cancel it, without fee; never after.",
        60,
        _whole_number("cancellation_window_days", 0, 3650),
    ),
    PolicyDefinition(
        "cart_expiry_hours",
        "R2",
        "Hours an unpaid cart is kept before it expires (Partner Center keeps carts for 7 days).",
        168,
        _whole_number("cart_expiry_hours", 1, 8760),
    ),
    PolicyDefinition(
        "tax_rates",
        "billing",
        "Tax rate (percent) charged on invoice lines per customer market; a market not listed is charged no tax.",
        {"FR": "20"},
        _tax_rates("tax_rates"),
    ),
    PolicyDefinition(
        "support_attachment_max_bytes",
        "R6",
        "Largest file, in bytes, an agent may attach to a service request.",
        10 * 1024 * 1024,
        _whole_number("support_attachment_max_bytes", 1, 1024 * 1024 * 1024),
    ),
    PolicyDefinition(
        "support_attachments_per_request",
        "R6",
        "Files one service request may hold in all.",
        20,
        _whole_number("support_attachments_per_request", 1, 1000),
    ),
    PolicyDefinition(
        "support_attachment_types",
        "R6",
        "File name extensions a service request's attachments may have (screenshots, logs, documents).",
        ["csv", "docx", "gif", "jpeg", "jpg", "json", "log", "pdf", "png", "txt", "xlsx", "xml", "zip"],
        _extension_list("support_attachment_types"),
    ),
    # Portal sessions and sign-in throttling (issue 17): how long a sign-in lasts, how many failures are let by.
    PolicyDefinition(
        "portal_session_idle_minutes",
        "security",
        "Minutes a portal session stays signed in while unused; after them the agent signs in again.",
        120,
        _whole_number("portal_session_idle_minutes", 5, 10080),
    ),
    PolicyDefinition(
        "portal_session_max_hours",
        "security",
        "Hours a portal session lasts at most from sign-in, however busy it is.",
        12,
        _whole_number("portal_session_max_hours", 1, 720),
    ),
    PolicyDefinition(
        "signin_failures_per_account",
        "security",
        "Wrong passwords for one email address within signin_throttle_minutes before signing in to it is "
        "refused until the period ends, even with the right password.",
        10,
        _whole_number("signin_failures_per_account", 1, 10_000),
    ),
    PolicyDefinition(
        "signin_failures_per_ip",
        "security",
        "Failed sign-ins from one IP address (wrong portal passwords, unknown or revoked API tokens) within "
        "signin_throttle_minutes before that address is refused until the period ends.",
        50,
        _whole_number("signin_failures_per_ip", 1, 1_000_000),
    ),
    PolicyDefinition(
        "signin_throttle_minutes",
        "security",
        "Minutes over which failed sign-ins are counted, and that a throttled account or address waits.",
        15,
        _whole_number("signin_throttle_minutes", 1, 1440),
    ),
    # Request-rate limits in Partner Center's manner (issue 16): 429 with Retry-After beyond them. The defaults,
    # about 16,700 requests a second, are above what one server answers (9,800/s for a constant endpoint).
    PolicyDefinition(
        "api_rate_limit_window_seconds",
        "throttling",
        "Seconds over which API requests are counted for the two request-rate limits.",
        60,
        _whole_number("api_rate_limit_window_seconds", 1, 3600),
    ),
    PolicyDefinition(
        "api_requests_per_partner",
        "throttling",
        "API requests one partner's agents may make within the window; more are answered 429 with Retry-After.",
        1_000_000,
        _whole_number("api_requests_per_partner", 1, 1_000_000_000),
    ),
    PolicyDefinition(
        "api_purchase_requests_per_customer",
        "throttling",
        "Cart, checkout and order requests one partner may make for one customer within the window; more are "
        "answered 429 with Retry-After.",
        1_000_000,
        _whole_number("api_purchase_requests_per_customer", 1, 1_000_000_000),
    ),
)
DEFINITIONS: dict[str, PolicyDefinition] = {definition.key: definition for definition in _DEFINITIONS}


@dataclass(frozen=True)
class PolicyView:
    """A policy as it stands: its value, its default, and who last changed it (if anyone did)."""

    key: str
    rule: str
    description: str
    value: Any
    default: Any
    updated_at: datetime | None
    updated_by: str | None

    @property
    def is_default(self) -> bool:
        return self.updated_at is None


def definition(key: str) -> PolicyDefinition:
    found = DEFINITIONS.get(key.strip().lower())
    if found is None:
        raise UnknownPolicy(f"No policy named '{key}'; the policies are: {', '.join(DEFINITIONS)}.", [key])
    return found


def _view(definition_: PolicyDefinition, row: PolicySetting | None) -> PolicyView:
    return PolicyView(
        key=definition_.key,
        rule=definition_.rule,
        description=definition_.description,
        value=row.value if row else definition_.default,
        default=definition_.default,
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


def list_policies(db: Session) -> list[PolicyView]:
    rows = {row.key: row for row in db.scalars(select(PolicySetting))}
    return [_view(item, rows.get(item.key)) for item in _DEFINITIONS]


def get_policy(db: Session, key: str) -> PolicyView:
    found = definition(key)
    return _view(found, db.get(PolicySetting, found.key))


# Carts and checkouts read policies on every request: on the table's columns (see CONTRIBUTING).
_POLICY_VALUE = select(PolicySetting.__table__.c.value).where(PolicySetting.__table__.c.key == bindparam("key"))


def current_value(db: Session, key: str) -> Any:
    """The value in force now: one primary-key read, never cached across requests."""
    found = definition(key)
    row = db.execute(_POLICY_VALUE, {"key": found.key}).first()
    return found.default if row is None or row.value is None else row.value


def set_policy(
    db: Session,
    *,
    key: str,
    value: Any,
    principal: Principal | None,
    now: datetime,
    request_id: str | None = None,
) -> PolicyView:
    """Validates and stores a new value, and records old -> new in the activity log."""
    found = definition(key)
    new_value = found.parse(value)
    row = db.get(PolicySetting, found.key)
    old_value = row.value if row else found.default
    actor = principal.email if principal else CLI_ACTOR
    if row is None:
        row = PolicySetting(key=found.key, value=new_value, updated_at=now, updated_by=actor)
        db.add(row)
    else:
        row.value, row.updated_at, row.updated_by = new_value, now, actor
    db.flush()
    audit.record(
        db,
        principal=principal,
        now=now,
        action="policy.updated",
        object_type="policy",
        object_id=found.key,
        request_id=request_id,
        details={"old": old_value, "new": new_value},
    )
    return _view(found, row)


def reset_policy(
    db: Session, *, key: str, principal: Principal | None, now: datetime, request_id: str | None = None
) -> PolicyView:
    """Back to the seed's default (the stored row goes), recorded like any change."""
    found = definition(key)
    row = db.get(PolicySetting, found.key)
    if row is not None:
        old_value = row.value
        db.delete(row)
        db.flush()
        audit.record(
            db,
            principal=principal,
            now=now,
            action="policy.updated",
            object_type="policy",
            object_id=found.key,
            request_id=request_id,
            details={"old": old_value, "new": found.default, "reset": True},
        )
    return _view(found, None)


# Typed getters: what the other domains call.


def ri_excluded_markets(db: Session) -> frozenset[str]:
    """Rule R1: markets where Reserved Instances are not sold."""
    return frozenset(current_value(db, "ri_excluded_markets"))


def download_link_days(db: Session) -> int:
    """Rule R4: days a download link lives."""
    return int(current_value(db, "download_link_days"))


def download_link_max_downloads(db: Session) -> int:
    """Rule R4: downloads a link allows."""
    return int(current_value(db, "download_link_max_downloads"))


def cancellation_window_days(db: Session) -> int:
    """Rule R5: days after a purchase during which it may be cancelled."""
    return int(current_value(db, "cancellation_window_days"))


def support_attachment_limits(db: Session) -> tuple[int, int, frozenset[str]]:
    """Rule R6's attachments: (largest file in bytes, files per request, extensions allowed)."""
    return (int(current_value(db, "support_attachment_max_bytes")),
            int(current_value(db, "support_attachments_per_request")),
            frozenset(current_value(db, "support_attachment_types")))


CART_EXPIRY_HOURS = "cart_expiry_hours"


def cart_expiry_hours(db: Session) -> int:
    """Hours an unpaid cart lives."""
    return int(current_value(db, CART_EXPIRY_HOURS))


def exclude_market(db: Session, *, country: str, principal: Principal | None, now: datetime) -> PolicyView:
    """Adds a market to R1's list (no change, and no record, if it is already there)."""
    current = list(current_value(db, "ri_excluded_markets"))
    code = country.strip().upper()
    if code in current:
        return get_policy(db, "ri_excluded_markets")
    return set_policy(
        db, key="ri_excluded_markets", value=[*current, country], principal=principal, now=now
    )


def include_market(db: Session, *, country: str, principal: Principal | None, now: datetime) -> PolicyView:
    """Takes a market off R1's list, so Reserved Instances are sold there again."""
    current = list(current_value(db, "ri_excluded_markets"))
    code = country.strip().upper()
    if code not in current:
        DEFINITIONS["ri_excluded_markets"].parse([country])  # an unknown code is an error, not a no-op
        return get_policy(db, "ri_excluded_markets")
    return set_policy(
        db,
        key="ri_excluded_markets",
        value=[item for item in current if item != code],
        principal=principal,
        now=now,
    )


def tax_rates(db: Session) -> dict[str, Decimal]:
    """Tax rate in percent per market (VAT 20% for FR by default); a market not listed pays none."""
    return {market: Decimal(rate) for market, rate in current_value(db, "tax_rates").items()}


# Sessions, sign-in throttling and request-rate limits read several numbers at once (on every API
# request for the rate limits): one statement for all of them.
_POLICY_VALUES = select(PolicySetting.__table__.c.key, PolicySetting.__table__.c.value).where(
    PolicySetting.__table__.c.key.in_(bindparam("keys", expanding=True)))


def current_values(db: Session, *keys: str) -> tuple[Any, ...]:
    """The values in force now of `keys`, in that order, read in one statement."""
    found = [definition(key) for key in keys]
    stored = {key: value for key, value in db.execute(_POLICY_VALUES, {"keys": [item.key for item in found]})}
    return tuple(item.default if stored.get(item.key) is None else stored[item.key] for item in found)


def portal_session_timeouts(db: Session) -> tuple[int, int]:
    """(idle minutes, most hours from sign-in) of a portal session."""
    idle, most = current_values(db, "portal_session_idle_minutes", "portal_session_max_hours")
    return int(idle), int(most)


def signin_throttle(db: Session) -> tuple[int, int, int]:
    """(failures per account, failures per IP address, minutes) of sign-in throttling."""
    account, address, minutes = current_values(
        db, "signin_failures_per_account", "signin_failures_per_ip", "signin_throttle_minutes")
    return int(account), int(address), int(minutes)


def api_rate_limits(db: Session) -> tuple[int, int, int]:
    """(window seconds, requests per partner, purchase requests per partner and customer)."""
    window, per_partner, per_customer = current_values(
        db, "api_rate_limit_window_seconds", "api_requests_per_partner", "api_purchase_requests_per_customer")
    return int(window), int(per_partner), int(per_customer)
