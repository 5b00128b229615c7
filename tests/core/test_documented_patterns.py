"""The patterns the OpenAPI document gives (issue 18: what the schema allows is accepted) agree with the checks
the services make: every value a pattern admits is accepted by the service it documents, and, for the patterns
built from a list (markets, currencies, views...), every value it refuses is refused too.

JSON Schema patterns are ECMA 262: `$` ends the text, where Python's also matches before a final line break,
so the patterns are compiled here as JSON Schema validators read them.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from partnerdesk.accounts.service import normalise_email
from partnerdesk.billing import service as billing
from partnerdesk.billing.schemas import WHOLE_AMOUNT_PATTERN
from partnerdesk.catalog import validation, vocabulary
from partnerdesk.catalog.errors import InvalidCatalogEntry, UnknownTargetView
from partnerdesk.catalog.schemas import TARGET_VIEW_PARAMETER, ItemTypeIn
from partnerdesk.core.csv_safe import control_character_problem
from partnerdesk.core.errors import DeskError
from partnerdesk.core.markets import (
    all_markets,
    culture_pattern,
    language_pattern,
    market_pattern,
    normalise_country,
    normalise_culture,
    normalise_language,
)
from partnerdesk.core.money import is_currency
from partnerdesk.core.wire_types import (
    NOT_BLANK_PATTERN,
    PRINTABLE_LINE_PATTERN,
    PRINTABLE_NAME_PATTERN,
    any_case_pattern,
    currency_codes,
    currency_pattern,
)
from partnerdesk.customers import api as customers_api
from partnerdesk.customers.schemas import DOMAIN_PATTERN, EMAIL_PATTERN, FILTER_PATTERN
from partnerdesk.customers.service import normalise_domain
from partnerdesk.hybrid import service as hybrid
from partnerdesk.hybrid.schemas import EstimateIn
from partnerdesk.support import service as support
from partnerdesk.support.models import STATUSES
from partnerdesk.support.schemas import ServiceRequestIn


def as_json_schema(pattern: str) -> re.Pattern[str]:
    """`pattern` as a JSON Schema validator reads it (ECMA 262's `$` matches only at the very end)."""
    assert pattern.endswith("$")
    return re.compile(pattern[:-1] + r"\Z")


def matching(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(as_json_schema(pattern))


def accepted(check, value: str) -> bool:
    try:
        check(value)
    except DeskError:
        return False
    return True


def spelled_any_case(words) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(words)).flatmap(
        lambda word: st.tuples(*[st.sampled_from(sorted({c.lower(), c.upper()})) for c in word]).map("".join))


FAST = settings(max_examples=150, deadline=None)


@FAST
@given(st.lists(st.text(alphabet="ab.-", min_size=1, max_size=4), min_size=1, max_size=6),
       st.text("abAB.-", max_size=5))
def test_any_case_pattern_matches_exactly_its_words(words, text):
    pattern = as_json_schema(any_case_pattern(words))
    assert all(pattern.match(word.upper()) and pattern.match(word) for word in words)
    assert bool(pattern.match(text)) == (text.casefold() in {word.casefold() for word in words})


@FAST
@given(spelled_any_case(all_markets()) | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZqz", min_size=1, max_size=3))
def test_markets_documented_are_those_normalise_country_accepts(code):
    assert bool(as_json_schema(market_pattern()).match(code)) == accepted(normalise_country, code)


@FAST
@given(spelled_any_case(currency_codes()) | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZxt", min_size=3, max_size=3))
@example("XXX")
@example("xts")
@example("XAU")
def test_currencies_documented_are_those_the_desk_takes_money_in(code):
    documented = bool(as_json_schema(currency_pattern()).match(code))
    assert documented == is_currency(code.upper())
    assert documented == accepted(lambda text: billing.parse_amount("1", text.upper()), code)


@FAST
@given(matching(culture_pattern()))
def test_every_documented_culture_is_accepted(culture):
    assert normalise_culture(culture)


@FAST
@given(matching(language_pattern()))
def test_every_documented_language_is_accepted(language):
    assert normalise_language(language)


@pytest.mark.parametrize("culture", ["fr-FR", "EN-us", "en-001", "sr-Latn-RS"])
def test_cultures_partner_center_clients_send_are_documented(culture):
    assert as_json_schema(culture_pattern()).match(culture)


@pytest.mark.parametrize("culture", ["fr", "fr-US", "fr_FR", "en-QQ"])
def test_cultures_the_desk_refuses_are_not_documented(culture):
    assert not as_json_schema(culture_pattern()).match(culture)
    assert not accepted(normalise_culture, culture)


@FAST
@given(matching(DOMAIN_PATTERN).filter(lambda name: len(name) <= 253))
@example("fabrikam.onmicrosoft.com")
@example("a" * 63 + ".example")
def test_every_documented_domain_name_is_accepted(domain):
    assert normalise_domain(domain) == domain.lower()


@pytest.mark.parametrize("domain", ["localhost", "a" * 64 + ".example", "-fabrikam.com", "fabrikam-.com",
                                    "fabrikam.123", "fabrikam..com", "fab rikam.com"])
def test_domain_names_the_desk_refuses_are_not_documented(domain):
    assert not as_json_schema(DOMAIN_PATTERN).match(domain)
    assert not accepted(normalise_domain, domain)


@FAST
@given(matching(EMAIL_PATTERN).filter(lambda email: len(email) <= 320))
def test_every_documented_email_address_is_accepted(email):
    assert normalise_email(email)


@FAST
@given(matching(PRINTABLE_NAME_PATTERN))
@example("Fabrikam")
@example("\u00a0x")
def test_every_documented_name_is_one_printable_line_that_is_not_blank(name):
    assert control_character_problem(name, "name") is None and name.strip()


@pytest.mark.parametrize("name", ["", "   ", "\u3000", "Fab\nrikam", "Fab\x07rikam", "Fab\x85"])
def test_blank_names_and_control_characters_are_not_documented(name):
    assert not as_json_schema(PRINTABLE_NAME_PATTERN).match(name)


@FAST
@given(matching(PRINTABLE_LINE_PATTERN))
def test_every_documented_line_has_no_control_character(line):
    assert control_character_problem(line, "line") is None


@FAST
@given(matching(NOT_BLANK_PATTERN))
@example("a\n")
@example("\x1c\x1dx")
def test_every_documented_note_is_not_blank(text):
    assert text.strip() and "\x00" not in text


@pytest.mark.parametrize("text", ["", " \n\t ", "\x1c\x1d\x1e\x1f\x85", "a\x00"])
def test_blank_notes_are_not_documented(text):
    assert not as_json_schema(NOT_BLANK_PATTERN).match(text)


@FAST
@given(st.text("0123456789-", min_size=6, max_size=8) | st.from_regex(r"\A[0-9]{4}-[0-9]{2}\Z"))
@example("2026-11")
@example("0000-01")
@example("9999-12")
def test_billing_periods_documented_are_those_the_service_reads(period):
    assert bool(as_json_schema(billing.PERIOD_PATTERN).match(period)) == accepted(billing.parse_period, period)


@FAST
@given(matching(WHOLE_AMOUNT_PATTERN), st.sampled_from(currency_codes()))
@example("99999999999999", "JPY")
@example("5000.000", "EUR")
def test_every_documented_credit_limit_is_accepted_in_every_currency(amount, currency):
    assert billing.parse_amount(amount, currency) == Decimal(amount)


@FAST
@given(spelled_any_case([*vocabulary.TARGET_VIEWS, *vocabulary.OTHER_PARTNER_CENTER_VIEWS])
       | st.text("SoftwareAzuVMQL", min_size=1, max_size=12))
def test_target_views_documented_are_those_the_catalog_reads(view):
    documented = as_json_schema(TARGET_VIEW_PARAMETER["schema"]["pattern"]).match(view)
    assert bool(documented) == accepted(vocabulary.target_view, view)


@FAST
@given(spelled_any_case(STATUSES) | st.text("opencld_", min_size=1, max_size=8))
def test_service_request_statuses_documented_are_those_the_service_reads(status):
    documented = as_json_schema(any_case_pattern(STATUSES)).match(status)
    assert bool(documented) == (status.strip().casefold() in STATUSES)


def test_product_types_documented_pair_each_type_with_its_own_sub_types():
    pairs = ItemTypeIn.model_json_schema()["anyOf"]
    for type_id, sub_types in vocabulary.PRODUCT_TYPES.items():
        for sub_type in sub_types:
            documented = [pair for pair in pairs
                          if as_json_schema(pair["properties"]["id"]["pattern"]).match(type_id.upper())
                          and as_json_schema(pair["properties"]["subType"]["properties"]["id"]["pattern"])
                          .match(sub_type.lower())]
            assert len(documented) == 1
            assert validation.product_type(type_id.upper(), sub_type.lower()) == (type_id, sub_type)
    # A sub-type of the other type is documented with neither, and refused.
    assert not any(as_json_schema(pair["properties"]["id"]["pattern"]).match("Software")
                   and as_json_schema(pair["properties"]["subType"]["properties"]["id"]["pattern"]).match("SQL")
                   for pair in pairs)
    with pytest.raises(InvalidCatalogEntry):
        validation.product_type("Software", "SQL")


def test_a_target_view_left_out_is_documented_as_required_and_still_named_by_the_catalog():
    assert TARGET_VIEW_PARAMETER["required"] is True
    with pytest.raises(UnknownTargetView, match="targetView is required; use one of"):
        vocabulary.target_view(None)


@FAST
@given(matching(FILTER_PATTERN))
@example('{"Field": "CompanyName", "Value": "Fab", "Operator": "starts_with"}')
@example('{"Field":"DOMAIN","Value":"contoso"}')
def test_every_documented_customer_filter_is_read(text):
    criteria = customers_api._parse_partner_center_filter(text)
    assert set(criteria) <= {"company_name_prefix", "domain_prefix"} and len(criteria) == 1


@pytest.mark.parametrize("text", ['{"Field": "Country", "Value": "FR"}', '{"Field": "Domain"}', "Fab",
                                  '{"Field": "Domain", "Value": "a", "Operator": "equals"}'])
def test_customer_filters_the_desk_refuses_are_not_documented(text):
    assert not as_json_schema(FILTER_PATTERN).match(text)
    assert not accepted(customers_api._parse_partner_center_filter, text)


def test_hybrid_benefit_bounds_documented_are_those_the_estimate_checks():
    document = EstimateIn.model_json_schema()
    vm, licence = document["$defs"]["VmIn"]["properties"], document["$defs"]["LicenseIn"]["properties"]
    documented = {
        "hoursPerMonth": document["properties"]["hoursPerMonth"], "count": vm["count"],
        "vCpus": vm["vCpus"]["anyOf"][0], "cores": licence["cores"], "processorLicenses": licence["processorLicenses"],
    }
    assert {field: (schema["minimum"], schema["maximum"]) for field, schema in documented.items()} == {
        "hoursPerMonth": (1, hybrid.MAX_HOURS_PER_MONTH), "count": (1, hybrid.MAX_COUNT),
        "vCpus": (1, hybrid.MAX_VCPUS), "cores": (0, hybrid.MAX_CORES),
        "processorLicenses": (0, hybrid.MAX_PROCESSOR_LICENCES),
    }
    assert hybrid._whole(hybrid.MAX_HOURS_PER_MONTH, "hoursPerMonth", maximum=hybrid.MAX_HOURS_PER_MONTH,
                         what="hours") == 744
    assert document["properties"]["vms"]["minItems"] == 1


@pytest.mark.parametrize(("field", "words", "check"), [
    ("edition", ["Datacenter", "STANDARD"], lambda value: hybrid._edition(value, "edition")),
    ("term", ["p1y", "P3Y"], hybrid._term),
])
def test_hybrid_benefit_words_documented_are_those_the_estimate_reads(field, words, check):
    definitions = EstimateIn.model_json_schema()["$defs"]
    schema = (definitions["LicenseIn"] if field == "edition" else definitions["ReservationIn"])["properties"][field]
    for word in words:
        assert as_json_schema(schema["pattern"]).match(word) and check(word)
    assert not as_json_schema(schema["pattern"]).match("P2Y")
    with pytest.raises(DeskError):
        check("P2Y")


@FAST
@given(matching(support.PHONE_PATTERN))
@example("+33 4 72 00 00 00")
def test_every_documented_phone_number_is_accepted(phone):
    contact = support.Contact("Ana", "Silva", "ana@contoso.example", phone)
    assert support._contact(contact).phone_number == phone.strip()


def test_support_topics_and_severities_documented_are_those_the_service_reads():
    document = ServiceRequestIn.model_json_schema()["properties"]
    as_number = next(option for option in document["supportTopicId"]["anyOf"] if option["type"] == "integer")
    as_text = next(option for option in document["supportTopicId"]["anyOf"] if option["type"] == "string")
    assert as_number["enum"] == [topic.id for topic in support.SUPPORT_TOPICS]
    for topic_id in as_number["enum"]:
        assert support.support_topic(topic_id) == support.support_topic(str(topic_id))
        assert as_json_schema(as_text["pattern"]).match(str(topic_id))
    assert not as_json_schema(as_text["pattern"]).match("999") and not accepted(support.support_topic, "999")
    for severity in ("minimal", "MODERATE", "Critical"):
        assert as_json_schema(document["severity"]["pattern"]).match(severity) and support._severity(severity)
    assert not accepted(support._severity, "urgent")
    assert not as_json_schema(document["severity"]["pattern"]).match("urgent")
