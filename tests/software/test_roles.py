"""Rule R3 for every role on every software route: only an admin agent gets keys and downloads, only the
operator manages files and key pools, anyone holding a link downloads; a refused caller changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.auth import role_matrix
from partnerdesk.accounts.models import Role
from partnerdesk.software.models import DownloadLink, ProductKey, SoftwareFile
from tests.orders.factories import SOFTWARE_PRODUCT
from tests.software.factories import CHOICE, OFFICE_SKU, make_keys

ADMIN, OPERATOR = {Role.admin_agent}, {Role.operator}
PUBLIC = set(Role) | {None}
# (method, route as declared) -> who may call it; None is an anonymous caller.
WHO_MAY = {
    ("GET", "/v1/customers/{customerId}/software"): ADMIN | OPERATOR,
    ("GET", "/v1/customers/{customerId}/software/{softwareId}"): ADMIN | OPERATOR,
    ("POST", "/v1/customers/{customerId}/software/{softwareId}/keysanddownloads"): ADMIN,
    ("GET", "/v1/software/files"): OPERATOR,
    ("POST", "/v1/software/files"): OPERATOR,
    ("GET", "/v1/software/keypools"): OPERATOR,
    ("POST", "/v1/software/keypools/{productId}/{skuId}"): OPERATOR,
    ("GET", "/v1/downloads/{token}"): PUBLIC,
    ("HEAD", "/v1/downloads/{token}"): PUBLIC,
}
UPLOAD = (f"/v1/software/files?productId={SOFTWARE_PRODUCT}&skuId={OFFICE_SKU}&version=2024&language=en"
          "&fileType=ISO&fileName=office-2024-en.iso")


def counts(desk) -> dict[str, int]:
    with desk.database.session(write=False) as db:
        return {"issued": db.scalar(select(func.count()).select_from(ProductKey).where(ProductKey.status == "issued")),
                "keys": db.scalar(select(func.count()).select_from(ProductKey)),
                "files": db.scalar(select(func.count()).select_from(SoftwareFile)),
                "links": db.scalar(select(func.count()).select_from(DownloadLink)),
                "stored": sum(1 for path in desk.settings.resolved_files_dir.rglob("*") if path.is_file())}


def test_the_matrix_declares_exactly_these_roles_for_the_software_routes(app):
    declared = {(method, path): roles for method, path, roles in role_matrix(app)
                if "/software" in path or path.startswith("/v1/downloads")}
    assert set(declared) == set(WHO_MAY)
    for route, roles in declared.items():
        assert (PUBLIC if roles is None else set(roles)) == WHO_MAY[route], route


@pytest.mark.parametrize("role", [*Role, None], ids=[*(role.value for role in Role), "anonymous"])
def test_each_role_is_admitted_or_refused_on_every_software_route_and_a_refusal_changes_nothing(
        software, actors, client, role):
    software_id = software.buy()
    link = software.link(software.buy())
    before = counts(software.desk)
    customer = f"/v1/customers/{software.customer_id}/software"
    calls = {
        ("GET", "/v1/customers/{customerId}/software"): ("GET", customer, {}),
        ("GET", "/v1/customers/{customerId}/software/{softwareId}"): ("GET", f"{customer}/{software_id}", {}),
        ("POST", "/v1/customers/{customerId}/software/{softwareId}/keysanddownloads"):
            ("POST", f"{customer}/{software_id}/keysanddownloads", {"json": CHOICE}),
        ("GET", "/v1/software/files"): ("GET", "/v1/software/files", {}),
        ("POST", "/v1/software/files"): ("POST", UPLOAD, {"content": b"installer bytes" * 1000}),
        ("GET", "/v1/software/keypools"): ("GET", "/v1/software/keypools", {}),
        ("POST", "/v1/software/keypools/{productId}/{skuId}"):
            ("POST", f"/v1/software/keypools/{SOFTWARE_PRODUCT}/{OFFICE_SKU}", {"json": {"keys": make_keys(1, 9)}}),
        ("GET", "/v1/downloads/{token}"): ("GET", link, {}),
        ("HEAD", "/v1/downloads/{token}"): ("HEAD", link, {}),
    }
    assert set(calls) == set(WHO_MAY)
    caller = client if role is None else actors(role)
    refused_with = 401 if role is None else 403

    for route, (method, path, body) in calls.items():
        answer = caller.request(method, path, **body)
        if role in WHO_MAY[route]:
            assert answer.status_code in (200, 201), (route, role, answer.text)
        else:
            assert answer.status_code == refused_with, (route, role, answer.text)
            assert answer.json()["code"] == (1100 if role is None else 1101)
            assert "productKeys" not in answer.text and "/v1/downloads/" not in answer.text

    after = counts(software.desk)
    expected = dict(before)
    if role is Role.admin_agent:
        expected.update(issued=before["issued"] + 1, links=before["links"] + 1)
    if role is Role.operator:
        expected.update(keys=before["keys"] + 1, files=before["files"] + 1, stored=before["stored"] + 1)
    assert after == expected
