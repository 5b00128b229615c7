"""What every `partnerdesk` command shares: the consoles, the error exit and the desk at schema head.

The root CLI (`partnerdesk.cli`) and the domains' Typer sub-apps import it from here, so a domain's
CLI never imports the root CLI that imports it.
"""

from __future__ import annotations

import typer
from rich.console import Console

from partnerdesk.config import Settings
from partnerdesk.core.desk import Desk
from partnerdesk.migrations import runner

err = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def open_desk() -> Desk:
    """The desk for a command, with the schema at head (applied here on SQLite; required on PostgreSQL)."""
    settings = Settings()
    desk = Desk.from_settings(settings)
    url = settings.resolved_database_url
    if settings.is_sqlite:
        runner.upgrade(url)
    elif not runner.is_up_to_date(url):
        raise fail("the database schema is not up to date; run `partnerdesk db upgrade` first.")
    return desk
