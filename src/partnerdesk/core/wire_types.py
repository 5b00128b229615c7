"""Strict types for values that come over the wire, so loose input is refused in one place.

Pydantic's lax mode reads "1" as the number 1 and "0.5" as a Unix time (1970-01-01T00:00:00.5Z): a
client that sent either made a mistake we should tell it about, not guess at. Use these in request
models and query parameters instead of bare `int` and `datetime`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Strict
from pydantic_core import PydanticCustomError

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
