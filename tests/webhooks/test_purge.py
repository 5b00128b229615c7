"""Purging old webhook history: finished deliveries of old events go; anything still being retried stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from partnerdesk.accounts.models import Role
from partnerdesk.cli import app
from partnerdesk.webhooks import service
from partnerdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from tests.webhooks.helpers import count, create_endpoint, deliver_due, partner_id_of, publish


@pytest.fixture
def admin(actors):
    return actors(Role.admin_agent)


def event_ids(desk) -> set[str]:
    with desk.database.session(write=False) as db:
        return set(db.scalars(select(WebhookEvent.id)))


def test_old_finished_history_is_purged_and_pending_or_recent_history_kept(admin, desk, receiver, clock):
    create_endpoint(admin, receiver.url)
    partner = partner_id_of(desk, admin)
    delivered = publish(desk, partner)
    deliver_due(desk)
    receiver.default = 500  # from now on the receiver fails: deliveries wait for their next attempt
    still_retried = publish(desk, partner)
    deliver_due(desk)
    clock.advance(timedelta(days=31))
    recent = publish(desk, partner)
    deliver_due(desk)
    attempts_before = count(desk, WebhookAttempt)

    with desk.database.session() as db:
        purged = service.purge_history(db, occurred_before=clock.now() - timedelta(days=30))

    assert (purged.events, purged.deliveries, purged.attempts) == (1, 1, 1)
    assert event_ids(desk) == {still_retried, recent}
    assert delivered not in event_ids(desk)
    assert count(desk, WebhookDelivery) == 2 and count(desk, WebhookAttempt) == attempts_before - 1
    with desk.database.session(write=False) as db:
        statuses = {delivery.event_id: delivery.status for delivery in db.scalars(select(WebhookDelivery))}
    assert statuses == {still_retried: "pending", recent: "pending"}


def test_an_event_of_several_endpoints_goes_only_when_every_delivery_is_finished(admin, desk, receiver, clock):
    create_endpoint(admin, receiver.url)
    create_endpoint(admin, receiver.url + "/second")
    receiver.answer(200, 500)
    event = publish(desk, partner_id_of(desk, admin))
    deliver_due(desk)  # one delivered, one to be retried
    clock.advance(timedelta(days=40))
    with desk.database.session() as db:
        purged = service.purge_history(db, occurred_before=clock.now() - timedelta(days=30))
    assert (purged.events, purged.deliveries) == (0, 1)
    assert event_ids(desk) == {event}
    assert admin.get("/v1/webhooks").json()["totalCount"] == 2


def test_the_purge_command_reports_what_it_deleted(settings):
    env = {"PARTNERDESK_DATABASE_URL": settings.database_url, "PARTNERDESK_DATA_DIR": str(settings.data_dir),
           "PARTNERDESK_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(app, ["webhooks", "purge", "--older-than-days", "30"], env=env)
    assert result.exit_code == 0, result.output
    assert "deleted 0 event(s), 0 delivery record(s) and 0 attempt(s)" in result.output
    refused = CliRunner().invoke(app, ["webhooks", "purge", "--older-than-days", "0"], env=env)
    assert refused.exit_code != 0
