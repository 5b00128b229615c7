"""The API's documentation pages send the same protective headers as the portal's pages, with a
Content-Security-Policy that allows exactly what Swagger UI loads."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

import pytest

from partnerdesk.web.rendering import PAGE_HEADERS


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in (item.strip() for item in policy.split(";")) if part}


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
def test_the_docs_pages_send_the_portals_protective_headers(client, path):
    answer = client.get(path)
    assert answer.status_code == 200
    for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert answer.headers[name] == PAGE_HEADERS[name]
    policy = directives(answer.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"] and policy["default-src"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
def test_the_policy_allows_each_inline_script_by_its_hash_and_nothing_else_inline(client, path):
    answer = client.get(path)
    policy = directives(answer.headers["content-security-policy"])
    inline = re.findall(r"<script>(.*?)</script>", answer.text, re.DOTALL)
    assert inline
    allowed = {f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'" for script in inline}
    assert {source for source in policy["script-src"] if source.startswith("'sha256-")} == allowed


def test_the_policy_allows_the_swagger_ui_assets_and_fetching_the_openapi_document(client):
    answer = client.get("/docs")
    policy = directives(answer.headers["content-security-policy"])

    def origin(url: str) -> str:
        return f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"

    scripts = re.findall(r'<script src="([^"]+)"', answer.text)
    styles = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', answer.text)
    icons = re.findall(r'<link rel="shortcut icon" href="([^"]+)"', answer.text)
    assert scripts and styles
    assert all(origin(url) in policy["script-src"] for url in scripts)
    assert all(origin(url) in policy["style-src"] for url in styles)
    assert all(origin(url) in policy["img-src"] for url in icons)
    assert "/openapi.json" in answer.text and policy["connect-src"] == ["'self'"]


def test_the_api_answers_keep_their_own_headers(client):
    assert "content-security-policy" not in client.get("/healthz").headers
    assert client.get("/openapi.json").status_code == 200
