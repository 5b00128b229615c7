"""The portal speaks English and French: how the language is chosen, kept, and formatted with."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from partnerdesk.accounts.models import Agent, Role
from partnerdesk.web import i18n, page_modules
from partnerdesk.web.rendering import environment_for
from partnerdesk.web.session import LANGUAGE_COOKIE
from tests.support.portal import Page, PortalBrowser, new_agent, signed_in

BABEL_MAPPING = Path(i18n.__file__).parent / "babel.cfg"


@pytest.mark.parametrize(("header", "expected"), [
    ("fr", "fr"),
    ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
    ("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4", "fr"),
    ("en-GB,fr;q=0.9", "en"),
    ("de", None),
    ("fr;q=0,en", "en"),
    ("*", None),
    (";;;,,q=abc;fr;q=x", None),
    ("fr;q=nan,en;q=1e400", None),
    ("", None),
])
def test_accept_language_is_negotiated_with_babel(header, expected):
    assert i18n.negotiate_language(header) == expected


def test_an_explicit_choice_wins_over_the_browser():
    assert i18n.choose_language(preferred="fr", cookie="en", accept_language="en") == "fr"
    assert i18n.choose_language(preferred=None, cookie="fr", accept_language="en") == "fr"
    assert i18n.choose_language(preferred="xx", cookie="nonsense", accept_language="fr-BE") == "fr"
    assert i18n.choose_language(preferred=None, cookie=None, accept_language=None) == "en"


@pytest.mark.parametrize(("header", "heading", "button"), [
    ("fr-FR,fr;q=0.9", "Connexion à Partner Desk", "Se connecter"),
    ("en-US", "Sign in to Partner Desk", "Sign in"),
    ("ja-JP", "Sign in to Partner Desk", "Sign in"),
])
def test_the_sign_in_page_follows_accept_language(app, header, heading, button):
    page = PortalBrowser.open(app, accept_language=header).page("/signin")
    assert page.h1 == heading
    assert page.shows(button)
    assert f'<html lang="{"fr" if "fr" in header else "en"}">' in page.html


def test_pages_after_sign_in_are_in_french_for_a_french_browser(app, desk):
    page = signed_in(app, desk, Role.admin_agent, accept_language="fr").page("/customers")
    assert page.h1 == "Clients"
    assert page.shows("Ajouter un client")
    assert page.shows("Agent administrateur")


def test_switching_language_signed_out_keeps_it_in_a_cookie(app):
    browser = PortalBrowser.open(app, accept_language="en")
    response = browser.post("/language", {"language": "fr", "next": "/signin"})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    cookie = next(header for header in response.headers.get_list("set-cookie")
                  if header.startswith(LANGUAGE_COOKIE + "="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    page = browser.follow(response)
    assert page.h1 == "Connexion à Partner Desk"
    assert page.shows("Le portail est maintenant en français.")


def test_switching_language_signed_in_is_stored_for_the_agent_everywhere(app, desk):
    browser = signed_in(app, desk, Role.sales_agent, accept_language="en")
    response = browser.post("/language", {"language": "fr", "next": "/customers?q=x"})
    assert response.headers["location"] == "/customers?q=x"
    assert browser.follow(response).h1 == "Clients"
    with desk.database.session(write=False) as db:
        assert db.scalar(select(Agent.preferred_language).where(Agent.email == browser.email)) == "fr"
    # Another browser, English and without the cookie: the agent's choice follows it after sign-in.
    elsewhere = PortalBrowser.open(app, accept_language="en")
    assert elsewhere.page("/signin").h1 == "Sign in to Partner Desk"
    elsewhere.sign_in(browser.email)
    assert elsewhere.page("/customers").h1 == "Clients"
    # And back to English.
    browser.post("/language", {"language": "en", "next": "/customers"})
    assert browser.page("/customers").h1 == "Customers"


def test_an_agent_created_with_a_language_gets_it_at_sign_in(app, desk):
    browser = PortalBrowser.open(app, accept_language="en")
    browser.sign_in(new_agent(desk, Role.helpdesk_agent, language="fr"))
    assert browser.page("/customers").h1 == "Clients"


@pytest.mark.parametrize("language", ["de", "", "fr-FR"])
def test_a_language_not_offered_is_refused(app, language):
    browser = PortalBrowser.open(app)
    response = browser.post("/language", {"language": language, "next": "/signin"})
    assert response.status_code == 400
    assert Page.of(response).h1 == "This language is not offered"


def test_switching_language_returns_only_to_local_pages(app):
    response = PortalBrowser.open(app).post("/language", {"language": "fr", "next": "https://evil.example/"})
    assert response.headers["location"] == "/"


def test_money_dates_and_numbers_are_formatted_for_the_locale():
    assert i18n.format_money(Decimal("1234.5"), "EUR", "fr") == "1\u202f234,50\u00a0€"
    assert i18n.format_money(Decimal("1234.5"), "USD", "en") == "$1,234.50"
    assert i18n.format_number(Decimal("1234567.25"), "fr") == "1\u202f234\u202f567,25"
    with pytest.raises(TypeError):
        i18n.format_money(1234.5, "EUR", "en")  # type: ignore[arg-type]
    moment = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert i18n.format_date(moment, "fr") == "24 nov. 2026"
    assert i18n.format_date(moment, "en") == "Nov 24, 2026"
    assert i18n.format_datetime(moment, "en").endswith("UTC")


def test_country_names_follow_the_locale_and_cover_every_market():
    from partnerdesk.core.markets import all_markets

    french = dict(i18n.country_choices("fr"))
    assert set(french) == set(all_markets())
    assert french["DE"] == "Allemagne"
    assert dict(i18n.country_choices("en"))["DE"] == "Germany"
    assert dict(i18n.culture_choices("fr"))["fr-FR"].startswith("français (France)")


@pytest.fixture(scope="module")
def domains_with_pages() -> list[str]:
    """Imports every domain's web.py, as install_portal does, so their catalogs are registered."""
    modules = page_modules()
    for module in modules:
        importlib.import_module(module)
    return modules


