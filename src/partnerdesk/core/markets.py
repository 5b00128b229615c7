"""Markets are ISO 3166-1 alpha-2 countries, taken from pycountry rather than a hand-typed list."""

from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale, UnknownLocaleError

from partnerdesk.core.errors import InvalidInput, UnknownCountry


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
