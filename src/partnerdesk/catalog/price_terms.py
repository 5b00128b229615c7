"""What a price is per: "€72.02 / month for 36 months (€2,592.72 in total)".

An availability's `unit_price` is charged once per cycle of its billing plan, over its term: a 3-year
Reserved Instance at €72.02 on the monthly plan costs 36 × €72.02, the same reservation paid upfront
€2,592.58 once. A bare amount hides that, so every price the product shows (catalog, cart, order,
API) goes through `price_terms(...)` for the facts and `describe_price(...)` for the words, in the
reader's language (the portal's `price_terms` template filter, registered by `catalog.web`).
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency
from pydantic import Field

from partnerdesk.core.money import money_str
from partnerdesk.core.schemas import ResponseModel

# Months in one cycle of each recurring billing plan; `one_time` is charged once, whatever the term.
CYCLE_MONTHS = {"monthly": 1, "annual": 12, "triennial": 36}
ONE_TIME = "one_time"
_TERM = re.compile(r"^P(\d{1,2})([YM])$")


def term_months(term_duration: str | None) -> int | None:
    """Months in an ISO 8601 term ("P3Y" -> 36, "P1M" -> 1); None for no term (perpetual)."""
    match = _TERM.match((term_duration or "").strip().upper())
    if match is None:
        return None
    return int(match.group(1)) * (12 if match.group(2) == "Y" else 1)


@dataclass(frozen=True)
class PriceTerms:
    """The facts of one price: how much, how often, how many times, and what it adds up to."""

    amount: Decimal  # charged each cycle, or once for `one_time`
    currency: str
    billing_cycle: str
    term_duration: str | None
    # Months between two charges ("monthly": 1); None when charged once.
    cycle_months: int | None
    # How many charges the term makes (36 for monthly over P3Y, 1 for one_time); None when the
    # term is unknown or not a whole number of cycles, so the total cannot be promised.
    charge_count: int | None
    total: Decimal | None

    @property
    def is_recurring(self) -> bool:
        return self.cycle_months is not None

    @property
    def charge_period(self) -> str | None:
        """The cycle as an ISO 8601 duration ("P1M", "P1Y", "P3Y"); None when charged once."""
        if self.cycle_months is None:
            return None
        return f"P{self.cycle_months}M" if self.cycle_months < 12 else f"P{self.cycle_months // 12}Y"


def price_terms(amount: Decimal, currency: str, billing_cycle: str, term_duration: str | None) -> PriceTerms:
    """The facts of `amount` charged per `billing_cycle` over `term_duration` (exact, never rounded)."""
    months = term_months(term_duration)
    cycle_months = CYCLE_MONTHS.get(billing_cycle)
    if cycle_months is None:  # one_time: the amount is the whole price, whatever the term
        count: int | None = 1
    elif months is not None and months % cycle_months == 0:
        count = months // cycle_months
    else:
        count = None
    return PriceTerms(
        amount=amount, currency=currency, billing_cycle=billing_cycle, term_duration=term_duration,
        cycle_months=cycle_months, charge_count=count, total=None if count is None else amount * count,
    )


def _money(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)


def _span(months: int, translations: gettext.NullTranslations, *, in_years: bool) -> str:
    """ "36 months" or "3 years", as the cycle counts it (a monthly price counts its term in months)."""
    if in_years and months % 12 == 0:
        return translations.ngettext("%(num)d year", "%(num)d years", months // 12) % {"num": months // 12}
    return translations.ngettext("%(num)d month", "%(num)d months", months) % {"num": months}


def _per(cycle_months: int, translations: gettext.NullTranslations) -> str:
    if cycle_months == 1:
        return translations.gettext("month")
    if cycle_months == 12:
        return translations.gettext("year")
    return _span(cycle_months, translations, in_years=True)


def describe_price(terms: PriceTerms, *, locale: str = "en",
                   translations: gettext.NullTranslations | None = None) -> str:
    """The price in words: "€72.02 / month for 36 months (€2,592.72 in total)", "€1,069.00 once".

    `translations` are the reader's message catalogs (English without them); amounts are formatted
    for `locale` by Babel, so French reads "72,02 € / mois pendant 36 mois (2 592,72 € au total)".
    """
    words = translations or gettext.NullTranslations()
    amount = _money(terms.amount, terms.currency, locale)
    months = term_months(terms.term_duration)
    if terms.cycle_months is None:
        if months is None:
            return words.gettext("%(amount)s once") % {"amount": amount}
        return words.gettext("%(amount)s once, for %(term)s") % {
            "amount": amount, "term": _span(months, words, in_years=True)}
    per = _per(terms.cycle_months, words)
    if terms.total is None or months is None:
        return words.gettext("%(amount)s / %(per)s") % {"amount": amount, "per": per}
    return words.gettext("%(amount)s / %(per)s for %(term)s (%(total)s in total)") % {
        "amount": amount, "per": per, "term": _span(months, words, in_years=terms.cycle_months >= 12),
        "total": _money(terms.total, terms.currency, locale),
    }


class PriceTermsOut(ResponseModel):
    """`priceTerms` in the API: what a price is per, as facts and as an English sentence."""

    amount: str = Field(description="Charged each cycle (once for one_time), exact, in the currency's units.")
    currency_code: str
    billing_cycle: str = Field(description="one_time, monthly, annual or triennial.")
    charge_period: str | None = Field(description="Time between two charges (P1M, P1Y, P3Y); null when charged once.")
    term_duration: str | None
    charge_count: int | None = Field(description="Charges over the term (36 for monthly over P3Y, 1 for one_time); "
                                                 "null when the term is not a whole number of cycles.")
    total_for_term: str | None = Field(description="amount × chargeCount: what the term costs in all.")
    description: str = Field(description='In words, such as "€72.02 / month for 36 months (€2,592.72 in total)".')

    @classmethod
    def of(cls, terms: PriceTerms) -> PriceTermsOut:
        return cls(
            amount=money_str(terms.amount, terms.currency), currency_code=terms.currency,
            billing_cycle=terms.billing_cycle, charge_period=terms.charge_period, term_duration=terms.term_duration,
            charge_count=terms.charge_count,
            total_for_term=None if terms.total is None else money_str(terms.total, terms.currency),
            description=describe_price(terms),
        )
