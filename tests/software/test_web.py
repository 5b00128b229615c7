"""The customer's Software tab (rules R3, R4, R5) and its activity page, through the portal's forms."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.software import service
from partnerdesk.software.models import KEY_ISSUED, DownloadLink, ProductKey
from tests.software.factories import CHOICE, SoftwareShop, make_keys
from tests.support.portal import Page, PortalBrowser, signed_in

PARTNER_ROLES = (Role.admin_agent, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin)
# The customer's page (and so its tabs) is open to these; a billing admin has no customer pages at all.
CUSTOMER_READERS = (Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent)
PAGE_CHOICE = {"version": CHOICE["version"], "language": CHOICE["language"], "file_type": CHOICE["fileType"]}
LINK = re.compile(r'href="(http://testserver/v1/downloads/[A-Za-z0-9_-]{43})"')


def tab_url(software: SoftwareShop, software_id: str | None = None, **choice: str) -> str:
    url = f"/customers/{software.customer_id}/software"
    query = ({"software": software_id} if software_id else {}) | choice
    return f"{url}?{urlencode(query)}" if query else url


def reveal(browser: PortalBrowser, software: SoftwareShop, software_id: str, **choice: str):
    return browser.post(f"/customers/{software.customer_id}/software/{software_id}/keysanddownloads",
                        PAGE_CHOICE | choice)


def count(desk, statement) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(statement)


def issued_keys(desk) -> int:
    return count(desk, select(func.count()).select_from(ProductKey).where(ProductKey.status == KEY_ISSUED))


def links_made(desk) -> int:
    return count(desk, select(func.count()).select_from(DownloadLink))


def selected(page: Page, value: str) -> bool:
    return re.search(rf'<option value="{re.escape(value)}" selected>', page.html) is not None


# --- who sees the tab ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", CUSTOMER_READERS)
def test_only_an_admin_agent_has_the_software_tab(app, desk, software: SoftwareShop, role):
    software_id = software.buy()
    browser = signed_in(app, desk, role)
    details = browser.page(f"/customers/{software.customer_id}")
    assert details.status_code == 200
    tab = f'href="/customers/{software.customer_id}/software"'
    assert (tab in details.html) is (role is Role.admin_agent)
    assert ('>Software<' in details.html) is (role is Role.admin_agent)
    # The activity tab is for whoever may read the activity log: admin agents and the operator.
    activity_tab = f'href="/customers/{software.customer_id}/software/activity"'
    assert (activity_tab in details.html) is (role in (Role.admin_agent, Role.operator))

    listing = browser.get(tab_url(software))
    assert listing.status_code == (200 if role is Role.admin_agent else 403)
    if role is not Role.admin_agent:
        assert Page.of(listing).h1 == "Not allowed"
        assert "Office LTSC" not in listing.text
        refused = reveal(browser, software, software_id)
        assert refused.status_code == 403
        assert "/v1/downloads/" not in refused.text
        assert issued_keys(desk) == 0 and links_made(desk) == 0


def test_a_billing_admin_opens_neither_the_tab_nor_the_activity(app, desk, software: SoftwareShop):
    software_id = software.buy()
    browser = signed_in(app, desk, Role.billing_admin)
    assert browser.get(tab_url(software)).status_code == 403
    assert browser.get(f"/customers/{software.customer_id}/software/activity").status_code == 403
    assert reveal(browser, software, software_id).status_code == 403
    assert issued_keys(desk) == 0


def test_another_partners_admin_agent_finds_nothing(app, desk, software: SoftwareShop):
    software_id = software.buy()
    rival = signed_in(app, desk, Role.admin_agent, partner="Rival Reseller")
    assert rival.get(tab_url(software)).status_code == 404
    assert rival.get(tab_url(software, software_id, **PAGE_CHOICE)).status_code == 404
    assert reveal(rival, software, software_id).status_code == 404
    assert rival.get(f"/customers/{software.customer_id}/software/activity").status_code == 404
    assert issued_keys(desk) == 0 and links_made(desk) == 0


def test_the_page_roles_are_declared(app):
    from partnerdesk.web import page_role_matrix

    rows = {(method, path): roles for method, path, roles in page_role_matrix(app)}
    assert rows[("GET", "/customers/{customer_id}/software")] == {Role.admin_agent}
    assert rows[("POST", "/customers/{customer_id}/software/{software_id}/keysanddownloads")] == {Role.admin_agent}
    assert rows[("GET", "/customers/{customer_id}/software/activity")] == {Role.admin_agent, Role.operator}


# --- the walk-through ------------------------------------------------------------------------------

def test_an_admin_agent_lists_chooses_sees_the_files_then_gets_the_key_and_a_link(app, desk, client,
                                                                                  software: SoftwareShop):
    software_id = software.buy()
    browser = signed_in(app, desk, Role.admin_agent)

    listing = browser.page(tab_url(software))
    assert listing.status_code == 200
    assert listing.shows("Office LTSC Professional Plus 2024") and listing.shows("Active")
    assert f'<details class="panel" id="software-{software_id}">' in listing.html  # folded until chosen
    assert "Get keys and downloads" not in listing.text

    # Submit: a GET with the choice in the address lists the files of that choice, and reveals nothing.
    chosen = browser.page(tab_url(software, software_id, **PAGE_CHOICE))
    assert chosen.status_code == 200
    assert f'<details class="panel" id="software-{software_id}" open>' in chosen.html
    assert chosen.shows("office-2024-fr.iso") and chosen.shows("300 kB")
    assert chosen.shows("Get keys and downloads")
    assert selected(chosen, "2024") and selected(chosen, "fr") and selected(chosen, "ISO")
    assert issued_keys(desk) == 0 and links_made(desk) == 0

    answer = reveal(browser, software, software_id)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    shown = Page.of(answer)
    key = next(key for key in make_keys(10) if shown.shows(key))
    assert shown.shows("Valid")
    links = LINK.findall(answer.text)
    assert len(links) == 1
    uri = unescape(links[0])
    # "Copy link": the same address as selectable text in a read-only box, no script needed.
    assert re.search(rf'<input type="url" readonly class="mono download-link" id="[^"]+" value="{re.escape(uri)}"',
                     answer.text)
    assert shown.shows("Download") and shown.shows("Copy link")
    assert shown.shows("Downloads left") and shown.shows("50")
    expires = desk.clock.now() + timedelta(days=14)
    assert shown.shows(f"{expires:%b} {expires.day}, {expires.year}") and shown.shows("UTC")
    assert issued_keys(desk) == 1

    downloaded = client.get(uri.removeprefix("http://testserver"), headers={"User-Agent": "curl/8.5"})
    assert downloaded.status_code == 200
    assert downloaded.content == software.content
    resumed = client.get(uri.removeprefix("http://testserver"), headers={"Range": "bytes=1000-"})
    assert resumed.status_code == 206

    # Asking again: the same key, a fresh link.
    again = reveal(browser, software, software_id)
    assert Page.of(again).shows(key)
    assert LINK.findall(again.text) != links
    assert issued_keys(desk) == 1 and links_made(desk) == 2

    # The reveals and the download are on the activity page, with the download's address and browser.
    activity = browser.page(f"/customers/{software.customer_id}/software/activity")
    assert activity.status_code == 200
    assert activity.shows("4 events")
    assert activity.shows("Keys and downloads shown") and activity.shows(browser.email)
    assert activity.shows(f"Key ending in {key[-5:]}.")
    assert activity.shows("Download") and activity.shows("curl/8.5")
    assert activity.shows("office-2024-fr.iso, 300 kB sent. 49 downloads left.")
    assert activity.shows("resuming from byte 1,000. Not counted as a download.")
    assert key not in activity.html and uri not in activity.html


def test_the_tab_in_french(app, desk, software: SoftwareShop):
    software_id = software.buy()
    browser = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    details = browser.page(f"/customers/{software.customer_id}")
    assert details.shows("Logiciels") and details.shows("Activité des logiciels")
    chosen = browser.page(tab_url(software, software_id, **PAGE_CHOICE))
    assert chosen.shows("Type de fichier / OS") and chosen.shows("Choisir les fichiers")
    assert chosen.shows("français — fr") and chosen.shows("300 ko")
    assert chosen.shows("Obtenir les clés et les téléchargements")
    answer = Page.of(reveal(browser, software, software_id))
    assert answer.shows("Clé de produit") and answer.shows("Copier le lien") and answer.shows("Télécharger")
    expires = desk.clock.now() + timedelta(days=14)
    assert answer.shows(f"{expires.day} ") and answer.shows(f" {expires.year}") and answer.shows("UTC")
    assert answer.shows("Téléchargements restants")
    activity = browser.page(f"/customers/{software.customer_id}/software/activity")
    assert activity.shows("Clés et téléchargements affichés") and activity.shows("1 événement")
    assert activity.shows("Office LTSC Professional Plus 2024 : version 2024, français, ISO.")


# --- refusals --------------------------------------------------------------------------------------

def test_a_choice_not_offered_is_shown_by_its_field_with_the_choice_kept(app, desk, software: SoftwareShop):
    software_id = software.buy()
    browser = signed_in(app, desk, Role.admin_agent)
    page = browser.page(tab_url(software, software_id, **(PAGE_CHOICE | {"version": "1999"})))
    assert page.status_code == 400
    assert page.field_errors == {f"software-{software_id}-version": "Choose a version from the list."}
    assert selected(page, "fr") and selected(page, "ISO")
    assert "Get keys and downloads" not in page.text

    posted = reveal(browser, software, software_id, file_type="DMG")
    assert posted.status_code == 400
    shown = Page.of(posted)
    assert shown.field_errors == {f"software-{software_id}-file_type":
                                  "Choose a file type or operating system from the list."}
    assert selected(shown, "2024") and selected(shown, "fr")
    assert issued_keys(desk) == 0 and links_made(desk) == 0

    french = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    page = french.page(tab_url(software, software_id, **(PAGE_CHOICE | {"language": ""})))
    assert page.field_errors == {f"software-{software_id}-language": "Choisissez une langue dans la liste."}


def test_an_empty_key_pool_is_a_clear_message_the_choice_kept_and_the_operator_alerted(app, desk,
                                                                                        software: SoftwareShop):
    software_id = software.buy(quantity=11)  # the pool holds 10 keys
    browser = signed_in(app, desk, Role.admin_agent)
    answer = reveal(browser, software, software_id)
    assert answer.status_code == 409
    page = Page.of(answer)
    assert page.shows("No product key is left for this product. The operator has been alerted")
    assert selected(page, "2024") and selected(page, "fr") and selected(page, "ISO")
    assert page.shows("office-2024-fr.iso") and page.shows("Get keys and downloads")  # to ask again later
    assert "/v1/downloads/" not in answer.text
    assert issued_keys(desk) == 0 and links_made(desk) == 0
    alerts = select(func.count()).select_from(ActivityRecord).where(ActivityRecord.action == service.KEY_POOL_EMPTY)
    assert count(desk, alerts) == 1
    french = Page.of(reveal(signed_in(app, desk, Role.admin_agent, accept_language="fr"), software, software_id))
    assert french.shows("Il ne reste aucune clé de produit pour ce produit.")


def test_a_cancelled_purchase_shows_its_keys_revoked_and_no_link(app, desk, client, software: SoftwareShop):
    software_id = software.buy()
    browser = signed_in(app, desk, Role.admin_agent)
    uri = unescape(LINK.findall(reveal(browser, software, software_id).text)[0])
    order_id = software.admin.get(f"/v1/customers/{software.customer_id}/software/{software_id}").json()["orderId"]
    cancelled = software.admin.patch(f"/v1/customers/{software.customer_id}/orders/{order_id}",
                                     json={"status": "cancelled", "lineItems": [{"lineItemNumber": 0}]})
    assert cancelled.status_code == 200, cancelled.text

    page = browser.page(tab_url(software, software_id, **PAGE_CHOICE))
    assert page.status_code == 200
    assert page.shows("Cancelled — keys revoked")
    assert page.shows("its product keys are revoked and its download links no longer work")
    assert "Get keys and downloads" not in page.text and "Submit" not in page.text
    # A post from a page loaded before the cancellation: the key shows revoked, masked, and no link.
    late = reveal(browser, software, software_id)
    assert late.status_code == 200
    assert Page.of(late).shows("Revoked") and "*****-*****-*****-*****-" in late.text
    assert "/v1/downloads/" not in late.text
    assert client.get(uri.removeprefix("http://testserver")).status_code == 410
    french = signed_in(app, desk, Role.admin_agent, accept_language="fr").page(tab_url(software))
    assert french.shows("Annulé — clés révoquées")


def test_a_cancelled_purchase_never_revealed_is_refused_with_a_message(app, desk, software: SoftwareShop):
    software_id = software.buy()
    order_id = software.admin.get(f"/v1/customers/{software.customer_id}/software/{software_id}").json()["orderId"]
    software.admin.patch(f"/v1/customers/{software.customer_id}/orders/{order_id}",
                         json={"status": "cancelled", "lineItems": [{"lineItemNumber": 0}]})
    answer = reveal(signed_in(app, desk, Role.admin_agent), software, software_id)
    assert answer.status_code == 409
    assert Page.of(answer).shows("This purchase was cancelled: its product keys are revoked and it has no downloads.")


def test_a_post_without_the_csrf_token_reveals_nothing(app, desk, software: SoftwareShop):
    software_id = software.buy()
    browser = signed_in(app, desk, Role.admin_agent)
    answer = browser.post(f"/customers/{software.customer_id}/software/{software_id}/keysanddownloads",
                          PAGE_CHOICE, csrf=False)
    assert answer.status_code == 403
    assert issued_keys(desk) == 0 and links_made(desk) == 0


def test_a_customer_without_software_says_so(app, desk, software: SoftwareShop):
    page = signed_in(app, desk, Role.admin_agent).page(tab_url(software))
    assert page.status_code == 200
    assert page.shows("No software has been bought for this customer yet.")


# --- activity --------------------------------------------------------------------------------------

def test_the_operator_reads_the_activity_paged_and_filtered(app, desk, software: SoftwareShop):
    software_id = software.buy()
    for _ in range(26):
        assert software.keys_and_downloads(software_id).status_code == 200
    link = software.link(software_id)
    software.shop.buyer.client.get(link, headers={"User-Agent": "Wget/1.21"})
    operator = signed_in(app, desk, Role.operator)
    first = operator.page(f"/customers/{software.customer_id}/software/activity")
    assert first.status_code == 200
    assert first.shows("28 events") and first.shows("Page 1 of 2")
    assert first.shows("Wget/1.21")  # newest first
    second = operator.page(f"/customers/{software.customer_id}/software/activity?page=2")
    assert second.shows("Page 2 of 2") and second.shows("Keys and downloads shown")
    downloads = operator.page(f"/customers/{software.customer_id}/software/activity?action=downloaded")
    assert downloads.shows("1 event") and downloads.shows("Link holder at testclient")
    reveals = operator.page(f"/customers/{software.customer_id}/software/activity?action=revealed")
    assert reveals.shows("27 events") and not reveals.shows("Wget/1.21")
    # The operator reads the activity, never the keys: the Software tab stays closed to it.
    assert operator.get(tab_url(software)).status_code == 403


def test_a_key_reveal_on_the_activity_tab_says_from_which_address_and_browser(app, desk, software: SoftwareShop):
    software_id = software.buy()
    revealed = software.admin.post(
        f"/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads", json=CHOICE,
        headers={"User-Agent": "PartnerCenterScript/2.0"})
    assert revealed.status_code == 200
    admin = signed_in(app, desk, Role.admin_agent)
    page = admin.page(f"/customers/{software.customer_id}/software/activity?action=revealed")
    assert page.shows("testclient") and page.shows("PartnerCenterScript/2.0")


def test_the_order_page_leads_an_admin_agent_to_the_keys_and_no_one_else(app, desk, software: SoftwareShop):
    software.buy()
    orders = software.admin.get(f"/v1/customers/{software.customer_id}/orders").json()["items"]
    order_page = f"/customers/{software.customer_id}/orders/{orders[0]['id']}"
    admin = signed_in(app, desk, Role.admin_agent).page(order_page)
    assert f'href="/customers/{software.customer_id}/software"' in admin.html
    french = signed_in(app, desk, Role.admin_agent, language="fr").page(order_page)
    assert french.shows("Clés de produit et téléchargements des logiciels de cette commande")
    sales = signed_in(app, desk, Role.sales_agent).page(order_page)
    assert sales.status_code == 200 and f"/customers/{software.customer_id}/software" not in sales.html
