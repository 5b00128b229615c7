"""Markets are ISO 3166-1 alpha-2 countries, taken from pycountry rather than a hand-typed list."""

from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers

from partnerdesk.core.errors import InvalidInput, UnknownCountry
from partnerdesk.core.wire_types import any_case_pattern


@lru_cache(maxsize=1)
def all_markets() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def normalise_country(code: str, *, field: str = "country") -> str:
    candidate = code.strip().upper()
    if candidate not in all_markets():
        raise UnknownCountry(
            f"{field}: '{code}' is not a market; use an ISO 3166-1 alpha-2 country code such as FR or US.",
            [field],
        )
    return candidate


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def normalise_culture(culture: str, *, field: str = "culture") -> str:
    """A culture such as fr-FR: a language and a country that Babel knows."""
    try:
        locale = Locale.parse(culture.strip(), sep="-")
    except (ValueError, UnknownLocaleError):
        raise InvalidInput(f"{field}: '{culture}' is not a culture such as fr-FR or en-US.", [field]) from None
    if not locale.territory:
        raise InvalidInput(f"{field}: '{culture}' needs a country part, as in fr-FR.", [field])
    return f"{locale.language}-{locale.territory}"


def normalise_language(language: str, *, field: str = "language") -> str:
    try:
        locale = Locale.parse(language.strip(), sep="-")
    except (ValueError, UnknownLocaleError):
        raise InvalidInput(f"{field}: '{language}' is not a language code such as fr or en.", [field]) from None
    return locale.language


@lru_cache(maxsize=1)
def market_pattern() -> str:
    """The document's pattern for a market: every code of `all_markets()`, in any letter case, as
    `normalise_country` reads them (`fr` is FR)."""
    return any_case_pattern(all_markets())


@lru_cache(maxsize=1)
def culture_pattern() -> str:
    """The document's pattern for a culture: every language-and-country locale Babel has data for (fr-FR,
    en-001, sr-Latn-RS), in any letter case, each one that `normalise_culture` accepts. (It also reads Babel's
    aliases, such as iw-IL for he-IL, which the document leaves out.)"""
    return any_case_pattern(culture for culture in (name.replace("_", "-") for name in locale_identifiers())
                            if _is_culture(culture))


def _is_culture(text: str) -> bool:
    try:
        normalise_culture(text)
    except InvalidInput:
        return False
    return True


@lru_cache(maxsize=1)
def language_pattern() -> str:
    """The document's pattern for a language: every bare language Babel has data for (fr, en, ast), in any
    letter case. (`normalise_language` also reads a culture such as fr-FR as its language.)"""
    return any_case_pattern(name for name in locale_identifiers() if "_" not in name)
