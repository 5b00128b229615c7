"""The contact of a service request gets an email at each status change, sent once by a durable job, to a real
SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.jobs.worker import run_due_jobs
from partnerdesk.support.models import SupportEmail
from tests.servicerequests.conftest import request_body

# The job queue differs between engines (row locks, SKIP LOCKED): both.
pytestmark = pytest.mark.both_engines


class Inbox:
    """What the SMTP server received, in order."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler name
        if self.refuse:
            return "451 Try again later"
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(desk):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    desk.settings.smtp_url = f"smtp://127.0.0.1:{controller.port}"
    desk.settings.smtp_from = "Partner Desk Support <support@desk.example>"
    try:
        yield handler
    finally:
        controller.stop()
        desk.settings.smtp_url = None


def test_the_contact_is_told_at_filing_and_at_each_status_change_once_each(support, inbox):
    filed = support.filed(request_body())
    operator = support.actors(Role.operator)
    operator.patch(f"/v1/servicerequests/{filed['id']}", json={"status": "attention_needed",
                                                                "newNote": {"text": "Send the log, please."}})
    operator.patch(f"/v1/servicerequests/{filed['id']}", json={"newNote": {"text": "A note alone sends nothing."}})

    run_due_jobs(support.desk)
    run_due_jobs(support.desk)  # a second pass finds every email sent

    # The test clock stands still, so both jobs are due at once and may go out in either order.
    messages = sorted(inbox.messages, key=lambda message: "Open" not in message["Subject"])
    number = filed["id"].split("-")[0].upper()
    assert [message["Subject"] for message in messages] == [
        f"[Partner Desk] Service request {number}: Open", f"[Partner Desk] Service request {number}: Attention needed"]
    first, second = messages
    assert first["To"] == "ana@contoso.example" and first["X-Envelope-To"] == "ana@contoso.example"
    assert first["From"] == "Partner Desk Support <support@desk.example>"
    assert "Wrong product bought" in first.get_payload() and "Send the log, please." in second.get_payload()
    assert first["Message-ID"] != second["Message-ID"]
    with support.desk.database.session(write=False) as db:
        assert all(row.sent_at is not None for row in db.scalars(select(SupportEmail)))


def test_the_email_speaks_the_language_of_the_request(support, inbox):
    assert support.file(request_body(), locale="fr-FR").status_code == 201

    run_due_jobs(support.desk)

    [message] = inbox.messages
    assert message["Subject"].startswith("[Partner Desk] Demande de support")
    assert "Ouverte" in message["Subject"] and "Bonjour Ana," in message.get_payload(decode=True).decode()


def test_a_server_that_refuses_delays_the_email_and_it_is_sent_once_later(support, inbox, clock):
    inbox.refuse = True
    support.filed(request_body())

    run_due_jobs(support.desk)
    assert inbox.messages == []
    with support.desk.database.session(write=False) as db:
        assert db.scalar(select(SupportEmail)).sent_at is None

    inbox.refuse = False
    clock.advance(timedelta(hours=1))  # past the retry's back-off
    run_due_jobs(support.desk)
    run_due_jobs(support.desk)

    assert len(inbox.messages) == 1


def test_without_smtp_the_emails_are_kept_and_nothing_is_sent(support):
    support.filed(request_body())

    run_due_jobs(support.desk)

    with support.desk.database.session(write=False) as db:
        [email] = db.scalars(select(SupportEmail)).all()
    assert email.recipient == "ana@contoso.example" and email.sent_at is None
