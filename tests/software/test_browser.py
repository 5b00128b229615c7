"""Keys and downloads in a real browser (Debian's headless Chromium), without JavaScript: the Software tab."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from partnerdesk.accounts.models import Role
from tests.software.factories import SoftwareShop, make_keys
from tests.support.portal import PASSWORD, new_agent
from tests.web.conftest import base_url, browser_type_launch_args  # noqa: F401  (Debian's Chromium, no download)

pytestmark = pytest.mark.browser
# Set to a folder to keep the pages' screenshots for a look (both languages).
SCREENSHOTS = os.environ.get("PARTNERDESK_SCREENSHOTS")


def _snap(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def _sign_in(page: Page, live_server: str, desk, path: str, language: str) -> None:
    email = new_agent(desk, Role.admin_agent, name="Adele Admin", language=language)
    page.goto(f"{live_server}{path}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/signin'] button[type=submit]").click()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}])
def test_an_admin_agent_gets_the_key_and_a_link_from_the_software_tab(page: Page, live_server, desk, client,
                                                                       software: SoftwareShop):
    software_id = software.buy()
    _sign_in(page, live_server, desk, f"/customers/{software.customer_id}", "en")
    page.get_by_role("navigation", name="Customer sections").get_by_role("link", name="Software", exact=True).click()
    expect(page.get_by_role("heading", name="Software", exact=True)).to_be_visible()

    product = page.locator(f"#software-{software_id}")
    expect(product.get_by_label("Version")).to_be_hidden()  # folded
    product.locator("summary").click()
    expect(product.get_by_label("Version")).to_be_visible()
    product.get_by_label("Language").select_option("fr")
    product.get_by_role("button", name="Submit").click()

    expect(page).to_have_url(re.compile(r"/software\?software=.+&version=2024&language=fr&file_type=ISO"))
    product = page.locator(f"#software-{software_id}")
    expect(product.get_by_role("row", name=re.compile("office-2024-fr.iso"))).to_contain_text("300 kB")
    _snap(page, "software-en-files")
    product.get_by_role("button", name="Get keys and downloads").click()

    product = page.locator(f"#software-{software_id}")
    key = product.locator(".product-key")
    expect(key).to_have_count(1)
    assert key.inner_text() in make_keys(10)
    download = product.get_by_role("link", name="Download office-2024-fr.iso")
    expect(download).to_be_visible()
    href = download.get_attribute("href")
    assert href and re.fullmatch(r"http://testserver/v1/downloads/[A-Za-z0-9_-]{43}", href)
    copy = product.get_by_label("Copy link of office-2024-fr.iso")
    expect(copy).to_be_visible()
    expect(copy).to_have_value(href)
    expect(copy).to_have_attribute("readonly", "")
    # Selectable text: select it as a person would, and the selection is the whole link.
    copy.select_text()
    assert copy.evaluate("box => box.value.substring(box.selectionStart, box.selectionEnd)") == href
    expect(product).to_contain_text("UTC")
    expect(product.get_by_role("row", name=re.compile(r"^office-2024-fr\.iso"))).to_contain_text("50")
    _snap(page, "software-en-keys")

    downloaded = client.get(href.removeprefix("http://testserver"))
    assert downloaded.status_code == 200
    assert downloaded.content == software.content

    page.get_by_role("link", name="Software activity").click()
    expect(page.get_by_role("heading", name="Software activity")).to_be_visible()
    expect(page.locator("caption")).to_have_text("2 events")
    _snap(page, "software-en-activity")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}])
def test_the_software_tab_reads_in_french(page: Page, live_server, desk, software: SoftwareShop):
    software_id = software.buy()
    _sign_in(page, live_server, desk, f"/customers/{software.customer_id}/software?software={software_id}"
             "&version=2024&language=fr&file_type=ISO", "fr")
    product = page.locator(f"#software-{software_id}")
    expect(product.get_by_label("Type de fichier / OS")).to_have_value("ISO")
    expect(product).to_contain_text("300 ko")
    _snap(page, "software-fr-files")
    product.get_by_role("button", name="Obtenir les clés et les téléchargements").click()
    product = page.locator(f"#software-{software_id}")
    expect(product.get_by_role("link", name="Télécharger office-2024-fr.iso")).to_be_visible()
    expect(product.get_by_label("Copier le lien du fichier office-2024-fr.iso")).to_be_visible()
    expect(product).to_contain_text("Téléchargements restants")
    _snap(page, "software-fr-keys")
    page.get_by_role("link", name="Activité des logiciels").click()
    expect(page.locator("caption")).to_have_text("1 événement")
    _snap(page, "software-fr-activity")
