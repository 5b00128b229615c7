"""`GET /healthz` (the process answers, no database) and `GET /readyz` (database reachable, schema at head)."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from partnerdesk.app import create_app
from partnerdesk.config import Settings

pytestmark = pytest.mark.both_engines


def test_a_migrated_desk_is_alive_and_ready_without_a_token(client):
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "schema": "at head"}
    assert ready.headers["cache-control"] == "no-store"


def _app(tmp_path, database_url: str):
    return create_app(Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key="k"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unreachable_database_is_not_ready_but_the_process_is_alive(tmp_path, database_url):
    client = TestClient(_app(tmp_path, f"sqlite:///{tmp_path}/no/such/folder/desk.db"))
    assert client.get("/healthz").status_code == 200
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "unreachable", "schema": "unknown"}
    assert str(tmp_path) not in answer.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_behind_the_code_is_not_ready(tmp_path, database_url):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # reachable, never migrated
    answer = TestClient(_app(tmp_path, f"sqlite:///{empty}")).get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "ok", "schema": "behind head"}


def test_the_probes_are_public_operations_with_their_statuses_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    health, ready = paths["/healthz"]["get"], paths["/readyz"]["get"]
    assert "security" not in health and "security" not in ready
    assert set(health["responses"]) == {"200"}
    assert set(ready["responses"]) == {"200", "503"}
    readiness = {"$ref": "#/components/schemas/Readiness"}
    assert ready["responses"]["503"]["content"]["application/json"]["schema"] == readiness
    assert paths["/metrics"]["get"]["security"] == [{"bearer": []}]
    assert {"200", "401", "403"} <= set(paths["/metrics"]["get"]["responses"])
