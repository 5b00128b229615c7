"""Test factories for callers: an agent of a given role, with an API token, ready to call the API."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Role
from partnerdesk.core.desk import Desk

DEFAULT_PARTNER = "Contoso Reseller"
_numbers = itertools.count(1)


@dataclass
class Caller:
    """An agent holding a token; `.get/.post/...` call the API as that agent."""

    client: TestClient
    token: str
    role: Role
    email: str
    partner: str | None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def request(self, method: str, path: str, *, request_id: str | None = None, **kwargs: Any):
        headers = self.headers(kwargs.pop("headers", None))
        if request_id:
            headers["MS-RequestId"] = request_id
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any):
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.request("DELETE", path, **kwargs)


@dataclass
class Actors:
    desk: Desk
    client: TestClient
    _cache: dict[tuple[Role, str | None], Caller] = field(default_factory=dict)

    def new(self, role: Role, partner: str | None = DEFAULT_PARTNER, *, password: str | None = None) -> Caller:
        """A brand-new agent of `role` (the operator gets no partner)."""
        partner = None if role is Role.operator else partner
        email = f"{role.value}.{next(_numbers)}.{uuid.uuid4().hex[:6]}@test.example"
        with self.desk.database.session() as db:
            agent = accounts.add_agent(db, email=email, role=role, now=self.desk.clock.now(),
                                       partner_name=partner, password=password)
            token = accounts.issue_token(db, agent, now=self.desk.clock.now())
        return Caller(client=self.client, token=token, role=role, email=email, partner=partner)

    def __call__(self, role: Role, partner: str | None = DEFAULT_PARTNER) -> Caller:
        """The same agent every time for (role, partner) within one test."""
        key = (role, None if role is Role.operator else partner)
        if key not in self._cache:
            self._cache[key] = self.new(role, partner)
        return self._cache[key]


def customer_body(domain: str | None = None, country: str = "FR", **overrides: Any) -> dict[str, Any]:
    domain = domain or f"tenant-{uuid.uuid4().hex[:10]}.onmicrosoft.com"
    body = {
        "companyProfile": {"domain": domain, "companyName": overrides.pop("company_name", "Fabrikam")},
        "billingProfile": {
            "companyName": "Fabrikam",
            "email": "it@fabrikam.fr",
            "culture": overrides.pop("culture", "fr-FR"),
            "language": overrides.pop("language", "fr"),
            "defaultAddress": {"country": country, "city": "Lyon", "addressLine1": "1 place Bellecour",
                               "postalCode": "69002"},
        },
    }
    return body
