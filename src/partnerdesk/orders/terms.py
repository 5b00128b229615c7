"""Term arithmetic: when a term that starts now ends ("P1Y" from 29 February ends on 28 February)."""

from __future__ import annotations

import calendar
import re
from datetime import datetime

_TERM = re.compile(r"^P(\d{1,2})([YM])$")


def months_in(term_duration: str) -> int:
    match = _TERM.match(term_duration)
    if match is None:
        raise ValueError(f"unsupported term duration {term_duration!r}")
    count = int(match.group(1))
    return count * 12 if match.group(2) == "Y" else count


def term_end(start: datetime, term_duration: str | None) -> datetime | None:
    """The moment a term of `term_duration` starting at `start` ends; None for no term (perpetual)."""
    if not term_duration:
        return None
    month_index = start.month - 1 + months_in(term_duration)
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
