"""Files attached to service requests: policy limits, sanitised names, all-or-nothing, and who may read them."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.policies import service as policies
from partnerdesk.support.attachments import sanitise_file_name
from partnerdesk.support.models import ServiceRequestAttachment
from tests.servicerequests.conftest import request_body

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"x" * 2000


def attach(caller, request_id: str, *files: tuple[str, bytes, str]):
    return caller.post(f"/v1/servicerequests/{request_id}/attachments",
                       files=[("files", (name, content, content_type)) for name, content, content_type in files])


def stored(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(ServiceRequestAttachment))


def store_files(desk) -> list:
    root = desk.settings.resolved_files_dir / "attachments"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def filed(support) -> dict:
    return support.filed(request_body())


def test_files_are_attached_listed_and_downloaded_as_sent(support, filed):
    admin = support.actors(Role.admin_agent)

    added = attach(admin, filed["id"], ("screen.png", PNG, "image/png"), ("log.txt", b"error 42\n", "text/plain"))

    assert added.status_code == 201, added.text
    items = added.json()["items"]
    assert [(item["fileName"], item["contentType"], item["size"]) for item in items] == [
        ("screen.png", "image/png", len(PNG)), ("log.txt", "text/plain", 9)]
    shown = admin.get(f"/v1/servicerequests/{filed['id']}").json()["attachments"]
    assert [item["id"] for item in shown] == [item["id"] for item in items]
    got = admin.get(items[0]["links"]["self"]["uri"])
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-disposition"].startswith('attachment; filename="screen.png"')
    assert got.headers["x-content-type-options"] == "nosniff"
    assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(PNG).hexdigest()


@pytest.mark.parametrize("files, code, words", [
    ([("big.pdf", PDF, "application/pdf")], 7025, "at most 1000 bytes"),
    ([("empty.txt", b"", "text/plain")], 7025, "is empty"),
    ([("run.exe", b"MZ\x90\x00", "application/octet-stream")], 7025, "is a .exe file"),
    ([("page.html", b"<script>alert(1)</script>", "text/html")], 7025, "is a .html file"),
    ([("fake.png", b"GIF89a....", "image/png")], 7025, "is not a .png file"),
    ([("noextension", b"abc", "text/plain")], 7025, "no usable file name"),
    ([("ok.txt", b"fine", "text/plain"), ("big.pdf", PDF, "application/pdf")], 7025, "big.pdf"),
])
def test_files_the_policies_refuse_are_refused_with_nothing_stored(support, filed, files, code, words):
    with support.desk.database.session() as db:
        policies.set_policy(db, key="support_attachment_max_bytes", value=1000, principal=None,
                            now=support.desk.clock.now())

    refused = attach(support.actors(Role.admin_agent), filed["id"], *files)

    assert refused.status_code == 400 and refused.json()["code"] == code, refused.text
    assert words in refused.json()["description"]
    assert stored(support.desk) == 0 and store_files(support.desk) == []


def test_no_file_at_all_is_refused(support, filed):
    refused = support.actors(Role.admin_agent).post(f"/v1/servicerequests/{filed['id']}/attachments",
                                                    data={"note": "x"})
    assert refused.status_code == 400 and refused.json()["code"] == 7025


@pytest.mark.parametrize("raw, kept", [
    ("../../x.txt", "x.txt"),
    ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
    ("/etc/passwd.txt", "passwd.txt"),
    (".hidden.txt", "hidden.txt"),
    ("rapport\u0000\u001b[31m.txt", "rapport[31m.txt"),
    ('a<b>:c"d|e?f*.txt', "a_b__c_d_e_f_.txt"),
    ("e\u0301te\u0301.txt", "\u00e9t\u00e9.txt"),
    ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
])
def test_file_names_are_sanitised(raw, kept):
    assert sanitise_file_name(raw) == kept


def test_a_path_traversal_name_is_stored_inside_the_request_under_its_last_part(support, filed):
    added = attach(support.actors(Role.admin_agent), filed["id"], ("../../x.txt", b"hello", "text/plain"))

    assert added.status_code == 201 and added.json()["items"][0]["fileName"] == "x.txt"
    [path] = store_files(support.desk)
    assert path.parent.name == filed["id"] and path.read_bytes() == b"hello"


def test_many_files_at_once_are_taken_together_up_to_the_policy(support, filed):
    admin = support.actors(Role.admin_agent)
    many = [(f"log-{number}.txt", f"line {number}\n".encode(), "text/plain") for number in range(20)]

    assert attach(admin, filed["id"], *many).status_code == 201
    one_more = attach(admin, filed["id"], ("late.txt", b"late", "text/plain"))

    assert one_more.status_code == 409 and one_more.json()["code"] == 7026
    assert stored(support.desk) == 20


def test_a_closed_request_takes_no_more_files(support, filed):
    admin = support.actors(Role.admin_agent)
    admin.patch(f"/v1/servicerequests/{filed['id']}", json={"status": "closed"})

    refused = attach(admin, filed["id"], ("late.txt", b"late", "text/plain"))

    assert refused.status_code == 409 and refused.json()["code"] == 7005


@pytest.mark.parametrize("role, allowed", [(Role.admin_agent, True), (Role.helpdesk_agent, True),
                                           (Role.operator, True), (Role.sales_agent, False),
                                           (Role.billing_admin, False)])
def test_who_may_attach_and_read_files(support, filed, role, allowed):
    owner = attach(support.actors(Role.admin_agent), filed["id"], ("a.txt", b"first", "text/plain")).json()
    uri = owner["items"][0]["links"]["self"]["uri"]
    caller = support.actors(role)

    added = attach(caller, filed["id"], ("b.txt", b"second", "text/plain"))
    read = caller.get(uri)

    assert (added.status_code, read.status_code) == ((201, 200) if allowed else (403, 403))


def test_another_partners_agents_see_no_file(support, filed):
    uri = attach(support.actors(Role.admin_agent), filed["id"], ("a.txt", b"first", "text/plain")) \
        .json()["items"][0]["links"]["self"]["uri"]
    rival = support.actors(Role.admin_agent, partner="Rival")

    assert rival.get(uri).status_code == 404
    assert attach(rival, filed["id"], ("b.txt", b"x", "text/plain")).status_code == 404
    assert support.actors(Role.admin_agent).get(uri.rsplit("/", 1)[0] + "/unknown").status_code == 404


def test_a_file_missing_from_the_store_is_a_503_not_a_broken_download(support, filed):
    uri = attach(support.actors(Role.admin_agent), filed["id"], ("a.txt", b"first", "text/plain")) \
        .json()["items"][0]["links"]["self"]["uri"]
    for path in store_files(support.desk):
        path.unlink()

    missing = support.actors(Role.admin_agent).get(uri)

    assert missing.status_code == 503 and missing.json()["code"] == 7028


def test_attachments_have_a_body_limit_of_their_own_above_the_general_one(support, filed):
    # The general 1 MiB limit on request bodies does not apply to attachments; their own limits do.
    big = b"%PDF-" + b"0" * (2 * 1024 * 1024)
    added = attach(support.actors(Role.admin_agent), filed["id"], ("big.pdf", big, "application/pdf"))
    assert added.status_code == 201, added.text
