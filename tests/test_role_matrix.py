"""Every API route declares who may call it, and everyone else is refused before anything happens."""

from __future__ import annotations

import re

from partnerdesk.accounts.auth import role_matrix
from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.config import Settings

PUBLIC_ROUTES: set[tuple[str, str]] = {
    # Download links are meant for customers who have no account (R4).
    ("GET", "/v1/downloads/{token}"),
    ("HEAD", "/v1/downloads/{token}"),
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)


def _routes(tmp_path) -> list[tuple[str, str, frozenset[Role] | None]]:
    app = create_app(Settings(data_dir=tmp_path, sandbox=True, secret_key="k"))
    return role_matrix(app)


def test_every_api_route_declares_its_roles(tmp_path):
    undeclared = [(method, path) for method, path, roles in _routes(tmp_path)
                  if roles is None and (method, path) not in PUBLIC_ROUTES]
    assert undeclared == []


def test_the_matrix_names_the_foundation_routes(tmp_path):
    matrix = {(method, path): roles for method, path, roles in _routes(tmp_path)}
    assert matrix[("POST", "/v1/customers")] == {Role.admin_agent, Role.sales_agent}
    assert matrix[("GET", "/v1/activitylogs")] == {Role.operator, Role.admin_agent}
    assert matrix[("POST", "/v1/sandbox/clock")] == {Role.operator}


def test_every_refused_role_gets_403_and_anonymous_gets_401(app, actors, client):
    checked = 0
    for method, path, roles in role_matrix(app):
        if roles is None:
            continue
        url = _concrete(path)
        anonymous = client.request(method, url, json={})
        assert anonymous.status_code == 401, (method, path)
        for role in set(Role) - roles:
            response = actors(role).request(method, url, json={})
            assert response.status_code == 403, (method, path, role, response.text)
            assert response.json()["code"] == 1101
            checked += 1
    assert checked > 0
