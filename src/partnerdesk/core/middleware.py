"""ASGI middleware: request/correlation ids echoed on every answer, and a cap on body size."""

from __future__ import annotations

import json
import re
import uuid
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnerdesk.core.errors import InvalidInput, InvalidRequestId, MethodNotAllowed, PayloadTooLarge
from partnerdesk.core.openapi import documented_methods

REQUEST_ID_HEADER = "ms-requestid"
CORRELATION_ID_HEADER = "ms-correlationid"
_ID_HEADERS = frozenset({REQUEST_ID_HEADER.encode(), CORRELATION_ID_HEADER.encode()})


async def _send_error(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                        *headers],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def canonical_uuid(text: str) -> str:
    """The canonical lowercase form of any UUID spelling `uuid.UUID` reads (`urn:uuid:...`, `{...}`,
    upper case, no hyphens); ValueError for anything else."""
    return str(uuid.UUID(text))


class RequestIdMiddleware:
    """Checks that `MS-RequestId` / `MS-CorrelationId` are UUIDs, hands them on in their canonical form
    (so a retry spelled differently is the same request), and echoes them back as they were sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        echoed: list[tuple[bytes, bytes]] = []
        headers: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            if name in _ID_HEADERS:
                text = value.decode("latin-1")
                try:
                    canonical = canonical_uuid(text.strip())
                except ValueError:
                    error = InvalidRequestId(f"The {name.decode('latin-1')} header must be a UUID.", [text[:64]])
                    await _send_error(send, error.status_code, error.body())
                    return
                echoed.append((name, value))
                value = canonical.encode()
            headers.append((name, value))

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start" and echoed:
                message["headers"] = list(message.get("headers", [])) + echoed
            await send(message)

        await self.app({**scope, "headers": headers} if echoed else scope, receive, send_with_ids)


class NulCharacterMiddleware:
    """Refuses NUL characters in the path or query: no database stores them, PostgreSQL refuses them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
                error = InvalidInput("The request URL contains a NUL character.")
                await _send_error(send, error.status_code, error.body())
                return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with 413, whether or not Content-Length was sent."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Paths (regular expressions matched against the whole path) that take bodies of their own size
        # (an installation file, a request's attachments), with their limit.
        self.larger = [(re.compile(pattern), limit) for pattern, limit in (larger or {}).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((limit for pattern, limit in self.larger if pattern.fullmatch(path)), self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(send, limit)
                return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        error = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        await _send_error(send, error.status_code, error.body())


class _BodyTooLarge(BaseException):
    """A BaseException so that body parsing's `except Exception` cannot turn it into a 400."""



class ConcretePathsMiddleware:
    """A path spelled out in the API answers its own methods only, as OpenAPI reads paths (concrete paths
    before templated ones): `PATCH /v1/webhooks/eventtypes` is a 405 listing `GET`, not an update of a
    webhook whose id would be "eventtypes" (the router alone tries routes in order and would take it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Matching a path against every documented path cost more than the rest of this middleware's work, on
        # every request; the document does not change once served, so each path's answer is kept (a bounded
        # number of them: paths carry ids).
        self.documented_methods = lru_cache(maxsize=4096)(documented_methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith("/v1/"):
            methods, concrete = self.documented_methods(scope["app"], scope["path"])
            method = "GET" if scope["method"] == "HEAD" else scope["method"]
            if concrete and method not in methods:
                allowed = ", ".join(sorted(methods))
                error = MethodNotAllowed(f"{scope['method']} is not a method of {scope['path']}; it answers "
                                         f"{allowed}.")
                await _send_error(send, error.status_code, error.body(), headers=[(b"allow", allowed.encode())])
                return
        await self.app(scope, receive, send)
