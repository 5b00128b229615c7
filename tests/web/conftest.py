"""Portal test fixtures: Debian's Chromium for the browser tests; Playwright never downloads one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Overrides pytest-playwright's: launch the system Chromium, headless, with no network chatter."""
    if not CHROMIUM.exists():
        if os.environ.get("PARTNERDESK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is required (PARTNERDESK_REQUIRE_BROWSER=1) but missing; "
                        "run scripts/install-system-deps.sh", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium to run the browser tests")
    return {"executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Browser tests go to the `live_server` address they are given; no fixed base URL.

    Defined here so pytest-playwright's fallback fixture (an instance method that pytest
    deprecates) is not used.
    """
    return None
