"""Portal sessions kept on the server: a copied cookie is worth nothing once its session ends (sign-out,
password change, revocation, timeouts), and the cookie holds only an opaque token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Agent, PortalSession, Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.core.secrets import hash_token
from partnerdesk.policies import service as policies
from partnerdesk.policies.errors import InvalidPolicyValue
from partnerdesk.web.session import SESSION_COOKIE, STATE_COOKIE
from tests.support.portal import PASSWORD, Page, PortalBrowser, new_agent, signed_in

pytestmark = pytest.mark.both_engines


def copy_of(app, browser: PortalBrowser) -> PortalBrowser:
    """Another browser holding a copy of `browser`'s cookies, as someone who stole them would."""
    thief = PortalBrowser.open(app)
    for name in (SESSION_COOKIE, STATE_COOKIE):
        value = browser.client.cookies.get(name)
        if value is not None:
            thief.client.cookies.set(name, value)
    return thief


def is_signed_in(browser: PortalBrowser) -> bool:
    """The home page leads a signed-in agent to its first page, anyone else to sign in."""
    response = browser.get("/")
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200 or response.headers["location"] != "/signin"


def test_a_cookie_copied_before_sign_out_fails_after_it(app, desk):
    browser = signed_in(app, desk, Role.admin_agent)
    thief = copy_of(app, browser)
    assert is_signed_in(thief)
    signed_out = browser.post("/signout")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/signin"
    assert any(header.startswith(f"{SESSION_COOKIE}=") and "max-age=0" in header.lower()
               for header in signed_out.headers.get_list("set-cookie"))
    assert not is_signed_in(thief)
    assert thief.get("/customers").headers["location"] == "/signin?next=%2Fcustomers"
    assert not is_signed_in(browser)
    assert browser.follow(browser.get("/customers")).h1 == "Sign in to Partner Desk"