def _msgid(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def test_every_domain_catalog_is_registered(domains_with_pages):
    folders = {folder.parent.name for folder in i18n.catalog_dirs()}
    assert {"web", "customers"} <= folders


@pytest.mark.parametrize("language", list(i18n.LANGUAGES))
def test_every_catalog_matches_the_code_and_french_is_complete(domains_with_pages, language):
    """What pybabel would extract from each domain is in its catalog; French has every translation."""
    with BABEL_MAPPING.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    for folder in i18n.catalog_dirs():
        extracted = extract_from_dir(folder.parent, method_map, options_map)
        msgids = {_msgid(message) for _file, _line, message, _comments, _context in extracted}
        po_path = folder / language / "LC_MESSAGES" / "messages.po"
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        missing = sorted(msgid for msgid in msgids if msgid not in catalog)
        assert missing == [], f"{po_path}: run pybabel extract and update (CONTRIBUTING.md, Portal pages)"
        assert [error for _message, errors in catalog.check() for error in errors] == [], po_path
        if language != i18n.DEFAULT_LANGUAGE:
            untranslated = sorted(_msgid(message.id) for message in catalog
                                  if message.id and _msgid(message.id) in msgids
                                  and (message.fuzzy or not all(_strings(message))))
            assert untranslated == [], f"{po_path}: translate these"


@pytest.mark.parametrize("language", list(i18n.LANGUAGES))
def test_a_message_reads_the_same_in_every_catalog(domains_with_pages, language):
    """The catalogs are merged into one, so a message two domains translate differently would read as
    whichever catalog came last: a cart shown "Ouverte" because a support request is feminine."""
    translations: dict[str, dict[str, str]] = {}
    for folder in i18n.catalog_dirs():
        with (folder / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if message.id and not message.context and all(_strings(message)):
                translations.setdefault(_msgid(message.id), {})[folder.parent.name] = repr(message.string)
    differing = {msgid: by_domain for msgid, by_domain in translations.items() if len(set(by_domain.values())) > 1}
    assert differing == {}


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def test_every_template_compiles_in_both_languages(domains_with_pages):
    for language in i18n.LANGUAGES:
        environment = environment_for(language)
        names = environment.loader.list_templates()
        assert "layout.html" in names and "customers/list.html" in names
        for name in names:
            environment.get_template(name)
