"""What the catalog's CLI tests share."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from partnerdesk.cli import app


@pytest.fixture
def cli(database_url, tmp_path):
    """`partnerdesk ...` against the test database: `cli("catalog", "import", path)`."""
    runner = CliRunner()
    env = {
        "PARTNERDESK_DATABASE_URL": database_url,
        "PARTNERDESK_DATA_DIR": str(tmp_path / "cli-data"),
        "PARTNERDESK_SECRET_KEY": "test-secret-key-not-for-production",
        "COLUMNS": "200",
    }

    def invoke(*args: str, terminal: bool = False):
        # Rich draws its progress bar only on a terminal; these variables make the captured stderr one.
        extra = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"} if terminal else {}
        return runner.invoke(app, list(args), env={**env, **extra})

    return invoke