def test_the_cookie_holds_only_a_random_token_whose_hash_is_stored(app, desk):
    email = new_agent(desk, Role.sales_agent, name="Samuel Sales")
    browser = PortalBrowser.open(app)
    response = browser.sign_in(email)
    token = browser.client.cookies.get(SESSION_COOKIE)
    cookie = next(header for header in response.headers.get_list("set-cookie")
                  if header.startswith(SESSION_COOKIE + "="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    with desk.database.session(write=False) as db:
        agent = db.scalar(select(Agent).where(Agent.email == email))
        rows = db.scalars(select(PortalSession).where(PortalSession.agent_id == agent.id)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hash_token(token) and token not in rows[0].token_hash
    assert agent.id not in token and "." not in token and len(token) >= 43  # 256 random bits, no payload
    assert rows[0].user_agent and rows[0].ip_address == "testclient"
    # Another sign-in is another session with another token.
    second = PortalBrowser.open(app)
    second.sign_in(email)
    assert second.client.cookies.get(SESSION_COOKIE) != token


def test_an_unknown_or_forged_token_signs_nobody_in(app, desk):
    signed_in(app, desk, Role.admin_agent)
    forger = PortalBrowser.open(app)
    forger.client.cookies.set(SESSION_COOKIE, "x" * 43)
    assert not is_signed_in(forger)
    forger.client.cookies.set(SESSION_COOKIE, "y" * 5000)
    assert not is_signed_in(forger)


def test_an_idle_session_ends_after_the_policy_s_minutes_and_use_keeps_it_alive(app, desk, clock):
    browser = signed_in(app, desk, Role.helpdesk_agent)
    for _ in range(3):  # used every 100 minutes: each use moves the idle limit (120 minutes by default)
        clock.advance(timedelta(minutes=100))
        assert is_signed_in(browser)
    clock.advance(timedelta(minutes=120))
    assert not is_signed_in(browser)


def test_a_session_ends_after_the_policy_s_hours_however_busy(app, desk, clock):
    browser = signed_in(app, desk, Role.sales_agent)
    for _ in range(11):
        clock.advance(timedelta(hours=1))
        assert is_signed_in(browser)
    clock.advance(timedelta(minutes=59))
    assert is_signed_in(browser)
    clock.advance(timedelta(minutes=1))
    assert not is_signed_in(browser)


def test_the_operator_s_timeout_policies_take_effect_on_open_sessions(app, desk, clock):
    browser = signed_in(app, desk, Role.admin_agent)
    with desk.database.session() as db:
        policies.set_policy(db, key="portal_session_idle_minutes", value=10, principal=None, now=clock.now())
    clock.advance(timedelta(minutes=9))
    assert is_signed_in(browser)
    clock.advance(timedelta(minutes=10))
    assert not is_signed_in(browser)
    with pytest.raises(InvalidPolicyValue, match="whole number from 5 to 10080"), desk.database.session() as db:
        policies.set_policy(db, key="portal_session_idle_minutes", value=1, principal=None, now=clock.now())


def test_a_password_change_ends_the_agent_s_other_sessions(app, desk, clock):
    email = new_agent(desk, Role.admin_agent)
    first, second = PortalBrowser.open(app), PortalBrowser.open(app)
    first.sign_in(email)
    second.sign_in(email)
    thief = copy_of(app, second)
    with desk.database.session() as db:
        agent = accounts.get_agent_by_email(db, email)
        kept = db.scalars(select(PortalSession.id).where(PortalSession.agent_id == agent.id)
                          .order_by(PortalSession.created_at)).first()
        ended = accounts.set_password(db, agent, "a brand new password", now=clock.now(), keep_session_id=kept)
    assert ended == 1
    assert not is_signed_in(second) and not is_signed_in(thief)
    with desk.database.session() as db:
        agent = accounts.get_agent_by_email(db, email)
        assert accounts.set_password(db, agent, "yet another password", now=clock.now()) == 1
    assert not is_signed_in(first)
    with desk.database.session(write=False) as db:
        reasons = set(db.scalars(select(PortalSession.revoked_reason)))
    assert reasons == {"password_changed"}


def test_a_disabled_agent_is_signed_out_at_once(app, desk):
    browser = signed_in(app, desk, Role.sales_agent)
    with desk.database.session() as db:
        agent = accounts.get_agent_by_email(db, browser.email)
        agent.is_active = False
    assert not is_signed_in(browser)


def test_an_admin_agent_ends_another_agent_s_session_from_the_agents_page(app, desk):
    admin = signed_in(app, desk, Role.admin_agent)
    sales_email = new_agent(desk, Role.sales_agent, name="Sam Sales")
    sales = PortalBrowser.open(app, accept_language="en")
    sales.sign_in(sales_email)
    with desk.database.session(write=False) as db:
        agent = accounts.get_agent_by_email(db, sales_email)
        session_id = db.scalar(select(PortalSession.id).where(PortalSession.agent_id == agent.id))
    page = admin.page(f"/agents/{agent.id}")
    assert page.h1 == "Sam Sales" and page.shows("1 open session")
    response = admin.post(f"/agents/{agent.id}/sessions/{session_id}/revoke")
    assert response.status_code == 303
    assert admin.follow(response).shows("The session is ended: whoever held it must sign in again.")
    assert not is_signed_in(sales)
    assert is_signed_in(admin)
    with desk.database.session(write=False) as db:
        record = db.scalar(select(ActivityRecord).where(ActivityRecord.action == "session.revoked"))
    assert record.object_id == agent.id and record.agent_email == admin.email
    assert record.partner_id == agent.partner_id


def test_ending_one_s_own_session_signs_one_out(app, desk):
    admin = signed_in(app, desk, Role.admin_agent)
    with desk.database.session(write=False) as db:
        agent = accounts.get_agent_by_email(db, admin.email)
        session_id = db.scalar(select(PortalSession.id).where(PortalSession.agent_id == agent.id))
    page = admin.page(f"/agents/{agent.id}")
    assert page.shows("(this session)")
    response = admin.post(f"/agents/{agent.id}/sessions/{session_id}/revoke")
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert not is_signed_in(admin)


def test_the_operator_ends_any_partner_s_session_and_an_admin_cannot_reach_another_partner(app, desk):
    operator = signed_in(app, desk, Role.operator)
    rival_admin = signed_in(app, desk, Role.admin_agent, partner="Rival")
    victim = signed_in(app, desk, Role.billing_admin)
    with desk.database.session(write=False) as db:
        agent = accounts.get_agent_by_email(db, victim.email)
        session_id = db.scalar(select(PortalSession.id).where(PortalSession.agent_id == agent.id))
    refused = rival_admin.post(f"/agents/{agent.id}/sessions/{session_id}/revoke")
    assert refused.status_code == 404
    assert rival_admin.get(f"/agents/{agent.id}").status_code == 404
    assert is_signed_in(victim)
    assert operator.post(f"/agents/{agent.id}/sessions/{session_id}/revoke").status_code == 303
    assert not is_signed_in(victim)


def test_a_session_of_another_agent_cannot_be_ended_through_one_s_own_agent(app, desk):
    admin = signed_in(app, desk, Role.admin_agent)
    other = signed_in(app, desk, Role.sales_agent)
    with desk.database.session(write=False) as db:
        own = accounts.get_agent_by_email(db, admin.email)
        other_agent = accounts.get_agent_by_email(db, other.email)
        other_session = db.scalar(select(PortalSession.id).where(PortalSession.agent_id == other_agent.id))
    response = admin.post(f"/agents/{own.id}/sessions/{other_session}/revoke")
    assert response.status_code == 404
    assert Page.of(response).status_code == 404
    assert is_signed_in(other)


@pytest.mark.parametrize("role", list(Role))
def test_every_agent_changes_its_password_and_its_other_sessions_end(app, desk, role):
    email = new_agent(desk, role)
    here, elsewhere = PortalBrowser.open(app), PortalBrowser.open(app)
    here.sign_in(email)
    elsewhere.sign_in(email)
    form = here.page("/account/password")
    assert form.status_code == 200 and form.h1 == "Change your password"
    response = here.post("/account/password", {"current_password": PASSWORD, "new_password": "new secret words",
                                               "confirmation": "new secret words"})
    assert response.status_code == 303
    assert here.follow(response).shows("Your password is changed, and your 1 other session is signed out.")
    assert is_signed_in(here) and not is_signed_in(elsewhere)
    assert elsewhere.sign_in(email, PASSWORD).status_code == 400
    assert elsewhere.sign_in(email, "new secret words").status_code == 303
    with desk.database.session(write=False) as db:
        record = db.scalar(select(ActivityRecord).where(ActivityRecord.action == "password.changed"))
    assert record.agent_email == email and record.details == {"endedSessions": 1}
    assert "new secret words" not in str(record.details)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"current_password": "not it", "new_password": "abcdef", "confirmation": "abcdef"},
     "current_password", "This is not your current password."),
    ({"current_password": PASSWORD, "new_password": "abcdef", "confirmation": "abcdeg"},
     "confirmation", "Type the same new password twice."),
    ({"current_password": PASSWORD, "new_password": "abc", "confirmation": "abc"},
     "new_password", "Use at least 4 characters."),
])
def test_a_refused_password_change_says_why_beside_the_field_and_changes_nothing(app, desk, fields, field,
                                                                                 message):
    browser = signed_in(app, desk, Role.sales_agent)
    other = copy_of(app, browser)
    page = Page.of(browser.post("/account/password", fields))
    assert page.status_code == 400 and page.field_errors == {field: message}
    assert page.shows("There is a problem")
    assert is_signed_in(other)
    browser.post("/signout")
    assert browser.sign_in(browser.email, PASSWORD).status_code == 303


def test_guessing_the_current_password_is_throttled_like_signing_in(app, desk):
    browser = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    wrong = {"current_password": "guess", "new_password": "abcdef", "confirmation": "abcdef"}
    statuses = [browser.post("/account/password", wrong).status_code for _ in range(10)]
    assert statuses == [400] * 9 + [429]
    right = browser.post("/account/password", {**wrong, "current_password": PASSWORD})
    assert right.status_code == 429 and Page.of(right).shows("Réessayez dans 15 minutes.")


def test_a_page_nobody_serves_keeps_the_header_of_a_live_session_only(app, desk):
    browser = signed_in(app, desk, Role.admin_agent)
    thief = copy_of(app, browser)
    missing = Page.of(thief.get("/no/such/page"))
    assert missing.status_code == 404 and 'action="/signout"' in missing.html
    browser.post("/signout")
    missing = Page.of(thief.get("/no/such/page"))
    assert missing.status_code == 404 and 'action="/signout"' not in missing.html
