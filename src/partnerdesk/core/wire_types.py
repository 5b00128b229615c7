"""Strict types for values that come over the wire, so loose input is refused in one place.

Pydantic's lax mode reads "1" as the number 1 and "0.5" as a Unix time (1970-01-01T00:00:00.5Z): a
client that sent either made a mistake we should tell it about, not guess at. Use these in request
models and query parameters instead of bare `int` and `datetime`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

import pycountry
from pydantic import AwareDatetime, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

from partnerdesk.core.money import is_currency

# RFC 3339 / ISO 8601 as clients send it: a date, or a date and time with an optional offset.
_ISO_8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$"
)
ISO_8601_HINT = "must be an ISO 8601 date or date and time, such as 2026-06-01 or 2026-06-01T12:00:00Z"


def _iso_8601_only(value: Any) -> Any:
    """Lets only ISO 8601 text (or a datetime already built) through to pydantic's own parsing."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_8601.match(value.strip()):
        raise ValueError(ISO_8601_HINT)
    return value.strip()


# A date or date-time in ISO 8601 only (never a Unix time); a bare date is its midnight.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601_only)]
# The same, with a time zone required (`2026-06-01T12:00:00Z`).
IsoAwareDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_8601_only)]
def _json_integer_only(value: Any) -> Any:
    """A JSON integer as JSON Schema reads one: 3 and 3.0 (a number with no fraction, as some JSON writers
    print whole numbers) are the integer 3; "3" (a string), true and 3.5 are refused."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Input should be a JSON integer, such as 3")
    return value


# A JSON integer (3, or 3.0 as JSON Schema allows): "3" (a string), true and 3.5 are refused, not converted.
StrictInteger = Annotated[int, BeforeValidator(_json_integer_only), Strict()]


# JSON Schema patterns are ECMA 262 regular expressions, which have no flag for letter case: a value the
# desk reads in any case (a country, a currency, a target view) is written with [Ff][Rr] classes, built
# from the very list the service checks so the document and the check cannot drift apart.
_REGEX_SPECIAL = set(".^$*+?()[]{}|\\/")


def _letter_class(characters: list[str]) -> str:
    """One character class for `characters` (lower-cased) in both letter cases."""
    spelled = "".join(dict.fromkeys(case for character in characters
                                    for case in (character.upper(), character)))
    if len(spelled) == 1:
        return "\\" + spelled if spelled in _REGEX_SPECIAL else spelled
    return "[" + "".join("\\" + c if c in "]\\^-" else c for c in spelled) + "]"


def _alternatives(words: list[str]) -> list[str]:
    """The branches of a regular expression for the lower-cased, distinct `words`, sharing their prefixes."""
    following: dict[str, list[str]] = {}
    for word in words:
        following.setdefault(word[0], []).append(word[1:])
    # First characters with the same continuation share one class: [Aa][DdEe...] for AD, AE, ...
    by_rest: dict[str, list[str]] = {}
    for first, rests in following.items():
        by_rest.setdefault(_continuation([rest for rest in rests if rest], "" in rests), []).append(first)
    return [_letter_class(firsts) + rest for rest, firsts in by_rest.items()]


_ONE_CHARACTER = re.compile(r"\[[^\]]*\]|\\?.")


def _continuation(rests: list[str], optional: bool) -> str:
    """What may follow a shared prefix: `rests` (none of them empty), or nothing too when `optional`."""
    if not rests:
        return ""
    branches = _alternatives(rests)
    if len(branches) == 1 and (not optional or _ONE_CHARACTER.fullmatch(branches[0])):
        return branches[0] + ("?" if optional else "")
    return f"(?:{'|'.join(branches)})" + ("?" if optional else "")


def any_case_words(words: Iterable[str]) -> str:
    """A group of a regular expression matching any of `words`, in any letter case (`FR`, `fr`, `Fr`)."""
    return "(?:" + "|".join(_alternatives(sorted({word.casefold() for word in words}))) + ")"


def any_case_pattern(words: Iterable[str]) -> str:
    """A pattern matching exactly `words`, in any letter case, and nothing else."""
    return f"^{any_case_words(words)}$"


@lru_cache(maxsize=1)
def currency_codes() -> tuple[str, ...]:
    """The ISO 4217 codes the desk takes money in (`core.money.is_currency`), in order."""
    return tuple(sorted(code for code in (currency.alpha_3 for currency in pycountry.currencies)
                        if is_currency(code)))


@lru_cache(maxsize=1)
def currency_pattern() -> str:
    """The currencies the desk accepts, in any letter case (the services read `eur` as EUR)."""
    return any_case_pattern(currency_codes())


# Text the services check with `core.csv_safe.control_character_problem` (names are shown in pages and
# exported to spreadsheets): no C0 control character, DEL or C1 one. A name must also hold something other
# than spaces (`str.strip()` leaves it non-blank). These patterns only document the check; the service makes
# it, with its own error code and sentence.
_CONTROL_CHARACTERS = "\\x00-\\x1f\\x7f-\\x9f"
PRINTABLE_LINE_PATTERN = f"^[^{_CONTROL_CHARACTERS}]*$"
PRINTABLE_NAME_PATTERN = f"^[^{_CONTROL_CHARACTERS}]*[^\\s{_CONTROL_CHARACTERS}][^{_CONTROL_CHARACTERS}]*$"
# A description: line breaks and tabs allowed, no other control character.
PRINTABLE_TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"

# A string field documented with one of the patterns above (or any other) that its service checks.
PrintableLine = Annotated[str, Field(json_schema_extra={"pattern": PRINTABLE_LINE_PATTERN})]
PrintableName = Annotated[str, Field(json_schema_extra={"pattern": PRINTABLE_NAME_PATTERN})]
PrintableText = Annotated[str, Field(json_schema_extra={"pattern": PRINTABLE_TEXT_PATTERN})]
# Text that must hold something other than spaces (`str.strip()` leaves it non-blank), and no NUL (refused by
# every request model). \x1c-\x1f and \x85 are spaces to Python's strip() but not to JSON Schema's \s: named
# so that they do not count.
NOT_BLANK_PATTERN = "^[^\\x00]*[^\\s\\x00\\x1c-\\x1f\\x85][^\\x00]*$"
NotBlank = Annotated[str, Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN})]
