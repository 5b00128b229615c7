"""The operator's API for installation files (a raw, streamed upload) and key pools: what is stored is
exactly what was sent, and a refused request stores nothing."""

from __future__ import annotations

import hashlib
import random
import tracemalloc
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.core.desk import Desk
from partnerdesk.software.models import ProductKey, SoftwareFile
from tests.orders.factories import RI_PRODUCT, SOFTWARE_PRODUCT
from tests.software.factories import OFFICE_SKU, make_keys

CHUNK = 64 * 1024


def upload_path(**overrides: str) -> str:
    query = {"productId": SOFTWARE_PRODUCT, "skuId": OFFICE_SKU, "version": "2024", "language": "en",
             "fileType": "ISO", "fileName": "office-2024-en.iso", **overrides}
    return f"/v1/software/files?{urlencode(query)}"


def generated(size: int, seed: int = 11):
    """`size` random bytes, produced chunk by chunk (never whole in memory), and their SHA-256 when done."""
    rng = random.Random(seed)
    digest = hashlib.sha256()

    def chunks():
        left = size
        while left:
            chunk = rng.randbytes(min(CHUNK, left))
            digest.update(chunk)
            left -= len(chunk)
            yield chunk

    return chunks(), digest


def stored(desk) -> tuple[int, list[str]]:
    """Rows of installation files, and every file in the file store's folder (partial ones included)."""
    with desk.database.session(write=False) as db:
        rows = db.scalar(select(func.count()).select_from(SoftwareFile))
    files_dir = desk.settings.resolved_files_dir
    return rows, sorted(str(path.relative_to(files_dir)) for path in files_dir.rglob("*") if path.is_file())


def test_a_streamed_upload_of_5_mb_is_stored_with_its_sha256_and_served_to_buyers(software, actors):
    body, digest = generated(5 * 1024 * 1024 + 17)

    answer = actors(Role.operator).post(upload_path(), content=body)

    assert answer.status_code == 201, answer.text
    row = answer.json()
    assert row["sha256"] == digest.hexdigest() and row["size"] == 5 * 1024 * 1024 + 17
    assert (row["version"], row["language"], row["fileType"], row["fileName"]) == (
        "2024", "en", "ISO", "office-2024-en.iso")
    listed = actors(Role.operator).get(f"/v1/software/files?productId={SOFTWARE_PRODUCT}").json()
    assert {item["id"] for item in listed["items"]} >= {row["id"]} and listed["totalCount"] == 2
    [added] = [record for record in actors(Role.operator).get("/v1/activitylogs?action=software.file_added")
               .json()["items"] if record["objectId"] == row["id"]]
    assert added["details"]["sha256"] == row["sha256"]
    link = software.keys_and_downloads(software.buy(), language="en").json()["downloads"][0]
    fetched = software.download(link["uri"].removeprefix("http://testserver"))
    assert hashlib.sha256(fetched.content).hexdigest() == digest.hexdigest() == link["sha256"]


@pytest.mark.parametrize(("field", "value"), [("version", "2019"), ("language", "de-DE"), ("fileType", "EXE")])
def test_a_choice_the_sku_does_not_offer_is_a_400_naming_it_and_nothing_is_stored(software, actors, field, value):
    before = stored(software.desk)
    body, _digest = generated(1024 * 1024)

    answer = actors(Role.operator).post(upload_path(**{field: value}), content=body)

    assert answer.status_code == 400
    assert answer.json()["code"] == 6001 and answer.json()["data"] == [field, value]
    assert answer.json()["description"].startswith(f"{field}: '{value}' is not a ")
    assert stored(software.desk) == before


@pytest.mark.parametrize("role", [Role.admin_agent, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin])
def test_only_the_operator_uploads_and_nothing_is_stored_for_anyone_else(software, actors, role):
    before = stored(software.desk)
    body, _digest = generated(5 * 1024 * 1024)

    answer = actors(role).post(upload_path(), content=body)

    assert answer.status_code == 403 and answer.json()["code"] == 1101
    assert stored(software.desk) == before


def test_an_empty_upload_is_refused_and_leaves_nothing(software, actors):
    before = stored(software.desk)
    answer = actors(Role.operator).post(upload_path(), content=b"")
    assert answer.status_code == 400 and answer.json()["code"] == 6006
    assert stored(software.desk) == before


def test_the_same_file_name_twice_for_one_choice_is_a_409_and_the_first_file_stays(software, actors):
    first, first_digest = generated(200_000, seed=1)
    assert actors(Role.operator).post(upload_path(), content=first).status_code == 201
    before = stored(software.desk)
    second, _digest = generated(200_000, seed=2)

    answer = actors(Role.operator).post(upload_path(), content=second)

    assert answer.status_code == 409 and answer.json()["code"] == 6005
    assert stored(software.desk) == before
    link = software.keys_and_downloads(software.buy(), language="en").json()["downloads"][0]
    assert link["sha256"] == first_digest.hexdigest()


