"""Standard Webhooks signatures: what the desk sends is what a receiver computes on its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from partnerdesk.webhooks import signing
from partnerdesk.webhooks.signing import WebhookVerificationError, verify

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
BODY = b'{"type":"order.created","timestamp":"2026-11-24T10:00:00Z","data":{"orderId":"o-1"}}'
MESSAGE_ID = "5f0c1a3e-8f7b-4c1e-9a57-1c2d3e4f5a6b"


def independent_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The signature as the Standard Webhooks spec describes it, computed without our code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(secret: str, *, at: datetime = NOW, body: bytes = BODY) -> dict[str, str]:
    return signing.signed_headers([secret], message_id=MESSAGE_ID, timestamp=int(at.timestamp()), body=body)


def test_a_secret_is_whsec_and_base64_of_32_random_bytes():
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert signing.new_secret() != secret


def test_the_signature_is_hmac_sha256_of_id_timestamp_and_body_with_the_decoded_secret():
    secret = signing.new_secret()
    headers = headers_for(secret)
    timestamp = int(NOW.timestamp())
    assert headers["webhook-id"] == MESSAGE_ID
    assert headers["webhook-timestamp"] == str(timestamp)
    assert headers["webhook-signature"] == independent_signature(secret, MESSAGE_ID, timestamp, BODY)


def test_verify_accepts_a_genuine_request_whatever_the_header_case():
    secret = signing.new_secret()
    headers = {name.title(): value for name, value in headers_for(secret).items()}
    verify(secret, headers, BODY, now=NOW + timedelta(minutes=4))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b, s: (h, b + b" ", s), "no signature matches"),
        (lambda h, b, s: (h, b, signing.new_secret()), "no signature matches"),
        (lambda h, b, s: ({**h, "webhook-id": "another-id"}, b, s), "no signature matches"),
        (lambda h, b, s: ({k: v for k, v in h.items() if k != "webhook-signature"}, b, s), "missing"),
        (lambda h, b, s: ({**h, "webhook-timestamp": "soon"}, b, s), "whole number"),
        (lambda h, b, s: ({**h, "webhook-signature": "v1,Zm9yZ2Vk"}, b, s), "no signature matches"),
    ],
)
def test_verify_refuses_anything_altered(change, reason):
    secret = signing.new_secret()
    headers, body, key = change(headers_for(secret), BODY, secret)
    with pytest.raises(WebhookVerificationError, match=reason):
        verify(key, headers, body, now=NOW)


def test_verify_refuses_replays_outside_the_tolerance():
    secret = signing.new_secret()
    headers = headers_for(secret)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(secret, headers, BODY, now=NOW + timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError, match="future"):
        verify(secret, headers, BODY, now=NOW - timedelta(minutes=6))
    verify(secret, headers, BODY, now=NOW + timedelta(minutes=9), tolerance=timedelta(minutes=10))


def test_during_a_rotation_either_secret_verifies():
    old, new = signing.new_secret(), signing.new_secret()
    timestamp = int(NOW.timestamp())
    headers = signing.signed_headers([new, old], message_id=MESSAGE_ID, timestamp=timestamp, body=BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify(old, headers, BODY, now=NOW)
    verify(new, headers, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError):
        verify(signing.new_secret(), headers, BODY, now=NOW)


def test_a_malformed_secret_is_a_verification_failure_not_a_crash():
    headers = headers_for(signing.new_secret())
    with pytest.raises(WebhookVerificationError):
        verify("whsec_not base64!", headers, BODY, now=NOW)
