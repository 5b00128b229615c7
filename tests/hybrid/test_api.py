"""`POST /v1/hybridbenefit/estimates`, estimates kept on customers, and the operator's rate table."""

from __future__ import annotations

import uuid

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.customers.api import READERS

ISSUE_REQUEST = {
    "currency": "EUR", "hoursPerMonth": 730, "migrationOverlap": False,
    "vms": [{"name": "web", "count": 2, "vCpus": 8, "windowsRatePerHour": "0.20", "baseRatePerHour": "0.12"}],
    "licenses": [{"edition": "Standard", "cores": 16, "processorLicenses": 0, "softwareAssurance": True,
                  "inUseOnPremises": False}],
}
ISSUE_LINE = {"name": "web", "count": 2, "vCpus": 8, "coresPerVm": 8, "vmsCovered": 2, "payAsYouGo": "292.00",
              "withHybridBenefit": "175.20", "saving": "116.80"}
ISSUE_TOTALS = {"coresRequired": 16, "coresAvailable": 16, "coresUsed": 16, "vmsCovered": 2, "payAsYouGo": "292.00",
                "withHybridBenefit": "175.20", "saving": "116.80", "savingPercent": "40.0"}
ESTIMATES = "/v1/hybridbenefit/estimates"
D4S = {"name": "app", "count": 1, "size": "Standard_D4s_v5", "region": "westeurope"}
SA_16 = {"edition": "Datacenter", "cores": 16, "softwareAssurance": True}


def _stored_path(customer_id: str) -> str:
    return f"/v1/customers/{customer_id}/hybridbenefit/estimates"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_works_out_the_issue_example(actors, role):
    response = actors(role).post(ESTIMATES, json=ISSUE_REQUEST)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currency"] == "EUR"
    [line] = body["lines"]
    explanation = line.pop("explanation")
    assert line == ISSUE_LINE
    assert body["totals"] == ISSUE_TOTALS
    assert "needs 8 core licences" in explanation and "cover all 2 VMs" in explanation


def test_signed_out_callers_get_401(client):
    assert client.post(ESTIMATES, json=ISSUE_REQUEST).status_code == 401


def _with(vm: dict | None = None, licence: dict | None = None, **top) -> dict:
    body = {**ISSUE_REQUEST, **top}
    if vm is not None:
        body["vms"] = [{**ISSUE_REQUEST["vms"][0], **vm}]
    if licence is not None:
        body["licenses"] = [{**ISSUE_REQUEST["licenses"][0], **licence}]
    return body


