"""Checks on catalog data, shared by the operator's API and the price-list import.

Each check returns the normalised value or raises `InvalidCatalogEntry` naming the field; the
import turns those into one line of its report per bad row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from partnerdesk.catalog.errors import InvalidCatalogEntry
from partnerdesk.catalog.price_terms import CYCLE_MONTHS, term_months
from partnerdesk.catalog.vocabulary import (
    AZURE,
    ID_PATTERN,
    PRODUCT_TYPES,
    RESERVED_INSTANCE_TERMS,
    SEGMENTS,
    SOFTWARE,
    TERM_DESCRIPTIONS,
    billing_cycle,
)
from partnerdesk.core.csv_safe import control_character_problem
from partnerdesk.core.db import MONEY_SCALE
from partnerdesk.core.markets import all_markets
from partnerdesk.core.money import is_currency

# The largest amount a MoneyAmount column holds with room to spare (a signed 64-bit count of 1/10,000).
MAX_PRICE = Decimal("100000000000")


def catalog_id(value: str, field: str) -> str:
    text = value.strip()
    if not ID_PATTERN.match(text):
        raise InvalidCatalogEntry(f"{field}: '{value}' is not an id (1 to 20 letters and digits).", [field])
    return text


def product_type(type_id: str, sub_type_id: str, field: str = "productType") -> tuple[str, str]:
    """A known (type, sub-type) pair, such as ("Azure", "VirtualMachines"), matched case-insensitively."""
    for known_type, sub_types in PRODUCT_TYPES.items():
        if known_type.casefold() == type_id.strip().casefold():
            for known_sub in sub_types:
                if known_sub.casefold() == sub_type_id.strip().casefold():
                    return known_type, known_sub
            raise InvalidCatalogEntry(
                f"{field}: '{sub_type_id}' is not a sub-type of {known_type}; use one of: "
                f"{', '.join(sub_types)}.",
                [field],
            )
    raise InvalidCatalogEntry(
        f"{field}: '{type_id}' is not a product type; use one of: {', '.join(PRODUCT_TYPES)}.", [field]
    )


@lru_cache(maxsize=512)
def market(code: str, field: str = "country") -> str:
    candidate = code.strip().upper()
    if candidate not in all_markets():
        raise InvalidCatalogEntry(
            f"{field}: '{code}' is not a market; use an ISO 3166-1 alpha-2 code such as FR.", [field]
        )
    return candidate


@lru_cache(maxsize=512)
def currency(code: str, field: str = "currency") -> str:
    candidate = code.strip().upper()
    if not is_currency(candidate):
        raise InvalidCatalogEntry(
            f"{field}: '{code}' is not a currency; use an ISO 4217 code such as EUR.", [field]
        )
    return candidate


def price(text: str, field: str = "unitPrice") -> Decimal:
    """A non-negative amount with at most 4 decimal places, from its text (never through a float)."""
    try:
        amount = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise InvalidCatalogEntry(f"{field}: '{text}' is not an amount such as 1234.56.", [field]) from None
    if not amount.is_finite():
        raise InvalidCatalogEntry(f"{field}: '{text}' is not an amount such as 1234.56.", [field])
    if amount < 0:
        raise InvalidCatalogEntry(f"{field}: '{text}' is negative; a price is zero or more.", [field])
    if amount >= MAX_PRICE:
        raise InvalidCatalogEntry(f"{field}: '{text}' is too large.", [field])
    if (amount * MONEY_SCALE) % 1:
        raise InvalidCatalogEntry(f"{field}: '{text}' has more than 4 decimal places.", [field])
    return amount


def segment(text: str, field: str = "segment") -> str:
    for known in SEGMENTS:
        if known.casefold() == text.strip().casefold():
            return known
    raise InvalidCatalogEntry(
        f"{field}: '{text}' is not a segment; use one of: {', '.join(SEGMENTS)}.", [field]
    )


def billing_plan(text: str, field: str = "billingPlan") -> str:
    cycle = billing_cycle(text)
    if cycle is None:
        raise InvalidCatalogEntry(
            f"{field}: '{text}' is not a billing plan; use OneTime, Monthly, Annual or Triennial.", [field]
        )
    return cycle


def term(type_id: str, sub_type_id: str, duration: str | None, field: str = "terms") -> str | None:
    """The term a price of this product type needs: R8's P1Y/P3Y for RIs, none for perpetual software."""
    duration = (duration or "").strip().upper() or None
    if type_id == AZURE:
        if duration not in RESERVED_INSTANCE_TERMS:
            raise InvalidCatalogEntry(
                f"{field}: a Reserved Instance is sold for a term of P1Y or P3Y (rule R8), not "
                f"'{duration or 'none'}'.",
                [field],
            )
    elif type_id == SOFTWARE and sub_type_id == "Perpetual":
        if duration is not None:
            raise InvalidCatalogEntry(
                f"{field}: perpetual software has no term, not '{duration}'.", [field]
            )
    elif duration not in TERM_DESCRIPTIONS:
        raise InvalidCatalogEntry(
            f"{field}: a subscription needs a term of {', '.join(TERM_DESCRIPTIONS)}, "
            f"not '{duration or 'none'}'.",
            [field],
        )
    return duration


