"""Loose input is refused, not guessed at: "1" is not a number of days, 0.5 is not a date, NaN is
not an amount, and XXX is not a currency (issue 18)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.core.money import is_currency
from tests.webhooks.helpers import partner_id_of


@pytest.mark.parametrize("days", ["1", 1.5, True, None, [1]])
def test_advance_days_must_be_a_json_integer(actors, days):
    operator = actors(Role.operator)
    before = operator.get("/v1/sandbox/clock").json()["now"]
    response = operator.post("/v1/sandbox/clock", json={"advanceDays": days})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1000 and "advanceDays" in response.json()["description"]
    assert operator.get("/v1/sandbox/clock").json()["now"] == before


# 1.0 is an integer to JSON Schema (and to the OpenAPI document that says `"type": "integer"`).
@pytest.mark.parametrize("days", [1, 1.0])
def test_advance_days_as_an_integer_still_moves_the_clock(actors, days):
    operator = actors(Role.operator)
    before = datetime.fromisoformat(operator.get("/v1/sandbox/clock").json()["now"])
    moved = operator.post("/v1/sandbox/clock", json={"advanceDays": days})
    assert moved.status_code == 200
    assert datetime.fromisoformat(moved.json()["now"]) - before == timedelta(days=1)


DATE_ROUTES = ["/v1/servicerequests", "/v1/activitylogs"]


@pytest.mark.parametrize("path", DATE_ROUTES)
@pytest.mark.parametrize("value", ["0.5", "0", "1700000000", "20260601", "yesterday", "2026-13-01T00:00:00Z"])
@pytest.mark.parametrize("name", ["startDate", "endDate"])
def test_a_date_query_parameter_is_iso_8601_only(actors, path, name, value):
    response = actors(Role.admin_agent).get(path, params={name: value})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 1000
    assert name in body["description"]
    if value in ("0.5", "1700000000", "20260601", "yesterday"):
        assert "ISO 8601" in body["description"]


@pytest.mark.parametrize("path", DATE_ROUTES)
@pytest.mark.parametrize("value", ["2026-06-01T12:00:00Z", "2026-06-01T12:00:00.250+02:00", "2026-06-01t12:00:00z"])
def test_iso_8601_dates_are_accepted(actors, path, value):
    response = actors(Role.admin_agent).get(path, params={"startDate": value})
    assert response.status_code == 200, response.text


def test_a_bare_iso_date_is_accepted_where_no_time_zone_is_required(actors):
    assert actors(Role.admin_agent).get("/v1/servicerequests", params={"startDate": "2026-06-01"}).status_code == 200


def test_the_openapi_document_still_says_the_dates_are_date_times(client):
    parameters = client.get("/openapi.json").json()["paths"]["/v1/servicerequests"]["get"]["parameters"]
    [start] = [parameter for parameter in parameters if parameter["name"] == "startDate"]
    schemas = start["schema"].get("anyOf", [start["schema"]])
    assert {"type": "string", "format": "date-time"} in schemas


@pytest.mark.parametrize("amount", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf"])
def test_a_credit_limit_that_is_not_a_number_is_refused_as_not_an_amount(actors, desk, amount):
    operator = actors(Role.operator)
    partner = partner_id_of(desk, actors(Role.billing_admin))
    response = operator.put(f"/v1/partners/{partner}/creditlimits/EUR", json={"amount": amount})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 4002
    assert response.json()["description"] == f"amount: '{amount}' is not an amount such as 5000.00."


@pytest.mark.parametrize("currency", ["XXX", "XTS", "XAU", "XAG", "XDR", "CHE", "USN"])
def test_a_credit_limit_in_a_code_that_is_not_money_is_refused(actors, desk, currency):
    operator = actors(Role.operator)
    partner = partner_id_of(desk, actors(Role.billing_admin))
    response = operator.put(f"/v1/partners/{partner}/creditlimits/{currency}", json={"amount": "100"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 4002 and currency in response.json()["description"]
    assert operator.get(f"/v1/partners/{partner}/creditlimits/EUR").status_code in (404, 405)


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA", "XBA", "BOV",
                                  "CLF", "USN", "eur", "EURO", "ZZZ", ""])
def test_codes_that_are_not_currencies_things_are_paid_in(code):
    assert not is_currency(code)


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "XOF", "XAF", "XPF", "XCD", "CHF", "CLP"])
def test_real_currencies_are_currencies(code):
    assert is_currency(code)
