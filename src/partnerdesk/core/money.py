"""Money: `Decimal` amounts with an ISO 4217 currency, formatted with the currency's minor units."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pycountry
from babel.numbers import get_currency_precision


def is_currency(code: str) -> bool:
    return len(code) == 3 and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_to_currency(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)


def money_str(amount: Decimal, currency: str) -> str:
    """The wire form of an amount: a string with at least the currency's minor units."""
    minor = minor_unit(currency)
    if amount == amount.quantize(minor):
        return str(amount.quantize(minor))
    return str(amount.normalize())