def plan_fits_term(plan: str, term_duration: str | None, field: str = "billingPlan") -> None:
    """A recurring plan is charged over a term that is a whole number of its cycles: a monthly price
    for P3Y is 36 charges, but an annual price for one month, or a monthly one with no term, says
    nothing a partner could be billed by."""
    cycle_months = CYCLE_MONTHS.get(plan)
    if cycle_months is None:  # one_time: charged once, with or without a term
        return
    months = term_months(term_duration)
    article = "an" if plan[0] in "aeiou" else "a"
    if months is None:
        raise InvalidCatalogEntry(
            f"{field}: {article} {plan} price is charged over a term and this one has none; perpetual prices are "
            "OneTime.",
            [field],
        )
    if months % cycle_months:
        raise InvalidCatalogEntry(
            f"{field}: {article} {plan} price cannot be charged over a term of {term_duration}, which is not a whole "
            f"number of {plan} cycles.",
            [field],
        )


@lru_cache(maxsize=4096)
def moment(text: str, field: str) -> datetime:
    """An ISO 8601 date or date-time; a date means midnight UTC, and a time without offset is UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidCatalogEntry(
            f"{field}: '{text}' is not a date such as 2026-01-01 or 2026-01-01T00:00:00Z.", [field]
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def period(start: datetime, end: datetime | None, field: str = "effectiveEndDate") -> None:
    if end is not None and end <= start:
        raise InvalidCatalogEntry(f"{field}: the end must come after the start of the period.", [field])


def quantities(minimum: int, maximum: int) -> None:
    if minimum < 1 or maximum < minimum:
        raise InvalidCatalogEntry(
            "minimumQuantity must be 1 or more and maximumQuantity at least minimumQuantity.",
            ["minimumQuantity", "maximumQuantity"],
        )


def text(value: str, field: str, *, limit: int, required: bool = True, multiline: bool = False) -> str:
    """A title or name (one line of printable text), or with `multiline` a description (line breaks
    and tabs allowed): control characters such as BEL or ESC are refused, as exports would carry them."""
    cleaned = value.strip()
    if "\x00" in cleaned:
        # PostgreSQL cannot store a NUL in text, and no title or description needs one.
        raise InvalidCatalogEntry(f"{field} must not contain NUL characters.", [field])
    # Checked before strip() could hide one: str.strip() also removes \x1c-\x1f and \x85.
    problem = control_character_problem(value, field, allow="\t\n\r" if multiline else "")
    if problem is not None:
        raise InvalidCatalogEntry(problem, [field])
    if required and not cleaned:
        raise InvalidCatalogEntry(f"{field} must not be blank.", [field])
    if len(cleaned) > limit:
        raise InvalidCatalogEntry(f"{field} is longer than {limit} characters.", [field])
    return cleaned
