"""Standard Webhooks signatures (symmetric, `v1`): signing for the desk, verifying for receivers.

Every delivery carries three headers:

    webhook-id:        the event id; the same on every retry, so receivers can drop duplicates
    webhook-timestamp: the attempt's time in Unix seconds
    webhook-signature: "v1,<base64 HMAC-SHA256>" over "{webhook-id}.{webhook-timestamp}.{body}",
                       keyed with the base64-decoded part of the endpoint secret after "whsec_".
                       While a rotated-out secret is still honoured, a second signature follows,
                       separated by a space; a receiver accepts the request if any one matches.

A receiver verifies with `verify(secret, request.headers, raw_body, now=...)` before parsing
the body. This module needs only the standard library, so receivers may copy it as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = timedelta(minutes=5)

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh delivery signed with this secret."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_...` secret stands for."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """One signature, "v1,<base64>"."""
    if "." in message_id:
        raise ValueError("a webhook id must not contain '.'")
    signed_content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed_content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(
    secrets_in_use: Iterable[str], *, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given (current one first)."""
    signatures = [sign(secret, message_id=message_id, timestamp=timestamp, body=body)
                  for secret in secrets_in_use]
    if not signatures:
        raise ValueError("at least one secret is needed to sign a webhook")
    return {ID_HEADER: message_id, TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: " ".join(signatures)}


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Raises `WebhookVerificationError` unless `body` was signed with `secret` within `tolerance` of `now`.

    `headers` may be any mapping with `.items()` (header names are matched case-insensitively);
    `body` must be the raw bytes received, before any JSON parsing.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get(ID_HEADER)
    timestamp_text = lowered.get(TIMESTAMP_HEADER)
    signature_text = lowered.get(SIGNATURE_HEADER)
    if not message_id or not timestamp_text or not signature_text:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a whole number of seconds") from None
    age_seconds = now.timestamp() - timestamp
    if age_seconds > tolerance.total_seconds():
        raise WebhookVerificationError("the webhook timestamp is too old")
    if -age_seconds > tolerance.total_seconds():
        raise WebhookVerificationError("the webhook timestamp is too far in the future")
    try:
        expected = sign(secret, message_id=message_id, timestamp=timestamp, body=body)
    except ValueError as error:
        raise WebhookVerificationError(str(error)) from None
    for candidate in signature_text.split(" "):
        if hmac.compare_digest(candidate.encode(), expected.encode()):
            return
    raise WebhookVerificationError("no signature matches")
