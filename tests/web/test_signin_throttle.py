"""Sign-in throttling: per account and per IP address, with the wait said plainly, an activity-log entry, and
the same for API tokens; counted in memory or in the database (which a restart does not forget)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.core.throttling import ThrottleCounter
from partnerdesk.policies import service as policies
from tests.support.portal import PASSWORD, Page, PortalBrowser, new_agent
from tests.support.served import UVICORN_FACTORY, served

pytestmark = pytest.mark.both_engines

THROTTLED_EN = "Too many failed sign-ins for this account or from this address. Try again in 15 minutes."
THROTTLED_FR = "Trop d’échecs de connexion pour ce compte ou depuis cette adresse. Réessayez dans 15 minutes."


@pytest.fixture(params=["memory", "database"])
def throttle_storage(request, settings) -> str:
    settings.throttle_storage = request.param
    return request.param


def set_policy(desk, key: str, value) -> None:
    with desk.database.session() as db:
        policies.set_policy(db, key=key, value=value, principal=None, now=desk.clock.now())


def throttling_records(desk) -> list[ActivityRecord]:
    with desk.database.session(write=False) as db:
        return list(db.scalars(select(ActivityRecord).where(ActivityRecord.action == "signin.throttled")
                               .order_by(ActivityRecord.id)))


def test_twenty_wrong_passwords_throttle_the_account_until_the_wait_passes(throttle_storage, desk, clock):
    app = create_app(desk=desk)
    email = new_agent(desk, Role.admin_agent)
    browser = PortalBrowser.open(app)
    answers = [browser.sign_in(email, "wrong password") for _ in range(20)]
    assert [answer.status_code for answer in answers[:9]] == [400] * 9
    assert all(Page.of(answer).shows("The email address or the password is not right.") for answer in answers[:9])
    # The tenth failure uses up the account's 10 (signin_failures_per_account); it and all after say the wait.
    assert [answer.status_code for answer in answers[9:]] == [429] * 11
    assert all(Page.of(answer).shows(THROTTLED_EN) for answer in answers[9:])
    assert answers[-1].headers["Retry-After"] == "900"
    assert browser.sign_in(email, PASSWORD).status_code == 429
    clock.advance(timedelta(minutes=14, seconds=59))
    refused = browser.sign_in(email, PASSWORD)
    assert refused.status_code == 429 and Page.of(refused).shows(
        "Too many failed sign-ins for this account or from this address. Try again in 1 minute.")
    clock.advance(timedelta(seconds=1))
    assert browser.sign_in(email, PASSWORD).status_code == 303
    # Throttling started once: one entry, for the operator and the agent's partner to read.
    records = throttling_records(desk)
    assert len(records) == 1
    with desk.database.session(write=False) as db:
        agent = accounts.get_agent_by_email(db, email)
    assert records[0].partner_id == agent.partner_id and records[0].object_id == agent.id
    assert records[0].details["email"] == email and records[0].details["limits"] == ["account"]
    assert records[0].details["channel"] == "portal" and records[0].details["retryAfterSeconds"] == 900
    assert "wrong password" not in str(records[0].details) and PASSWORD not in str(records[0].details)
    if throttle_storage == "database":
        with desk.database.session(write=False) as db:
            keys = list(db.scalars(select(ThrottleCounter.key)))
        assert keys and not any(email in key or "testclient" in key for key in keys)


def test_the_wait_is_said_in_french(desk):
    app = create_app(desk=desk)
    set_policy(desk, "signin_failures_per_account", 2)
    email = new_agent(desk, Role.sales_agent)
    browser = PortalBrowser.open(app, accept_language="fr")
    browser.sign_in(email, "nope")
    answer = browser.sign_in(email, "nope")
    assert answer.status_code == 429 and Page.of(answer).shows(THROTTLED_FR)
    assert f'value="{email}"' in answer.text


def test_a_right_password_forgets_the_account_s_failures(desk):
    app = create_app(desk=desk)
    email = new_agent(desk, Role.helpdesk_agent)
    browser = PortalBrowser.open(app)
    for _ in range(9):
        assert browser.sign_in(email, "wrong").status_code == 400
    assert browser.sign_in(email, PASSWORD).status_code == 303
    browser.post("/signout")
    for _ in range(9):
        assert browser.sign_in(email, "wrong").status_code == 400
    assert browser.sign_in(email, PASSWORD).status_code == 303


def test_one_address_trying_many_accounts_is_throttled_and_others_are_not(desk, clock):
    app = create_app(desk=desk)
    set_policy(desk, "signin_failures_per_ip", 5)
    attacker = PortalBrowser.open(app)
    for number in range(5):
        attacker.sign_in(f"guess{number}@test.example", "guess")
    victim = new_agent(desk, Role.admin_agent)
    refused = attacker.sign_in(victim, PASSWORD)
    assert refused.status_code == 429 and Page.of(refused).shows(THROTTLED_EN)
    elsewhere = PortalBrowser(client=TestClient(app, follow_redirects=False, client=("203.0.113.7", 50000)),
                              headers={"Accept": "text/html"})
    assert elsewhere.sign_in(victim, PASSWORD).status_code == 303
    [record] = throttling_records(desk)
    assert record.details["limits"] == ["address"] and record.details["ipAddress"] == "testclient"
    assert record.partner_id is None  # an unknown email names no partner: for the operator to read
    clock.advance(timedelta(minutes=15))
    assert attacker.sign_in(victim, PASSWORD).status_code == 303


def test_unknown_api_tokens_throttle_the_address_and_the_right_token_waits_too(throttle_storage, desk, actors, clock):
    app = create_app(desk=desk)
    set_policy(desk, "signin_failures_per_ip", 20)
    caller = actors(Role.sales_agent)
    client = TestClient(app, client=("198.51.100.4", 40000))
    answers = [client.get("/v1/customers", headers={"Authorization": f"Bearer pdk_guess{number}"})
               for number in range(25)]
    assert [answer.status_code for answer in answers[:19]] == [401] * 19
    assert answers[0].json()["description"] == "The API token is unknown or has been revoked."
    assert [answer.status_code for answer in answers[19:]] == [429] * 6
    assert answers[-1].headers["Retry-After"] == "900"
    body = answers[-1].json()
    assert (body["code"], body["data"]) == (1801, [900])
    assert body["description"] == ("Too many requests with an unknown or revoked API token came from this address; "
                                   "try again in 900 seconds.")
    right = client.get("/v1/customers", headers=caller.headers())
    assert right.status_code == 429
    # Another address is served; the throttled one is again once the period is over.
    assert TestClient(app, client=("198.51.100.5", 40000)).get("/v1/customers", headers=caller.headers()
                                                                ).status_code == 200
    clock.advance(timedelta(minutes=15))
    assert client.get("/v1/customers", headers=caller.headers()).status_code == 200
    [record] = throttling_records(desk)
    assert record.details["channel"] == "api" and record.details["ipAddress"] == "198.51.100.4"
    # A request without any token is a mistake, not a guess: it is not counted.
    for _ in range(25):
        assert client.get("/v1/customers").status_code == 401
    assert client.get("/v1/customers", headers=caller.headers()).status_code == 200


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_throttling_survives_a_server_restart_on_postgresql(settings, desk, monkeypatch, tmp_path):
    """Two server processes one after the other on one PostgreSQL database: the second still refuses."""
    monkeypatch.setenv("PARTNERDESK_THROTTLE_STORAGE", "database")
    email = new_agent(desk, Role.admin_agent)

    def sign_in(base: str, password: str) -> httpx.Response:
        with httpx.Client(base_url=base, follow_redirects=False) as browser:
            csrf = Page.of(browser.get("/signin")).csrf_token
            return browser.post("/signin", data={"email": email, "password": password, "csrf_token": csrf})

    with served(settings, UVICORN_FACTORY, log=tmp_path / "first.log") as (base, _process):
        statuses = [sign_in(base, "wrong password").status_code for _ in range(10)]
    assert statuses == [400] * 9 + [429]
    with served(settings, UVICORN_FACTORY, log=tmp_path / "second.log") as (base, _process):
        refused = sign_in(base, PASSWORD)
    assert refused.status_code == 429 and Page.of(refused).shows("Try again in 15 minutes.")
    assert int(refused.headers["Retry-After"]) > 800
