"""The `webhook.deliver` job: sign, POST, record the attempt, and let the job queue retry failures.

A delivery counts as done only on a 2xx answer. Redirects are not followed (Standard
Webhooks: update the URL instead), the answer's body is never read, and error texts name
what went wrong without the URL or any header, so nothing secret reaches the database or logs.
"""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from partnerdesk import __version__
from partnerdesk.core.desk import Desk
from partnerdesk.jobs.service import ClaimedJob, JobFailed
from partnerdesk.webhooks import service, targets
from partnerdesk.webhooks.models import DeliveryStatus
from partnerdesk.webhooks.service import AttemptOutcome, OutgoingRequest

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = f"PartnerDesk-Webhooks/{__version__}"
LONGEST_RETRY_AFTER = timedelta(hours=24)


def _retry_after(value: str | None) -> timedelta | None:
    """A Retry-After given in seconds (429, 503); the HTTP-date form is left to the usual schedule."""
    if value and value.strip().isdigit():
        return min(timedelta(seconds=int(value.strip())), LONGEST_RETRY_AFTER)
    return None


def _innermost(exc: BaseException) -> BaseException:
    # httpx repeats the URL in some messages; the innermost cause ("Connection refused") does not.
    for _ in range(10):
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return exc


def send(request: OutgoingRequest, *, timeout: httpx.Timeout = TIMEOUT,
         allow_private: bool = False) -> AttemptOutcome:
    """POSTs the signed body once and reports the status code, the time taken or what went wrong.

    Unless `allow_private`, it connects only to a public address of the URL's host (webhooks.targets).
    """
    headers = {**request.headers, "content-type": "application/json", "user-agent": USER_AGENT}
    started = time.monotonic()
    status_code, error, retry_after = None, None, None
    transport = None if allow_private else targets.PublicOnlyTransport()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, transport=transport) as client, \
                client.stream("POST", request.url, content=request.body, headers=headers) as response:
            status_code = response.status_code
            retry_after = _retry_after(response.headers.get("retry-after"))
    except targets.NotPublicAddress:  # the one sentence; never the addresses a name resolved to
        error = targets.NOT_PUBLIC
    except httpx.TimeoutException as exc:
        error = f"timed out ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        error = f"request failed: {type(exc).__name__}: {str(_innermost(exc))[:200]}"
    except (httpx.InvalidURL, ValueError) as exc:  # e.g. a host name the IDNA codec refuses
        error = f"invalid URL: {type(exc).__name__}"
    duration_ms = int((time.monotonic() - started) * 1000)
    if status_code is not None and not 200 <= status_code < 300:
        error = f"HTTP {status_code}"
    return AttemptOutcome(status_code=status_code, duration_ms=duration_ms, error=error,
                          retry_after=retry_after)


def deliver(desk: Desk, job: ClaimedJob) -> None:
    """Handler of `webhook.deliver` jobs (payload `{"deliveryId": ...}`)."""
    delivery_id = job.payload["deliveryId"]
    with desk.database.session() as db:
        request = service.prepare_attempt(db, keyring=desk.keyring, delivery_id=delivery_id,
                                          now=job.claimed_at, signed_at=desk.clock.now())
    if request is None:
        return
    outcome = send(request, allow_private=desk.settings.webhook_private_targets)
    with desk.database.session() as db:
        status = service.record_attempt(db, delivery_id=delivery_id, outcome=outcome, now=job.claimed_at,
                                        final=job.is_final_attempt)
    gave_up_on_request = outcome.status_code == service.GONE
    if status is DeliveryStatus.pending or (status is DeliveryStatus.failed and not gave_up_on_request):
        raise JobFailed(outcome.error or "delivery failed", retry_after=outcome.retry_after)