@pytest.mark.parametrize(("body", "code", "field", "words"), [
    (_with(vm={"vCpus": 0}), 8000, "vms[0].vCpus", "not a valid number of vCPUs"),
    (_with(vm={"vCpus": -4}), 8000, "vms[0].vCpus", "not a valid number of vCPUs"),
    (_with(vm={"count": 0}), 8000, "vms[0].count", "not a valid count of VMs"),
    (_with(licence={"edition": "Enterprise"}), 8001, "licenses[0].edition", "Datacenter or Standard"),
    (_with(licence={"cores": -16}), 8000, "licenses[0].cores", "zero or more"),
    (_with(vm={"baseRatePerHour": "-0.01"}), 8002, "vms[0].baseRatePerHour", "zero or more"),
    (_with(vm={"windowsRatePerHour": "0.10"}), 8002, "vms[0].windowsRatePerHour", "below the base rate"),
    (_with(currency="EURO"), 8000, "currency", "ISO 4217"),
    (_with(hoursPerMonth=745), 8000, "hoursPerMonth", "at most 744"),
    (_with(reservation={"term": "P2Y"}), 8004, "reservation.term", "P1Y or P3Y"),
    (_with(vms=[]), 8000, "vms", "at least one VM line"),
    (_with(vm={"windowsRatePerHour": None}), 8000, "vms[0].windowsRatePerHour", "give both hourly rates"),
])
def test_bad_input_is_a_400_naming_the_field(actors, body, code, field, words):
    response = actors(Role.sales_agent).post(ESTIMATES, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert (error["code"], error["data"][0]) == (code, field)
    assert error["description"].startswith(f"{field}: ")
    assert words in error["description"]


def test_values_of_the_wrong_kind_are_a_400_never_a_422(actors):
    response = actors(Role.sales_agent).post(ESTIMATES, json=_with(vm={"count": "two"}))
    assert response.status_code == 400
    assert response.json()["code"] == 1000


def test_a_line_takes_its_rates_and_vcpus_from_the_rate_table(actors, market):
    # Demo rate table, Standard_D4s_v5 in westeurope: 4 vCPUs, 0.3540 with Windows, 0.2120 base.
    # 730 × 0.354 = 258.42 pay-as-you-go; 730 × 0.212 = 154.76 with 8 Datacenter cores.
    body = {"currency": "EUR", "vms": [D4S], "licenses": [SA_16]}
    response = actors(Role.helpdesk_agent).post(ESTIMATES, json=body)
    assert response.status_code == 200, response.text
    [line] = response.json()["lines"]
    assert (line["vCpus"], line["coresPerVm"], line["payAsYouGo"], line["withHybridBenefit"]) == (
        4, 8, "258.42", "154.76")


def test_a_size_the_rate_table_lacks_is_refused(actors, market):
    body = {"currency": "EUR", "vms": [{**D4S, "size": "Standard_M416ms_v2"}]}
    response = actors(Role.sales_agent).post(ESTIMATES, json=body)
    assert response.status_code == 400
    assert response.json()["code"] == 8003
    assert response.json()["data"] == ["vms[0].size", "vms[0].region"]
    in_usd = actors(Role.sales_agent).post(ESTIMATES, json={"currency": "GBP", "vms": [D4S]})
    assert in_usd.json()["code"] == 8003  # the table has D4s v5 in westeurope in EUR only


def test_a_reservation_is_priced_from_the_catalog(actors, market):
    # Catalog: Standard_D4s_v5 for one year in EUR costs 1234.56, 102.88 a month, reserved compute 102.88.
    # With reservation only: 102.88 + the licence 730 × (0.354 - 0.212) = 103.66 → 206.54.
    # With both (8 eligible cores cover the VM): 102.88.
    body = {"currency": "EUR", "vms": [D4S], "licenses": [SA_16], "reservation": {"term": "P1Y"}}
    response = actors(Role.billing_admin).post(ESTIMATES, json=body)
    assert response.status_code == 200, response.text
    [line] = response.json()["lines"]
    assert (line["withReservation"], line["withBoth"]) == ("206.54", "102.88")
    assert "Reserved for P1Y: 33.5% off the base compute rate" in line["explanation"]
    totals = response.json()["totals"]
    assert (totals["withReservation"], totals["withBoth"]) == ("206.54", "102.88")


def test_a_line_the_catalog_cannot_reserve_says_so(actors, market):
    # The catalog sells no Reserved Instance of D8s v5; a line with own rates names no size at all.
    body = {"currency": "EUR", "reservation": {"term": "P3Y"},
            "vms": [{**D4S, "size": "Standard_D8s_v5"}, ISSUE_REQUEST["vms"][0]]}
    response = actors(Role.sales_agent).post(ESTIMATES, json=body)
    assert response.status_code == 200, response.text
    unsized, own_rates = response.json()["lines"]
    assert "the catalog has no P3Y Reserved Instance of Standard_D8s_v5 in westeurope" in unsized["explanation"]
    assert unsized["withReservation"] == unsized["payAsYouGo"]
    assert "names no VM size" in own_rates["explanation"]


@pytest.mark.both_engines
def test_an_estimate_kept_on_a_customer_is_listed_newest_first(actors, market, clock):
    from datetime import timedelta
    customer = market.customer("FR")
    sales = actors(Role.sales_agent)
    first = sales.post(_stored_path(customer), json=ISSUE_REQUEST)
    assert first.status_code == 201, first.text
    clock.advance(timedelta(minutes=5))
    body = {"currency": "EUR", "vms": [D4S], "licenses": [SA_16], "reservation": {"term": "P3Y"}}
    second = sales.post(_stored_path(customer), json=body)
    assert second.status_code == 201, second.text
    kept = second.json()
    assert kept["customerId"] == customer and kept["createdBy"] == sales.email
    assert kept["request"]["reservation"] == {"term": "P3Y"}
    # P3Y D4s v5 in FR: 2592.58 / 36 = 72.0161 a month → 72.02 with both.
    assert kept["estimate"]["totals"]["withBoth"] == "72.02"
    listed = sales.get(_stored_path(customer)).json()
    assert listed["totalCount"] == 2
    assert [item["id"] for item in listed["items"]] == [kept["id"], first.json()["id"]]
    assert "withReservation" not in listed["items"][1]["estimate"]["totals"]
    assert listed["items"][1]["estimate"]["totals"] == ISSUE_TOTALS


@pytest.mark.both_engines
def test_a_retried_keep_with_the_same_request_id_keeps_one_estimate(actors, market):
    customer = market.customer("FR")
    request_id = str(uuid.uuid4())
    admin = actors(Role.admin_agent)
    first = admin.post(_stored_path(customer), json=ISSUE_REQUEST, request_id=request_id)
    again = admin.post(_stored_path(customer), json=ISSUE_REQUEST, request_id=request_id)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert admin.get(_stored_path(customer)).json()["totalCount"] == 1


@pytest.mark.parametrize("role", list(Role))
def test_kept_estimates_follow_the_customer_routes_roles(actors, market, role):
    customer = market.customer("FR")
    kept = actors(role).post(_stored_path(customer), json=ISSUE_REQUEST)
    listed = actors(role).get(_stored_path(customer))
    if role in READERS:
        assert (kept.status_code, listed.status_code) == (201, 200)
        assert listed.json()["totalCount"] == 1
    else:
        assert (kept.status_code, listed.status_code) == (403, 403)


@pytest.mark.parametrize("role", [Role.admin_agent, Role.sales_agent, Role.helpdesk_agent])
def test_another_partners_customer_is_a_404_and_nothing_is_kept(actors, market, role):
    customer = market.customer("FR")
    rival = actors(role, partner="Rival Reseller")
    assert rival.post(_stored_path(customer), json=ISSUE_REQUEST).status_code == 404
    assert rival.get(_stored_path(customer)).status_code == 404
    assert actors(Role.operator).get(_stored_path(customer)).json()["totalCount"] == 0


def test_a_refused_estimate_keeps_nothing(actors, market):
    customer = market.customer("FR")
    response = actors(Role.sales_agent).post(_stored_path(customer), json=_with(vm={"vCpus": 0}))
    assert response.status_code == 400
    assert response.json()["data"] == ["vms[0].vCpus"]
    assert actors(Role.sales_agent).get(_stored_path(customer)).json()["totalCount"] == 0


def test_a_customer_in_a_market_without_reserved_instances_gets_none(actors, market):
    # Rule R1: Reserved Instances are not sold in BR, though the catalog prices them there.
    customer = market.customer("BR")
    body = {"currency": "EUR", "vms": [D4S], "reservation": {"term": "P1Y"}}
    response = actors(Role.sales_agent).post(_stored_path(customer), json=body)
    assert response.status_code == 201, response.text
    [line] = response.json()["estimate"]["lines"]
    assert "Reserved Instances are not sold in market BR (rule R1)" in line["explanation"]
    assert line["withReservation"] == line["payAsYouGo"]


def test_a_customer_is_priced_in_its_own_market(actors, market):
    # A US customer's catalog prices reservations in USD; an estimate in EUR finds none there.
    customer = market.customer("US")
    body = {"currency": "EUR", "vms": [D4S], "reservation": {"term": "P1Y"}}
    response = actors(Role.sales_agent).post(_stored_path(customer), json=body)
    [line] = response.json()["estimate"]["lines"]
    assert "priced in EUR for market US" in line["explanation"]


RATE_FILE = ("size,region,currency,vCpus,windowsRatePerHour,baseRatePerHour\n"
             "Standard_D4s_v5,westeurope,EUR,4,0.3540,0.2120\nStandard_D4s_v5,eastus,USD,4,0.3760,0.1920\n")
RATES = "/v1/hybridbenefit/rates"


def _import(caller, text: str):
    return caller.post(RATES, content=text.encode(), headers={"Content-Type": "text/csv"})


@pytest.mark.both_engines
def test_the_operator_imports_the_rate_table_and_everyone_reads_it(actors):
    response = _import(actors(Role.operator), RATE_FILE)
    assert response.status_code == 200, response.text
    assert response.json() == {"rows": 2, "added": 2, "updated": 0}
    for role in Role:
        listed = actors(role).get(RATES, params={"currency": "USD"})
        assert listed.status_code == 200
        assert listed.json()["items"] == [{
            "size": "Standard_D4s_v5", "region": "eastus", "currency": "USD", "vCpus": 4,
            "windowsRatePerHour": "0.376", "baseRatePerHour": "0.192", "updatedAt": "2026-11-24T10:00:00Z"}]
    by_size = actors(Role.sales_agent).get(RATES, params={"vmSize": "standard_d4s_v5", "region": "westeurope"})
    assert by_size.json()["totalCount"] == 1


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.operator])
def test_only_the_operator_imports_rates(actors, role):
    assert _import(actors(role), RATE_FILE).status_code == 403
    assert actors(Role.operator).get(RATES).json()["totalCount"] == 0


