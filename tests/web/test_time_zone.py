"""The reader's time zone: times are shown in it with UTC on hover, chosen on a page of its own, else taken
from the browser (a cookie the page's script sets) or the partner's billing country."""

from __future__ import annotations

import re

from partnerdesk.accounts.models import Role
from partnerdesk.web import i18n
from tests.orders.factories import OFFICE_FR, Shop, load_catalog
from tests.support.portal import Page, PortalBrowser, signed_in


def cart_page_times(browser, shop: Shop, customer_id: str) -> list[tuple[str, str, str]]:
    """(datetime attribute, title, text) of each <time> on the customer's open cart page."""
    cart = shop.cart(customer_id, {"id": 0, "catalogItemId": OFFICE_FR, "quantity": 1, "billingCycle": "one_time"})
    html = browser.page(f"/customers/{customer_id}/carts/{cart.json()['id']}").html
    found = re.findall(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', html)
    return [tuple(part.replace("\u202f", " ") for part in time) for time in found]  # CLDR's narrow space


def test_times_follow_the_partners_country_then_the_browser_then_the_agents_choice(app, desk, actors):
    load_catalog(desk)
    shop = Shop(desk=desk, buyer=actors(Role.sales_agent))
    customer_id = shop.customer("FR")
    browser = signed_in(app, desk, Role.sales_agent)
    # No country, no browser zone, no choice: UTC, saying so.
    expires = cart_page_times(browser, shop, customer_id)[0]
    assert expires[0] == "2026-12-01T10:00:00Z" and expires[2].endswith("UTC")
    assert browser.page("/customers").shows("Times in UTC")

    billing_admin = actors(Role.billing_admin)
    profile = {"companyName": "Contoso Reseller", "country": "FR"}
    assert billing_admin.put("/v1/profiles/billing", json=profile).status_code == 200
    assert cart_page_times(browser, shop, customer_id)[0] == (
        "2026-12-01T10:00:00Z", "Dec 1, 2026, 10:00:00 AM UTC", "Dec 1, 2026, 11:00:00 AM CET")

    browser.client.cookies.set("partnerdesk_browser_time_zone", "America/New_York")
    assert cart_page_times(browser, shop, customer_id)[0][2] == "Dec 1, 2026, 5:00:00 AM EST"
    # A zone that is not one is ignored.
    browser.client.cookies.set("partnerdesk_browser_time_zone", "Mars/Olympus")
    assert cart_page_times(browser, shop, customer_id)[0][2].endswith("CET")

    form = browser.page("/preferences/time-zone?next=/customers")
    assert form.status_code == 200 and '<option value="Asia/Tokyo">Asia/Tokyo</option>' in form.html
    chosen = browser.post("/preferences/time-zone", {"time_zone": "Asia/Tokyo", "next": "/customers"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/customers"
    assert browser.follow(chosen).shows("Times are now shown in Asia/Tokyo.")
    assert cart_page_times(browser, shop, customer_id)[0][2] == "Dec 1, 2026, 7:00:00 PM JST"

    # The choice is the agent's: another browser where the same agent signs in shows the same zone.
    other = PortalBrowser.open(app)
    assert other.sign_in(browser.email).status_code == 303
    assert cart_page_times(other, shop, customer_id)[0][2] == "Dec 1, 2026, 7:00:00 PM JST"

    refused = browser.post("/preferences/time-zone", {"time_zone": "Nowhere/Else", "next": "/customers"})
    assert refused.status_code == 400
    assert cart_page_times(browser, shop, customer_id)[0][2].endswith("JST")
    back = browser.post("/preferences/time-zone", {"time_zone": "", "next": "//evil.example"})
    assert back.headers["location"] == "/"  # only a path of this site
    assert cart_page_times(browser, shop, customer_id)[0][2].endswith("CET")


def test_the_time_zone_page_speaks_french_and_is_for_every_role(app, desk):
    for role in Role:
        browser = signed_in(app, desk, role, accept_language="fr")
        page = browser.page("/preferences/time-zone")
        assert page.status_code == 200 and page.h1 == "Fuseau horaire"
    refused = Page.of(browser.post("/preferences/time-zone", {"time_zone": "Nowhere/Else"}))
    assert refused.shows("Choisissez un fuseau horaire dans la liste.")


def test_a_country_gives_its_most_populous_zone():
    assert i18n.time_zone_of_country("US") == "America/New_York"
    assert i18n.time_zone_of_country("FR") == "Europe/Paris"
    assert i18n.time_zone_of_country("") is None
    assert i18n.choose_time_zone(preferred=None, browser=None, country="ZZ") == "UTC"
