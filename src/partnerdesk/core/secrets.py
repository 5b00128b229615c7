"""The desk's secret key and what is derived from it: encryption, signing, token hashing.

The key is generated on first start into the data dir (mode 0600) unless given in
`PARTNERDESK_SECRET_KEY`. Each use gets its own sub-key through HKDF, so a signed cookie
can never be replayed as a ciphertext or the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE_NAME = "secret.key"


def load_or_create_secret_key(data_dir: Path, given: str | None) -> bytes:
    if given:
        return given.encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        key = base64.urlsafe_b64encode(secrets.token_bytes(32))
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key
    return path.read_bytes().strip()


class KeyRing:
    """Purpose-bound keys derived from the one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def derive(self, purpose: str) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(self._secret)

    def fernet(self, purpose: str) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self.derive(purpose)))

    def signing_key(self, purpose: str) -> str:
        return base64.urlsafe_b64encode(self.derive(purpose)).decode()


def new_api_token() -> str:
    return "pdk_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """API tokens and link tokens have 256 bits of entropy: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())
