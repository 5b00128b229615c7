"""Languages of the portal: message catalogs, choosing a language, and locale-aware formatting.

Catalogs are the `.po` files kept in the repository, one set per domain
(`<domain>/locale/<lang>/LC_MESSAGES/messages.po`). They are compiled in memory the first time a
language is used (`babel.messages.pofile.read_po` then `mofile.write_mo`), so the `.po` file is
the only source: there is no compiled `.mo` to forget to rebuild, and a fuzzy entry is left
out exactly as `pybabel compile` would. Compiling all catalogs takes a few milliseconds once
per process. The extraction workflow is in CONTRIBUTING.md, "Portal pages".
"""

from __future__ import annotations

import gettext as gettext_module
import threading
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel.core import get_global, negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.localedata import locale_identifiers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations
from markupsafe import Markup

from partnerdesk.core.markets import all_markets, country_name

# The portal's languages: code -> the language's name in itself (shown in the switcher).
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
CATALOG_DOMAIN = "messages"
PORTAL_LOCALE_DIR = Path(__file__).parent / "locale"

_catalog_dirs: list[Path] = [PORTAL_LOCALE_DIR]
_lock = threading.Lock()


def N_(message: str) -> str:  # noqa: N802 - the gettext convention pybabel looks for
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


def register_translations(directory: str | Path) -> None:
    """Adds a domain's catalogs (`<directory>/<lang>/LC_MESSAGES/messages.po`) to every language."""
    path = Path(directory).resolve()
    with _lock:
        if path not in _catalog_dirs:
            _catalog_dirs.append(path)


def catalog_dirs() -> tuple[Path, ...]:
    return tuple(_catalog_dirs)


def translations_for(language: str) -> gettext_module.NullTranslations:
    """The merged translations of every registered catalog for `language` (English if unknown)."""
    return _merged_translations(language if language in LANGUAGES else DEFAULT_LANGUAGE, catalog_dirs())


@lru_cache(maxsize=16)
def _merged_translations(language: str, directories: tuple[Path, ...]) -> gettext_module.NullTranslations:
    merged: Translations | None = None
    for directory in directories:
        po_path = directory / language / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.po"
        if not po_path.is_file():
            continue
        compiled = compile_po(po_path, language)
        if merged is None:
            merged = compiled
        else:
            merged.merge(compiled)
    return merged if merged is not None else gettext_module.NullTranslations()


def compile_po(po_path: Path, language: str) -> Translations:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=CATALOG_DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=CATALOG_DOMAIN)


def parse_accept_language(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first; q=0 and junk dropped."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, parameters = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if 0.0 < quality <= 1.0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_language(accept_language: str | None) -> str | None:
    """The portal language that best matches an Accept-Language header, if any does."""
    if not accept_language:
        return None
    found = negotiate_locale(parse_accept_language(accept_language), list(LANGUAGES), sep="-")
    if not found:
        return None
    language = found.split("-")[0].lower()
    return language if language in LANGUAGES else None


def supported_language(value: str | None) -> str | None:
    """`value` if it names a portal language (as stored in a cookie or an agent's preference)."""
    if not value:
        return None
    language = value.strip().lower().replace("_", "-").split("-")[0]
    return language if language in LANGUAGES else None


def choose_language(*, preferred: str | None, cookie: str | None, accept_language: str | None) -> str:
    """An explicit choice (the agent's stored preference, then the cookie) wins over the browser's."""
    return (
        supported_language(preferred)
        or supported_language(cookie)
        or negotiate_language(accept_language)
        or DEFAULT_LANGUAGE
    )


# Formatting with Babel, for templates (as filters) and for domains' own code.


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """`1 234,50 €` in French, `€1,234.50` in English: the amount is never rounded through a float."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    return format_currency(amount, currency, locale=locale)


def format_number(value: int | Decimal, locale: str) -> str:
    return format_decimal(value, locale=locale)


def format_date(value: date | datetime, locale: str, format: str = "medium") -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return babel_format_date(value, format=format, locale=locale)


def format_datetime(value: datetime, locale: str, format: str = "medium", time_zone: str | None = None) -> str:
    """Times are kept in UTC; shown in `time_zone` (the reader's) with its abbreviation, else in UTC, saying so."""
    if not time_zone or time_zone == UTC_ZONE:
        return babel_format_datetime(value, format=format, tzinfo=UTC, locale=locale) + " UTC"
    zone = ZoneInfo(time_zone)
    return (babel_format_datetime(value, format=format, tzinfo=zone, locale=locale) + " "
            + value.astimezone(zone).strftime("%Z"))


def time_element(value: datetime, locale: str, time_zone: str | None, format: str = "medium") -> Markup:
    """`<time>` showing the moment in the reader's time zone, with UTC on hover (`title`) and in `datetime`."""
    utc = value.astimezone(UTC)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"), format_datetime(utc, locale, format),
        format_datetime(utc, locale, format, time_zone))


# Time zones: IANA names ("Europe/Paris"), as the reader's preference, the browser or the partner's country give.

UTC_ZONE = "UTC"
_ZONE_TABLES = ("zone.tab", "zone1970.tab")


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """The zones a reader may choose: IANA's region/city names and UTC (no legacy aliases such as "US/Eastern")."""
    regions = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/",
               "Pacific/")
    return frozenset({UTC_ZONE, *(name for name in available_timezones() if name.startswith(regions))})


