"""The Agents pages: an admin agent manages its partner's agents' API tokens and sessions, the operator every
partner's; other roles are refused; a new token is shown once and works at once; English and French."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import ApiToken, Role
from partnerdesk.audit.models import ActivityRecord
from tests.support.portal import Page, new_agent, signed_in

NON_MANAGERS = [Role.sales_agent, Role.helpdesk_agent, Role.billing_admin]


def agent_id(desk, email: str) -> str:
    with desk.database.session(write=False) as db:
        return accounts.get_agent_by_email(db, email).id


def shown_token(page: Page) -> str:
    match = re.search(r'id="new-token" value="(pdk_[A-Za-z0-9_-]+)"', page.html)
    assert match, page.text[:500]
    return match.group(1)


@pytest.mark.parametrize("role", NON_MANAGERS)
def test_roles_that_manage_no_agent_are_refused_every_agents_page(app, desk, role):
    browser = signed_in(app, desk, role)
    target = agent_id(desk, browser.email)
    assert 'href="/agents"' not in browser.follow(browser.get("/")).html
    for path in ("/agents", f"/agents/{target}"):
        assert browser.get(path).status_code == 403
    for path in (f"/agents/{target}/tokens", f"/agents/{target}/tokens/x/revoke",
                 f"/agents/{target}/sessions/x/revoke"):
        assert browser.post(path).status_code == 403
    with desk.database.session(write=False) as db:
        assert db.scalar(select(ApiToken.id)) is None


def test_a_signed_out_visitor_is_sent_to_sign_in(app):
    from tests.support.portal import PortalBrowser

    visitor = PortalBrowser.open(app)
    assert visitor.get("/agents").headers["location"] == "/signin?next=%2Fagents"


def test_the_admin_agent_sees_its_partner_s_agents_with_roles_and_counts(app, desk):
    admin = signed_in(app, desk, Role.admin_agent)
    new_agent(desk, Role.sales_agent, name="Sofia Sales")
    new_agent(desk, Role.sales_agent, partner="Rival", name="Rita Rival")
    page = admin.page("/agents")
    assert page.status_code == 200 and page.h1 == "Agents"
    assert page.shows("Contoso Reseller · 2 agents")
    assert page.shows("Sofia Sales") and page.shows("Sales agent")
    assert not page.shows("Rita Rival") and not page.shows("Rival")
    assert '<a href="/agents"' in page.html  # in the main navigation
    rival = agent_id(desk, next(iter(_emails_of(desk, "Rival"))))
    assert admin.get(f"/agents/{rival}").status_code == 404


def _emails_of(desk, partner_name: str) -> list[str]:
    with desk.database.session(write=False) as db:
        return [agent.email for agent, partner in accounts.list_agents(db) if partner and partner.name == partner_name]


def test_the_operator_sees_every_partner_and_its_agents(app, desk):
    operator = signed_in(app, desk, Role.operator)
    new_agent(desk, Role.sales_agent, name="Sofia Sales")
    new_agent(desk, Role.admin_agent, partner="Rival", name="Rita Rival")
    page = operator.page("/agents")
    assert page.shows("Contoso Reseller · 1 agent") and page.shows("Rival · 1 agent")
    assert page.shows("Operators · 1 agent")
    assert page.shows("Sofia Sales") and page.shows("Rita Rival") and page.shows("Admin agent")
    assert page.text.index("Operators") < page.text.index("Contoso Reseller") < page.text.index("Rival ·")


@pytest.mark.parametrize("manager", [Role.admin_agent, Role.operator])
def test_a_new_token_is_shown_once_works_at_once_and_is_revoked_from_the_page(app, desk, client, manager):
    browser = signed_in(app, desk, manager)
    sales_email = new_agent(desk, Role.sales_agent, name="Sofia Sales")
    target = agent_id(desk, sales_email)
    assert browser.page(f"/agents/{target}").shows("This agent has no API token.")
    created = browser.post(f"/agents/{target}/tokens")
    assert created.status_code == 201
    page = Page.of(created)
    assert page.shows("Copy it now: it is shown only this once")
    token = shown_token(page)
    assert client.get("/v1/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again = browser.page(f"/agents/{target}")
    assert token not in again.html and again.shows(f"{token[:12]}…") and again.shows("1 API token")
    with desk.database.session(write=False) as db:
        token_id = db.scalar(select(ApiToken.id).where(ApiToken.agent_id == target))
        records = db.scalars(select(ActivityRecord).where(ActivityRecord.action.like("token.%"))).all()
    assert [record.action for record in records] == ["token.created"]
    assert token not in str(records[0].details) and records[0].details["tokenPrefix"] == token[:12]
    revoked = browser.post(f"/agents/{target}/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert browser.follow(revoked).shows(f"The API token {token[:12]}… is revoked.")
    assert client.get("/v1/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert browser.page(f"/agents/{target}").shows("Revoked on")


def test_another_partner_s_admin_can_neither_create_nor_revoke_tokens(app, desk):
    rival = signed_in(app, desk, Role.admin_agent, partner="Rival")
    target = agent_id(desk, new_agent(desk, Role.sales_agent))
    assert rival.post(f"/agents/{target}/tokens").status_code == 404
    with desk.database.session() as db:
        accounts.issue_token(db, accounts.get_agent_by_email(db, _emails_of(desk, "Contoso Reseller")[0]),
                             now=desk.clock.now())
        token_id = db.scalar(select(ApiToken.id))
    assert rival.post(f"/agents/{target}/tokens/{token_id}/revoke").status_code == 404
    with desk.database.session(write=False) as db:
        tokens = db.scalars(select(ApiToken)).all()
    assert len(tokens) == 1 and tokens[0].revoked_at is None


def test_the_agents_pages_speak_french(app, desk):
    admin = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    target = agent_id(desk, new_agent(desk, Role.helpdesk_agent, name="Hugo Helpdesk"))
    listing = admin.page("/agents")
    assert listing.h1 == "Agents" and listing.shows("Contoso Reseller · 2 agents")
    assert listing.shows("Jetons d’API actifs") and listing.shows("Agent du support")
    page = admin.page(f"/agents/{target}")
    assert page.shows("Sessions du portail") and page.shows("Cet agent n’a aucun jeton d’API.")
    assert page.shows("Créer un jeton d’API")
    created = Page.of(admin.post(f"/agents/{target}/tokens"))
    assert created.shows("Copiez-le maintenant")
