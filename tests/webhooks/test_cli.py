"""`partnerdesk webhooks ...`: the operator's view of event types and endpoints."""

from __future__ import annotations

from typer.testing import CliRunner

from partnerdesk.accounts.models import Role
from partnerdesk.cli import app
from tests.webhooks.helpers import create_endpoint


def test_webhooks_commands_list_event_types_and_endpoints_without_secrets(actors, receiver, settings,
                                                                          wide_console):
    endpoint = create_endpoint(actors(Role.admin_agent), receiver.url, ["order.cancelled"])
    env = {"PARTNERDESK_DATABASE_URL": settings.database_url, "PARTNERDESK_DATA_DIR": str(settings.data_dir),
           "PARTNERDESK_SECRET_KEY": settings.secret_key}
    types = CliRunner().invoke(app, ["webhooks", "event-types"], env=env)
    assert types.exit_code == 0 and "entitlement.revoked" in types.output
    listed = CliRunner().invoke(app, ["webhooks", "endpoints"], env=env)
    assert listed.exit_code == 0, listed.output
    assert endpoint["id"] in listed.output and "Contoso Reseller" in listed.output
    assert endpoint["secret"] not in listed.output