def supported_time_zone(value: str | None) -> str | None:
    """`value` if it names a time zone a reader may choose (as a cookie or a form holds it)."""
    if not value or len(value) > 64:
        return None
    name = value.strip()
    return name if name in time_zone_names() else None


@lru_cache(maxsize=1)
def _main_zone_by_country() -> dict[str, str]:
    """The first zone tzdata's zone.tab lists for each country: its most populous ("America/New_York" for US)."""
    for folder in TZPATH:
        for table in _ZONE_TABLES:
            path = Path(folder) / table
            if path.is_file():
                zones: dict[str, str] = {}
                for line in path.read_text(encoding="utf-8").splitlines():
                    fields = line.split("\t")
                    if line.startswith("#") or len(fields) < 3:
                        continue
                    for country in fields[0].split(","):
                        zones.setdefault(country.strip().upper(), fields[2].strip())
                return zones
    # No tzdata tables on this machine: CLDR's list of the country's zones, the first of them.
    return {country: names[0] for country, names in get_global("territory_zones").items() if names}


def time_zone_of_country(country: str | None) -> str | None:
    zone = _main_zone_by_country().get((country or "").strip().upper())
    return zone if zone in time_zone_names() else None


def choose_time_zone(*, preferred: str | None, browser: str | None, country: str | None) -> str:
    """The reader's own choice, else the browser's zone (known once a page's script told it), else the
    partner's country's, else UTC."""
    return (supported_time_zone(preferred) or supported_time_zone(browser) or time_zone_of_country(country)
            or UTC_ZONE)


@lru_cache(maxsize=1)
def time_zone_choices() -> tuple[tuple[str, str], ...]:
    """Every zone a reader may choose, by name ("Europe/Paris", "America/New York"): IANA's names are the same
    in every language, and the ones people search a list for."""
    return tuple((name, name.replace("_", " ")) for name in sorted(time_zone_names()))


# Names of countries, cultures and languages in the reader's language.


def _sort_key(label: str) -> str:
    decomposed = unicodedata.normalize("NFKD", label)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _sorted_choices(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pairs, key=lambda pair: (_sort_key(pair[1]), pair[0])))


def country_label(code: str, locale: str) -> str:
    return Locale.parse(locale).territories.get(code) or country_name(code)


@lru_cache(maxsize=8)
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """Every market (ISO 3166-1 alpha-2, from pycountry) with its name in `locale`, by name."""
    return _sorted_choices((code, country_label(code, locale)) for code in all_markets())


@lru_cache(maxsize=1)
def _cultures() -> tuple[str, ...]:
    """Babel's language-COUNTRY locales, written fr-FR: the cultures the customers service accepts."""
    cultures = set()
    for identifier in locale_identifiers():
        parts = identifier.split("_")
        if len(parts) == 2 and len(parts[1]) == 2 and parts[1].isalpha():
            cultures.add(f"{parts[0]}-{parts[1]}")
    return tuple(sorted(cultures))


def culture_of_country(country: str) -> tuple[str, str] | None:
    """The culture and language most used in `country` ("FR" -> ("fr-FR", "fr")), from CLDR's likely
    subtags as Babel keeps them; None for a country CLDR says nothing of."""
    territory = country.strip().upper()
    try:
        likely = Locale.parse(f"und_{territory}")
    except (ValueError, UnknownLocaleError):
        return None
    # CLDR answers en-US for a region it does not know; only a guess for this very country will do.
    culture = f"{likely.language}-{likely.territory}"
    if likely.territory != territory or culture not in _cultures():
        return None
    return culture, likely.language


def culture_label(culture: str, locale: str) -> str:
    try:
        return Locale.parse(culture, sep="-").get_display_name(locale) or culture
    except (ValueError, UnknownLocaleError):
        return culture


@lru_cache(maxsize=8)
def culture_choices(locale: str) -> tuple[tuple[str, str], ...]:
    return _sorted_choices((culture, f"{culture_label(culture, locale)} — {culture}") for culture in _cultures())


def language_label(language: str, locale: str) -> str:
    return Locale.parse(locale).languages.get(language) or language


@lru_cache(maxsize=8)
def language_choices(locale: str) -> tuple[tuple[str, str], ...]:
    languages = {culture.split("-")[0] for culture in _cultures()}
    return _sorted_choices((language, f"{language_label(language, locale)} — {language}") for language in languages)
