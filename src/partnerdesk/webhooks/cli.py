"""`partnerdesk webhooks ...`: the event types, every partner's endpoints (never their secrets), and purging
old delivery history."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from partnerdesk.core.cli_support import open_desk, out
from partnerdesk.webhooks import service
from partnerdesk.webhooks.events import EVENT_TYPES

app = typer.Typer(help="Outbound webhooks.", no_args_is_help=True)


@app.command("event-types")
def event_types() -> None:
    """List the event types endpoints can subscribe to."""
    table = Table("event type", "description", "subscribable")
    for event in EVENT_TYPES.values():
        table.add_row(event.name, event.description, "yes" if event.subscribable else "no (sent on request)")
    out.print(table)


@app.command("endpoints")
def endpoints() -> None:
    """List every partner's webhook endpoints."""
    desk = open_desk()
    with desk.database.session(write=False) as db:
        rows = service.all_endpoints(db)
    table = Table("partner", "id", "url", "event types", "active")
    for endpoint, partner_name in rows:
        table.add_row(partner_name, endpoint.id, endpoint.url, ", ".join(endpoint.event_types),
                      "yes" if endpoint.is_active else "no")
    out.print(table)


@app.command("purge")
def purge(
    older_than_days: Annotated[int, typer.Option("--older-than-days", min=1,
                                                 help="Events that occurred before this many days ago.")] = 90,
) -> None:
    """Delete the delivery history of webhook events older than N days (deliveries still retried are kept)."""
    desk = open_desk()
    with desk.database.session() as db:
        purged = service.purge_history(db, occurred_before=desk.clock.now() - timedelta(days=older_than_days))
    out.print(f"deleted {purged.events} event(s), {purged.deliveries} delivery record(s) "
              f"and {purged.attempts} attempt(s)")
