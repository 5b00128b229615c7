"""Emails to a service request's contact, one at each status change (filed, attention needed, closed).

The email is written in the request's transaction (a `support_emails` row, in the language of the
request's `agentLocale`) and sent by a durable job (`support.email`), so a request whose transaction
rolls back sends nothing and an SMTP server that is down delays the email instead of losing it. The job
marks the row sent; a retried or repeated job finds it sent and does nothing. The one case that can
send twice is a crash between the SMTP server's acceptance and that mark: the copy carries the same
`Message-ID`, which mail clients use to show it once.

With no `PARTNERDESK_SMTP_URL` the rows are still written (they say what the contact would have been
told) and the jobs finish without sending.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from partnerdesk.core.desk import Desk
from partnerdesk.jobs import service as jobs
from partnerdesk.jobs.service import ClaimedJob, JobFailed
from partnerdesk.support.models import ServiceRequest, SupportEmail

JOB_KIND = "support.email"
TIMEOUT_SECONDS = 30

_STATUS_LABELS = {
    "en": {"open": "Open", "attention_needed": "Attention needed", "closed": "Closed"},
    "fr": {"open": "Ouverte", "attention_needed": "Action requise", "closed": "Fermée"},
}
_TEXTS = {
    "en": {
        "subject": "[Partner Desk] Service request {number}: {status}",
        "greeting": "Hello {name},",
        "filed": "Your service request \"{title}\" was received. Its number is {number}.",
        "changed": "The status of your service request \"{title}\" ({number}) is now: {status}.",
        "note": "Latest note:",
        "footer": "You receive this email because you are the contact of this request.",
    },
    "fr": {
        "subject": "[Partner Desk] Demande de support {number} : {status}",
        "greeting": "Bonjour {name},",
        "filed": "Votre demande de support « {title} » a bien été reçue. Son numéro est {number}.",
        "changed": "Le statut de votre demande de support « {title} » ({number}) est désormais : {status}.",
        "note": "Dernière note :",
        "footer": "Vous recevez ce message parce que vous êtes le contact de cette demande.",
    },
}


def _language(agent_locale: str) -> str:
    language = agent_locale.split("-", 1)[0].casefold()
    return language if language in _TEXTS else "en"


def queue_status_email(db: Session, request: ServiceRequest, *, now: datetime, filed: bool = False,
                       note: str | None = None) -> SupportEmail:
    """Writes the email telling the contact the request's status, and the job that sends it."""
    language = _language(request.agent_locale)
    texts, status = _TEXTS[language], _STATUS_LABELS[language][request.status]
    number = request.id.split("-", 1)[0].upper()
    lines = [texts["greeting"].format(name=request.contact_first_name), "",
             texts["filed" if filed else "changed"].format(title=request.title, number=number, status=status)]
    if note:
        lines += ["", texts["note"], note]
    lines += ["", "--", texts["footer"]]
    email = SupportEmail(service_request_id=request.id, status=request.status, recipient=request.contact_email,
                         subject=texts["subject"].format(number=number, status=status), body="\n".join(lines),
                         created_at=now)
    db.add(email)
    db.flush()
    jobs.enqueue(db, kind=JOB_KIND, payload={"emailId": email.id}, now=now)
    return email


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "auto" (when offered), "always" or "never"
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("PARTNERDESK_SMTP_URL is smtp://[user:password@]host[:port] or smtps://...")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(host=parts.hostname, port=parts.port or (465 if implicit else 587), implicit_tls=implicit,
                   starttls=query.get("starttls", "auto"),
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)


def _message(email: SupportEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    # The same id on every attempt: a copy sent again after a crash is recognised as the same email.
    message["Message-ID"] = f"<{email.id}@partnerdesk.invalid>"
    message.set_content(email.body)
    return message


def _send(server: SmtpServer, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    if server.implicit_tls:
        client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        if not server.implicit_tls and (server.starttls == "always"
                                        or (server.starttls == "auto" and client.has_extn("starttls"))):
            client.starttls(context=context)
            client.ehlo()
        if server.username:
            client.login(server.username, server.password or "")
        client.send_message(message)


def send_status_email(desk: Desk, job: ClaimedJob) -> None:
    """Handler of `support.email` jobs (payload `{"emailId": ...}`): sends the email once."""
    email_id = job.payload["emailId"]
    with desk.database.session() as db:
        email = db.scalar(select(SupportEmail).where(SupportEmail.id == email_id))
        if email is None or email.sent_at is not None:
            return
        db.expunge(email)
    if not desk.settings.smtp_url:
        return
    try:
        _send(SmtpServer.from_url(desk.settings.smtp_url), _message(email, desk.settings.smtp_from))
    except (OSError, smtplib.SMTPException, ValueError) as error:
        # The server's words only: never the URL, which may hold the password.
        raise JobFailed(f"the SMTP server did not take the email: {type(error).__name__}: {error}") from None
    with desk.database.session() as db:
        db.execute(update(SupportEmail).where(SupportEmail.id == email_id, SupportEmail.sent_at.is_(None))
                   .values(sent_at=desk.clock.now()))
