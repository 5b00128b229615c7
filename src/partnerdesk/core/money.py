"""Money: `Decimal` amounts with an ISO 4217 currency, formatted with the currency's minor units."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pycountry
from babel.numbers import get_currency_precision

# ISO 4217 codes that are not money a price or a limit can be in: testing (XTS), "no currency" (XXX),
# precious metals (XAU, XAG, XPT, XPD), the SDR and other units of account (XDR, XSU, XUA, XBA-XBD),
# and the fund codes that only exist beside a real currency (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW).
NOT_MONEY_CODES = frozenset({
    "XTS", "XXX", "XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD",
    "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW",
})


def is_currency(code: str) -> bool:
    """An ISO 4217 code of a currency things are paid in (EUR, XOF), not a fund, metal or test code."""
    return (len(code) == 3 and code.isupper() and code not in NOT_MONEY_CODES
            and pycountry.currencies.get(alpha_3=code) is not None)


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
