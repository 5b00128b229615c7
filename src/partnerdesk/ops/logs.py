"""Structured logs (`PARTNERDESK_LOG_FORMAT=json`): one JSON object a line, secrets masked as in text logs.

The access line of each request names the route template (`/v1/downloads/{token}`), never the path
asked for, so no download link's token, query string or customer id reaches the log.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from partnerdesk.core.logging import RedactSecretsFilter, redact

ACCESS_LOGGER = "partnerdesk.access"
# Loggers whose lines are written as JSON in that mode; uvicorn's own access line is replaced by ours.
JSON_LOGGERS = ("partnerdesk", "uvicorn", "uvicorn.error")
SERVER_ACCESS_LOGGERS = ("uvicorn.access", "granian.access", "gunicorn.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            # The wall clock of the machine: log lines are read beside other systems' logs.
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (a test's captured stream included)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # noqa: D102 - logging.StreamHandler's attribute, read at each record
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def use_json_logs() -> None:
    """Sends the desk's and the server's log records to stderr as JSON lines (idempotent)."""
    for name in JSON_LOGGERS:
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter())
        if name == "partnerdesk" and not any(isinstance(handler, StderrHandler) for handler in logger.handlers):
            handler = StderrHandler()
            handler.setFormatter(JsonFormatter())
            handler.addFilter(RedactSecretsFilter())
            logger.addHandler(handler)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    for name in SERVER_ACCESS_LOGGERS:
        logging.getLogger(name).disabled = True  # one line per request: ours, with ids and route template


def access_line(*, request_id: str, correlation_id: str | None, method: str, route: str, status: int,
                duration_ms: float) -> None:
    logging.getLogger(ACCESS_LOGGER).info("request", extra={"fields": {
        "requestId": request_id, "correlationId": correlation_id, "method": method, "route": route,
        "status": status, "durationMs": round(duration_ms, 2)}})
