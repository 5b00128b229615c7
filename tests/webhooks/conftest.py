"""Fixtures for webhook tests: a live receiver, and a console wide enough to read CLI tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI tables at full width, so ids are not cut short whatever terminal the tests run in."""
    from partnerdesk import cli

    monkeypatch.setattr(cli.out, "_width", 300)