def test_a_bad_rate_table_is_refused_whole(actors):
    bad = RATE_FILE + "Standard_E8s_v5,westeurope,EUR,eight,0.82,0.536\nStandard_E8s_v5,westeurope,EUR,8,-1,0.536\n"
    response = _import(actors(Role.operator), bad)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == 8010
    assert error["data"] == ["line 4: vCpus 'eight' is not a whole number from 1 to 1024",
                             "line 5: windowsRatePerHour '-1' is not a rate such as 0.2040"]
    assert actors(Role.operator).get(RATES).json()["totalCount"] == 0
    wrong_header = _import(actors(Role.operator), "size,region\nA,b\n")
    assert wrong_header.status_code == 400 and wrong_header.json()["code"] == 8010
    not_text = actors(Role.operator).post(RATES, content=b"\xff\xfe\x00", headers={"Content-Type": "text/csv"})
    assert not_text.status_code == 400 and not_text.json()["code"] == 8010


def test_the_demo_rate_table_loads_once(desk):
    from sqlalchemy import func, select

    from partnerdesk.hybrid import demo
    from partnerdesk.hybrid.models import VmRate
    said: list[str] = []
    for _ in range(2):
        with desk.database.session() as db:
            demo.load(db, desk.clock.now(), said.append)
    with desk.database.session() as db:
        assert db.scalar(select(func.count()).select_from(VmRate)) == 16
    assert said == ["demo: 16 VM rates for the Hybrid Benefit calculator added"]
