"""Logging that never writes a secret: API tokens, link tokens and passwords are masked."""

from __future__ import annotations

import logging
import re

# API tokens, webhook secrets, and the token segment of download links.
_SECRET_PATTERNS = (
    re.compile(r"pdk_[A-Za-z0-9_\-]{8,}"),
    re.compile(r"whsec_[A-Za-z0-9+/=_\-]{8,}"),
    re.compile(r"(/downloads/)[A-Za-z0-9_\-]{8,}"),
    re.compile(r"((?:password|token|secret)=)[^&\s\"]+", re.IGNORECASE),
)


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda match: (match.group(1) if match.groups() else "") + "[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args) \
                if isinstance(record.args, tuple) else record.args
        record.msg = redact(str(record.msg))
        return True


def uvicorn_log_config() -> dict:
    """uvicorn's default logging, with the redaction filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = {**LOGGING_CONFIG, "filters": {"redact": {"()": RedactSecretsFilter}}}
    handlers = LOGGING_CONFIG["handlers"]
    config["handlers"] = {name: {**handler, "filters": ["redact"]} for name, handler in handlers.items()}
    return config


# Loggers of the servers that may run the app (uvicorn, granian, gunicorn): their access lines hold URLs,
# and a download link's URL is a secret.
SERVER_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "granian", "granian.access", "gunicorn.access",
                  "gunicorn.error")


def redact_server_logs() -> None:
    """Puts the redaction filter on the servers' loggers, however the app was started (`partnerdesk
    serve`, `uvicorn --factory`, granian): a filter on a logger applies to every record it emits."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactSecretsFilter) for existing in logger.filters):
            logger.addFilter(RedactSecretsFilter())