@pytest.mark.parametrize(("sent", "kept"), [("../../etc/office.iso", "office.iso"),
                                            ("C:\\isos\\office 2024.iso", "office 2024.iso")])
def test_a_file_name_keeps_only_its_last_part(software, actors, sent, kept):
    answer = actors(Role.operator).post(upload_path(fileName=sent), content=b"iso bytes")
    assert answer.status_code == 201 and answer.json()["fileName"] == kept


def test_software_that_is_not_software_takes_no_files(software, actors):
    answer = actors(Role.operator).post(upload_path(productId=RI_PRODUCT, skuId="0001"), content=b"bytes")
    assert answer.status_code == 400 and answer.json()["code"] == 6006


def test_an_upload_over_the_limit_is_a_413_and_leaves_no_partial_file(software, actors, settings, clock):
    small = Desk.from_settings(settings.model_copy(update={"max_upload_bytes": 1024 * 1024}), clock=clock)
    before = stored(software.desk)
    try:
        with TestClient(create_app(desk=small)) as client:
            body, _digest = generated(3 * 1024 * 1024)
            answer = client.post(upload_path(), content=body, headers=actors(Role.operator).headers())
    finally:
        small.database.dispose()
    assert answer.status_code == 413
    assert stored(software.desk) == before


def test_a_large_file_goes_up_and_down_without_being_held_in_memory(software, actors, live_server):
    size = 64 * 1024 * 1024
    body, digest = generated(size, seed=5)
    headers = actors(Role.operator).headers()
    tracemalloc.start()
    try:
        uploaded = httpx.post(f"{live_server}{upload_path(language='fr', fileName='big.iso')}", content=body,
                              headers=headers, timeout=120)
        assert uploaded.status_code == 201, uploaded.text
        [link] = [download for download in software.keys_and_downloads(software.buy()).json()["downloads"]
                  if download["fileName"] == "big.iso"]
        received = hashlib.sha256()
        with httpx.stream("GET", link["uri"].replace("http://testserver", live_server), timeout=120) as answer:
            for chunk in answer.iter_bytes():
                received.update(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert uploaded.json()["sha256"] == received.hexdigest() == digest.hexdigest()
    # Both ways in chunks: a few MiB at most in flight, whatever the file's size.
    assert peak < 16 * 1024 * 1024, f"{peak / 2**20:.1f} MiB held for a {size / 2**20:.0f} MiB file"


# --- key pools -------------------------------------------------------------------------------------

def pool_path(sku_id: str = OFFICE_SKU) -> str:
    return f"/v1/software/keypools/{SOFTWARE_PRODUCT}/{sku_id}"


def key_count(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(ProductKey))


def test_the_operator_adds_keys_to_a_pool_and_reads_the_pools(software, actors):
    new_keys = make_keys(4, seed=6)
    lines = ["# delivered 2026-11-20", "", new_keys[0].lower(), *new_keys[1:]]

    answer = actors(Role.operator).post(pool_path(), json={"keys": lines, "version": "2024"})

    assert answer.status_code == 201, answer.text
    assert answer.json() == {"productId": SOFTWARE_PRODUCT, "skuId": OFFICE_SKU, "version": "2024", "imported": 4,
                             "available": 4}
    pools = actors(Role.operator).get("/v1/software/keypools").json()["items"]
    assert [(pool["version"], pool["available"]) for pool in pools] == [("", 10), ("2024", 4)]
    assert software.keys_and_downloads(software.buy()).json()["productKeys"][0]["key"] in new_keys


def test_malformed_and_duplicate_keys_refuse_the_whole_list_naming_each_line(software, actors):
    good = make_keys(3, seed=7)
    already = make_keys(10)[4]
    lines = [good[0], "ABCDE-12345", good[1], good[0].lower(), "# comment", already, "abcde-12345-abcde-12345-abcd!",
             good[2]]
    before = key_count(software.desk)

    answer = actors(Role.operator).post(pool_path(), json={"keys": lines})

    assert answer.status_code == 400 and answer.json()["code"] == 6004
    assert answer.json()["data"] == [
        "line 2: not a product key (five groups of five letters or digits, joined by hyphens)",
        "line 4: the same key as line 1",
        "line 6: this key is already in a pool",
        "line 7: not a product key (five groups of five letters or digits, joined by hyphens)",
    ]
    assert answer.json()["description"].startswith("No key was imported: line 2:")
    assert key_count(software.desk) == before
    for key in [*good, already]:
        assert key not in answer.text


def test_keys_for_a_version_the_sku_does_not_offer_are_refused(software, actors):
    answer = actors(Role.operator).post(pool_path(), json={"keys": make_keys(1, seed=8), "version": "2019"})
    assert answer.status_code == 400 and answer.json()["code"] == 6001
    assert key_count(software.desk) == 10
