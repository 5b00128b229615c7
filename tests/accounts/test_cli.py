"""The `partnerdesk agents` commands and the secret key file, as an operator uses them."""

from __future__ import annotations

import stat

import pytest
from typer.testing import CliRunner

from partnerdesk.cli import app as cli


@pytest.fixture
def run(settings, monkeypatch):
    monkeypatch.setenv("PARTNERDESK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARTNERDESK_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input)

    return invoke


def last_stdout_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_agents_add_prints_a_working_token_as_the_last_line(run, client):
    result = run("agents", "add", "Ada@Contoso.example", "--role", "admin_agent", "--partner", "Contoso Reseller",
                 "--name", "Ada Lovelace")
    assert result.exit_code == 0, result.output
    token = last_stdout_line(result)
    assert token.startswith("pdk_")
    response = client.get("/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_agents_add_with_a_password_lets_the_agent_sign_in_later(run, desk):
    from partnerdesk.accounts import service

    result = run("agents", "add", "pw@contoso.example", "--role", "sales_agent", "--partner", "Contoso Reseller",
                 "--password-prompt", input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    with desk.database.session() as db:
        assert service.authenticate_password(db, "pw@contoso.example", "s3cret-pass") is not None
        assert service.authenticate_password(db, "pw@contoso.example", "wrong") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agents", "add", "op@x.example", "--role", "operator", "--partner", "P"], "operator belongs to no partner"),
        (["agents", "add", "s@x.example", "--role", "sales_agent"], "--partner"),
        (["agents", "add", "not-an-email", "--role", "operator"], "not an email"),
        (["agents", "add", "s@x.example", "--role", "king"], "king"),
    ],
)
def test_bad_agent_input_is_a_clear_error_and_a_non_zero_exit(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output


def test_a_duplicate_email_is_refused(run):
    assert run("agents", "add", "dup@x.example", "--role", "operator").exit_code == 0
    again = run("agents", "add", "DUP@x.example", "--role", "operator")
    assert again.exit_code == 1 and "already exists" in again.output


def test_list_shows_agents_and_revoke_tokens_locks_them_out(run, client):
    token = last_stdout_line(run("agents", "add", "h@x.example", "--role", "helpdesk_agent", "--partner", "Acme"))
    listing = run("agents", "list")
    assert "h@x.example" in listing.stdout and "helpdesk_agent" in listing.stdout and "Acme" in listing.stdout
    assert "pdk_" not in listing.stdout
    revoked = run("agents", "revoke-tokens", "h@x.example")
    assert revoked.exit_code == 0 and "revoked 1" in revoked.stdout
    response = client.get("/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_demo_is_idempotent_and_gives_every_role(run):
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "5 agent(s) and 7 customer(s) added" in first.stdout
    second = run("demo")
    assert "0 agent(s) and 0 customer(s) added" in second.stdout
    listing = run("agents", "list").stdout
    for role in ("operator", "admin_agent", "sales_agent", "helpdesk_agent", "billing_admin"):
        assert role in listing


def test_the_secret_key_is_generated_once_with_owner_only_permissions(tmp_path):
    from partnerdesk.core.secrets import load_or_create_secret_key

    first = load_or_create_secret_key(tmp_path, None)
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert load_or_create_secret_key(tmp_path, None) == first
    assert load_or_create_secret_key(tmp_path, "given") == b"given"
