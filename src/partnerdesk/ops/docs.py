"""Security headers on the API's documentation pages (`/docs`, its OAuth2 redirect, `/redoc` if enabled).

The portal's pages send a strict Content-Security-Policy, `X-Frame-Options: DENY`, `nosniff` and a
`Referrer-Policy` (web/rendering.py); the docs pages get the same, with a policy that lets Swagger UI
load: its script and stylesheet from the CDN FastAPI names in the page, the page's own inline
script by its SHA-256 hash (computed from the page as served, so it follows FastAPI's template), and
`fetch` of /openapi.json from this site only. Nothing may frame them, and they post nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
_SCRIPT_SOURCE = re.compile(rb"<script[^>]*\ssrc=\"(https://[^\"]+)\"")
_STYLESHEET = re.compile(rb"<link[^>]*rel=\"stylesheet\"[^>]*href=\"(https://[^\"]+)\"|"
                         rb"<link[^>]*href=\"(https://[^\"]+)\"[^>]*rel=\"stylesheet\"")
_IMAGE = re.compile(rb"<link[^>]*rel=\"(?:shortcut )?icon\"[^>]*href=\"(https://[^\"]+)\"")

FIXED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _origins(pattern: re.Pattern[bytes], page: bytes) -> list[str]:
    found = []
    for match in pattern.finditer(page):
        url = next(group for group in match.groups() if group).decode()
        parts = urlsplit(url)
        found.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(found))


def content_security_policy(page: bytes) -> str:
    """The policy for one docs page: exactly the origins and inline scripts it has, nothing more."""
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
              for script in _INLINE_SCRIPT.findall(page)]
    scripts = " ".join([*_origins(_SCRIPT_SOURCE, page), *hashes]) or "'none'"
    styles = " ".join(_origins(_STYLESHEET, page))
    images = " ".join(_origins(_IMAGE, page))
    return "; ".join([
        "default-src 'none'",
        f"script-src {scripts}",
        # Swagger UI sets style attributes as it renders (syntax highlighting, expanders).
        f"style-src 'self' 'unsafe-inline' {styles}".rstrip(),
        f"img-src 'self' data: {images}".rstrip(),
        f"font-src 'self' {styles}".rstrip(),
        "connect-src 'self'",
        "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


class DocsSecurityHeadersMiddleware:
    """Holds a docs page's answer (a few kilobytes) to compute its policy, then sends it with the headers."""

    def __init__(self, app: ASGIApp, *, paths: frozenset[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def held(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                assert start is not None
                page = bytes(body)
                headers = [(name, value) for name, value in start.get("headers", [])
                           if name.lower() not in (b"content-security-policy", b"x-frame-options")]
                headers += [(name.lower().encode(), value.encode()) for name, value in FIXED_HEADERS.items()]
                headers.append((b"content-security-policy", content_security_policy(page).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, held)
