"""Test helpers for portal pages: a cookie-keeping browser stand-in, and reading what a page shows."""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Role
from partnerdesk.core.desk import Desk
from tests.support.actors import DEFAULT_PARTNER

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)
# Test agents' passwords are hashed with light argon2 parameters: verifying reads the parameters
# from the hash, so signing in stays fast in tests while going through the real sign-in code.
_LIGHT_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_PASSWORD_HASH = _LIGHT_HASHER.hash(PASSWORD)


class _PageReader(HTMLParser):
    """Collects the visible text, the hidden CSRF field and the field error messages of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.csrf_token: str | None = None
        self.field_errors: dict[str, str] = {}
        self.h1: str = ""
        self._error_field: str | None = None
        self._in_h1 = False
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("style", "script", "title"):
            self._skip_depth += 1
        if tag == "input" and attributes.get("name") == "csrf_token":
            self.csrf_token = attributes.get("value")
        if tag == "p" and "field__error" in (attributes.get("class") or ""):
            self._error_field = (attributes.get("id") or "").removesuffix("-error")
            self.field_errors[self._error_field] = ""
        if tag == "h1":
            self._in_h1 = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip_depth -= 1
        if tag == "p":
            self._error_field = None
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        self.text.append(data)
        if self._error_field is not None:
            self.field_errors[self._error_field] = (self.field_errors[self._error_field] + data).strip()
        if self._in_h1:
            self.h1 += data


@dataclass
class Page:
    """What a browser would show of an HTML answer."""

    status_code: int
    html: str
    text: str
    h1: str
    csrf_token: str | None
    field_errors: dict[str, str]

    @classmethod
    def of(cls, response) -> Page:
        reader = _PageReader()
        reader.feed(response.text)
        text = re.sub(r"\s+", " ", " ".join(reader.text)).strip()
        # The visually hidden "Error:" prefix is for screen readers; compare the message itself.
        errors = {name: message.removeprefix("Error:").removeprefix("Erreur :").strip()
                  for name, message in reader.field_errors.items()}
        return cls(response.status_code, response.text, text, reader.h1.strip(), reader.csrf_token, errors)

    def shows(self, words: str) -> bool:
        return re.sub(r"\s+", " ", words) in self.text


@dataclass
class PortalBrowser:
    """One browser: its own cookies, redirects not followed unless asked, the last CSRF token seen."""

    client: TestClient
    email: str | None = None
    csrf_token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, app, *, accept_language: str | None = None) -> PortalBrowser:
        client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        headers = {"Accept": "text/html"} | ({"Accept-Language": accept_language} if accept_language else {})
        return cls(client=client, headers=headers)

    def get(self, path: str, **kwargs: Any):
        response = self.client.get(path, headers=self.headers | kwargs.pop("headers", {}), **kwargs)
        self._remember_token(response)
        return response

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: Any):
        """Posts a form with this session's CSRF token (fetched from a page first if none seen yet)."""
        form = dict(data or {})
        if csrf:
            if self.csrf_token is None:
                self.get("/signin")
            form.setdefault("csrf_token", self.csrf_token)
        response = self.client.post(path, data=form, headers=self.headers | kwargs.pop("headers", {}), **kwargs)
        self._remember_token(response)
        return response

    def page(self, path: str) -> Page:
        return Page.of(self.get(path))

    def follow(self, response) -> Page:
        """The page a redirect leads to (one hop), as the browser would load it."""
        assert response.status_code in (302, 303), (response.status_code, response.text[:500])
        return self.page(response.headers["location"])

    def sign_in(self, email: str, password: str = PASSWORD, *, next_path: str | None = None):
        self.csrf_token = None
        self.get("/signin")
        response = self.post("/signin", {"email": email, "password": password, "next": next_path or ""})
        if response.status_code == 303:
            self.email = email
            # Signing in starts a new session with a new token; load a page to learn it.
            self.csrf_token = None
            self.get(response.headers["location"], follow_redirects=True)
        return response

    def _remember_token(self, response) -> None:
        if "text/html" in response.headers.get("content-type", ""):
            token = Page.of(response).csrf_token
            if token:
                self.csrf_token = token


def new_agent(desk: Desk, role: Role, partner: str | None = DEFAULT_PARTNER, *,
              password: str = PASSWORD, language: str | None = None, name: str = "") -> str:
    """A new agent with a portal password; returns its email."""
    email = f"portal.{role.value}.{next(_numbers)}.{uuid.uuid4().hex[:6]}@test.example"
    with desk.database.session() as db:
        agent = accounts.add_agent(db, email=email, role=role, now=desk.clock.now(),
                                   partner_name=None if role is Role.operator else partner,
                                   preferred_language=language, display_name=name)
        agent.password_hash = _PASSWORD_HASH if password == PASSWORD else _LIGHT_HASHER.hash(password)
    return email


def signed_in(app, desk: Desk, role: Role, partner: str | None = DEFAULT_PARTNER, *,
              accept_language: str | None = None, language: str | None = None) -> PortalBrowser:
    """A browser in which a new agent of `role` has signed in."""
    browser = PortalBrowser.open(app, accept_language=accept_language)
    response = browser.sign_in(new_agent(desk, role, partner, language=language))
    assert response.status_code == 303, response.text
    return browser
