"""One ASGI middleware that times each request, counts it for `/metrics` and writes its JSON access line.

It sits innermost, next to the router, so it sees the matched route's template (`scope["route"]`)
and the error bodies the error handlers write (their `code` is counted).
"""

from __future__ import annotations

import json
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnerdesk.core.middleware import CORRELATION_ID_HEADER, REQUEST_ID_HEADER
from partnerdesk.ops import logs, metrics

MAX_ERROR_BODY = 16 * 1024  # error bodies are a few hundred bytes; a larger one is not read for its code
UNHANDLED = "unhandled"     # the error-code label of an exception no handler turned into an answer


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", ()):
        if key == wanted:
            return value.decode("latin-1")
    return None


def _error_code(body: bytes) -> str | None:
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return str(code) if isinstance(code, int) else None


class OperationsMiddleware:
    def __init__(self, app: ASGIApp, *, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        error_body: bytearray | None = None

        async def observed(message: Message) -> None:
            nonlocal status, error_body
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers", ())).get(b"content-type", b"")
                if status >= 400 and content_type.startswith(b"application/json"):
                    error_body = bytearray()
            elif message["type"] == "http.response.body" and error_body is not None \
                    and len(error_body) <= MAX_ERROR_BODY:
                error_body += message.get("body", b"")
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, observed)
        except Exception:  # not a cancelled request (a client gone mid-answer): that is no error of ours
            failed = True
            raise
        finally:
            self._record(scope, status=500 if failed else status, seconds=time.perf_counter() - started,
                         error_code=UNHANDLED if failed else (_error_code(bytes(error_body)) if error_body else None))

    def _record(self, scope: Scope, *, status: int, seconds: float, error_code: str | None) -> None:
        route = getattr(scope.get("route"), "path", None)
        method = scope.get("method", "GET")
        metrics.observe(method=method, route=route, status=status, seconds=seconds, error_code=error_code)
        if self.access_log:
            logs.access_line(request_id=_header(scope, REQUEST_ID_HEADER) or str(uuid.uuid4()),
                             correlation_id=_header(scope, CORRELATION_ID_HEADER), method=method,
                             route=route or metrics.UNMATCHED, status=status, duration_ms=seconds * 1000)
