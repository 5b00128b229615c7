"""The sandbox test clock moves time for every rule that reads it, from the API and the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.cli import app as cli
from partnerdesk.core.desk import Desk


def test_operator_advances_the_clock_and_everyone_reads_it(actors, clock):
    start = clock.now()
    response = actors(Role.operator).post("/v1/sandbox/clock", json={"advanceDays": 15})
    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()["now"]) == start + timedelta(days=15)
    seen = actors(Role.sales_agent).get("/v1/sandbox/clock").json()["now"]
    assert datetime.fromisoformat(seen) == start + timedelta(days=15)
    log = actors(Role.operator).get("/v1/activitylogs?action=sandbox.clock_advanced").json()
    assert log["totalCount"] == 1 and log["items"][0]["details"] == {"days": 15}


def test_advance_days_must_be_positive(actors):
    response = actors(Role.operator).post("/v1/sandbox/clock", json={"advanceDays": 0})
    assert response.status_code == 400 and "advanceDays" in response.json()["description"]


def test_without_sandbox_mode_the_clock_endpoint_is_404(settings, clock, actors):
    plain = Desk.from_settings(settings.model_copy(update={"sandbox": False}), clock=clock)
    with TestClient(create_app(desk=plain)) as client:
        headers = {"Authorization": f"Bearer {actors(Role.operator).token}"}
        response = client.post("/v1/sandbox/clock", json={"advanceDays": 1}, headers=headers)
    assert response.status_code == 404
    plain.database.dispose()


def test_the_cli_moves_the_same_clock_the_api_reads(settings, actors, clock, monkeypatch):
    monkeypatch.setenv("PARTNERDESK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARTNERDESK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARTNERDESK_SANDBOX", "1")
    result = CliRunner().invoke(cli, ["sandbox", "advance", "--days", "61"])
    assert result.exit_code == 0, result.output
    seen = actors(Role.operator).get("/v1/sandbox/clock").json()["now"]
    assert datetime.fromisoformat(seen) == clock.now() + timedelta(days=61)


def test_the_cli_refuses_outside_sandbox_mode(settings, monkeypatch):
    monkeypatch.setenv("PARTNERDESK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARTNERDESK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARTNERDESK_SANDBOX", "0")
    result = CliRunner().invoke(cli, ["sandbox", "advance", "--days", "1"])
    assert result.exit_code != 0
    assert "sandbox mode" in result.output
