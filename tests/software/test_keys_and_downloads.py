"""Rule R3 through the API: a customer's software list, and product keys with fresh download links for one
choice, issued from the operator's pools, recorded in the activity log, and kept to the partner."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.core.desk import Desk
from partnerdesk.software.models import DownloadLink, ProductKey
from tests.orders.factories import SOFTWARE_PRODUCT
from tests.software.factories import CHOICE, OFFICE_SKU, import_keys, make_keys

KEY = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
SOFTWARE_FIELDS = {"id", "orderId", "lineItemNumber", "subscriptionId", "productId", "skuId", "title",
                   "purchaseDate", "status", "quantity", "versions", "languages", "fileTypes", "links", "attributes"}


def pool(actors) -> dict[str, int]:
    """The Office pool for every version, as the operator sees it."""
    items = actors(Role.operator).get("/v1/software/keypools").json()["items"]
    found = [item for item in items if (item["productId"], item["skuId"], item["version"])
             == (SOFTWARE_PRODUCT, OFFICE_SKU, "")]
    return {name: found[0][name] for name in ("available", "issued", "revoked")} if found else {}


def link_rows(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(DownloadLink))


def activity(actors, action: str, role: Role = Role.operator) -> list[dict]:
    answer = actors(role).get(f"/v1/activitylogs?action={action}")
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_the_software_list_shows_every_purchase_with_what_can_be_chosen(software, clock):
    first = software.buy(quantity=2)
    clock.advance(timedelta(hours=1))
    second = software.buy()

    listed = software.admin.get(f"/v1/customers/{software.customer_id}/software")

    assert listed.status_code == 200
    body = listed.json()
    assert body["totalCount"] == 2 and [item["id"] for item in body["items"]] == [second, first]  # newest first
    item = body["items"][1]
    assert set(item) == SOFTWARE_FIELDS
    assert (item["productId"], item["skuId"], item["quantity"], item["status"], item["lineItemNumber"]) == (
        SOFTWARE_PRODUCT, OFFICE_SKU, 2, "active", 0)
    assert "Office LTSC Professional Plus 2024" in item["title"] and item["orderId"] and item["subscriptionId"]
    assert datetime.fromisoformat(item["purchaseDate"]) == clock.now() - timedelta(hours=1)
    assert (item["versions"], item["languages"], item["fileTypes"]) == (["2024"], ["en", "fr"], ["ISO"])
    assert item["links"]["keysAndDownloads"] == {
        "uri": f"/v1/customers/{software.customer_id}/software/{first}/keysanddownloads", "method": "POST",
        "headers": []}
    assert software.item(first) == item


def test_keys_and_downloads_gives_one_key_per_unit_and_an_absolute_link_to_each_file(software, clock, client):
    software_id = software.buy(quantity=3)

    answer = software.keys_and_downloads(software_id)

    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert (body["softwareId"], body["version"], body["language"], body["fileType"]) == (
        software_id, "2024", "fr", "ISO")
    keys = [key["key"] for key in body["productKeys"]]
    assert len(set(keys)) == 3 and all(KEY.match(key) for key in keys)
    assert set(keys) <= set(make_keys(10))  # from the operator's pool, never made up
    assert {key["status"] for key in body["productKeys"]} == {"issued"}
    [download] = body["downloads"]
    assert download["fileName"] == "office-2024-fr.iso" and download["size"] == len(software.content)
    assert download["sha256"] == hashlib.sha256(software.content).hexdigest()
    assert datetime.fromisoformat(download["expiresAt"]) == clock.now() + timedelta(days=14)
    assert download["downloadsRemaining"] == 50
    base, _, token = download["uri"].partition("/v1/downloads/")
    assert base == "http://testserver" and TOKEN.match(token)  # 43 URL-safe characters: 256 random bits
    fetched = client.get(f"/v1/downloads/{token}")  # no login
    assert fetched.status_code == 200 and fetched.content == software.content
    assert pool(software.actors) == {"available": 7, "issued": 3, "revoked": 0}


def test_the_link_is_absolute_on_the_configured_base_url(software, settings, clock):
    software_id = software.buy()
    elsewhere = Desk.from_settings(settings.model_copy(update={"base_url": "https://desk.example.com/partners/"}),
                                   clock=clock)
    try:
        with TestClient(create_app(desk=elsewhere)) as other:
            answer = other.post(f"/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads",
                                json=CHOICE, headers=software.admin.headers())
            uri = answer.json()["downloads"][0]["uri"]
            assert uri.startswith("https://desk.example.com/partners/v1/downloads/")
            assert other.get(uri.removeprefix("https://desk.example.com/partners")).content == software.content
    finally:
        elsewhere.database.dispose()


def test_asking_again_shows_the_same_keys_and_a_fresh_link_while_older_links_keep_their_own_count(software, clock):
    software_id = software.buy(quantity=2)
    first = software.keys_and_downloads(software_id).json()
    old_link = first["downloads"][0]["uri"].removeprefix("http://testserver")
    assert software.download(old_link).headers["x-downloads-remaining"] == "49"
    clock.advance(timedelta(days=3))

    again = software.keys_and_downloads(software_id).json()

    assert again["productKeys"] == first["productKeys"]
    new = again["downloads"][0]
    assert new["uri"] != first["downloads"][0]["uri"] and new["downloadsRemaining"] == 50
    assert datetime.fromisoformat(new["expiresAt"]) == clock.now() + timedelta(days=14)
    assert software.download(old_link).headers["x-downloads-remaining"] == "48"
    new_link = new["uri"].removeprefix("http://testserver")
    assert software.download(new_link).headers["x-downloads-remaining"] == "49"
    assert pool(software.actors) == {"available": 8, "issued": 2, "revoked": 0}  # no key taken twice


@pytest.mark.parametrize(("field", "value"), [("version", "2019"), ("language", "de"), ("fileType", "EXE x64")])
def test_a_choice_the_purchase_does_not_offer_is_a_400_naming_it_and_issues_nothing(software, field, value):
    software_id = software.buy()

    answer = software.keys_and_downloads(software_id, **{field: value})

    assert answer.status_code == 400
    error = answer.json()
    assert error["code"] == 6001 and error["data"] == [field, value]
    assert error["description"].startswith(f"{field}: '{value}' is not a ")
    assert "choose one of" in error["description"]
    assert pool(software.actors)["issued"] == 0 and link_rows(software.desk) == 0


def test_choices_are_read_without_regard_to_case_and_answered_as_the_sku_spells_them(software):
    answer = software.keys_and_downloads(software.buy(), version="2024", language="FR", fileType="iso")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["language"], answer.json()["fileType"]) == ("fr", "ISO")
    assert len(answer.json()["downloads"]) == 1


@pytest.mark.parametrize("body", [{}, {"version": "2024", "language": "fr"},
                                  {"version": "", "language": "fr", "fileType": "ISO"}, [1, 2]])
def test_an_incomplete_request_is_a_400_naming_the_field(software, body):
    software_id = software.buy()
    answer = software.admin.post(
        f"/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads", json=body)
    assert answer.status_code == 400 and answer.json()["code"] == 1000
    assert pool(software.actors)["issued"] == 0


def test_a_choice_without_files_gives_the_keys_no_link_and_tells_the_operator(software):
    answer = software.keys_and_downloads(software.buy(), language="en")

    assert answer.status_code == 200, answer.text
    assert len(answer.json()["productKeys"]) == 1 and answer.json()["downloads"] == []
    [alert] = activity(software.actors, "software.files_missing")
    assert alert["details"] == {"version": "2024", "language": "en", "fileType": "ISO"}


def test_an_empty_pool_is_a_clear_409_nothing_is_issued_and_the_operator_is_alerted(software):
    software.keys_and_downloads(software.buy(quantity=9))  # one key left
    short = software.buy(quantity=2)

    refused = software.keys_and_downloads(short)

    assert refused.status_code == 409
    error = refused.json()
    assert error["code"] == 6002 and "productKeys" not in error
    assert error["description"].startswith("No product key is left for Office LTSC Professional Plus 2024")
    assert "2 more are needed" in error["description"] and "operator has been alerted" in error["description"]
    assert pool(software.actors) == {"available": 1, "issued": 9, "revoked": 0}  # not even the one left
    assert link_rows(software.desk) == 1  # the first purchase's only
    [alert] = activity(software.actors, "software.key_pool_empty")
    assert alert["objectId"] == f"{SOFTWARE_PRODUCT}:{OFFICE_SKU}" and alert["customerId"] == software.customer_id
    assert alert["details"] == {"productId": SOFTWARE_PRODUCT, "skuId": OFFICE_SKU, "version": "",
                                "softwareId": short, "keysMissing": 2}
    assert alert["agentEmail"] == software.admin.email

    import_keys(software.desk, make_keys(5, seed=2))  # the operator refills the pool
    served = software.keys_and_downloads(short)
    assert served.status_code == 200 and len(served.json()["productKeys"]) == 2
    assert pool(software.actors) == {"available": 4, "issued": 11, "revoked": 0}


def test_a_key_goes_to_one_purchase_only(software):
    keys = [software.keys_and_downloads(software_id).json()["productKeys"][0]["key"]
            for software_id in software.buy_many(10)]
    assert sorted(keys) == make_keys(10)
    assert software.keys_and_downloads(software.buy()).status_code == 409


def test_a_version_with_its_own_pool_takes_its_keys_from_there(software):
    own = make_keys(3, seed=3)
    import_keys(software.desk, own, version="2024")

    answer = software.keys_and_downloads(software.buy())

    assert answer.json()["productKeys"][0]["key"] in own
    assert pool(software.actors)["issued"] == 0


def test_a_purchase_keeps_its_keys_when_the_operator_adds_a_pool_for_its_version_later(software):
    software_id = software.buy(quantity=2)
    first = software.keys_and_downloads(software_id).json()["productKeys"]
    import_keys(software.desk, make_keys(3, seed=3), version="2024")

    again = software.keys_and_downloads(software_id)

    assert again.json()["productKeys"] == first
    with software.desk.database.session(write=False) as db:
        held = db.scalar(select(func.count()).select_from(ProductKey).where(ProductKey.entitlement_id == software_id))
    assert held == 2  # one key per unit bought, not two sets


def test_every_reveal_is_recorded_with_who_which_keys_and_files_but_never_the_key(software, actors):
    software_id = software.buy(quantity=2)
    shown = software.keys_and_downloads(software_id).json()

    for reader in (Role.admin_agent, Role.operator):
        [record] = activity(actors, "software.keys_revealed", reader)
        assert record["agentEmail"] == software.admin.email and record["operatorType"] == "agent"
        assert record["objectId"] == software_id and record["customerId"] == software.customer_id
        details = record["details"]
        assert details["keys"] == [key["key"][-5:] for key in shown["productKeys"]]
        assert len(details["keyIds"]) == 2 and details["files"] == ["office-2024-fr.iso"]
        assert (details["version"], details["language"], details["fileType"]) == ("2024", "fr", "ISO")
    everything = actors(Role.operator).get("/v1/activitylogs").text
    for key in shown["productKeys"]:
        assert key["key"] not in everything
    assert shown["downloads"][0]["uri"].rsplit("/", 1)[1] not in everything


def test_another_partners_admin_gets_404_for_the_customer_and_its_software_and_learns_nothing(software, actors):
    software_id = software.buy()
    shown = software.keys_and_downloads(software_id).json()
    software.download(shown["downloads"][0]["uri"].removeprefix("http://testserver"))
    rival = actors(Role.admin_agent, partner="Rival Reseller")
    base = f"/v1/customers/{software.customer_id}/software"

    answers = [rival.get(base), rival.get(f"{base}/{software_id}"),
               rival.post(f"{base}/{software_id}/keysanddownloads", json=CHOICE)]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    for answer in answers:
        assert software_id not in answer.text and "Office" not in answer.text
    assert pool(actors) == {"available": 9, "issued": 1, "revoked": 0} and link_rows(software.desk) == 1
    assert rival.get("/v1/activitylogs?action=software.downloaded").json()["totalCount"] == 0
    assert rival.get("/v1/activitylogs?action=software.keys_revealed").json()["totalCount"] == 0


def test_a_purchase_is_found_only_under_its_own_customer(software):
    software_id = software.buy()
    other_customer = software.shop.customer()
    path = f"/v1/customers/{other_customer}/software/{software_id}"

    assert software.admin.get(path).status_code == 404
    refused = software.admin.post(f"{path}/keysanddownloads", json=CHOICE)
    assert refused.status_code == 404 and refused.json()["code"] == 6000
    assert software.admin.get(f"/v1/customers/{other_customer}/software").json()["totalCount"] == 0
    assert pool(software.actors)["issued"] == 0
