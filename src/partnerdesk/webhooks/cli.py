"""`partnerdesk webhooks ...`: the event types, and every partner's endpoints (never their secrets)."""

from __future__ import annotations

import typer
from rich.table import Table

from partnerdesk.webhooks import service
from partnerdesk.webhooks.events import EVENT_TYPES

app = typer.Typer(help="Outbound webhooks.", no_args_is_help=True)


@app.command("event-types")
def event_types() -> None:
    """List the event types endpoints can subscribe to."""
    from partnerdesk.cli import out

    table = Table("event type", "description", "subscribable")
    for event in EVENT_TYPES.values():
        table.add_row(event.name, event.description, "yes" if event.subscribable else "no (sent on request)")
    out.print(table)


@app.command("endpoints")
def endpoints() -> None:
    """List every partner's webhook endpoints."""
    from partnerdesk.cli import open_desk, out

    desk = open_desk()
    with desk.database.session(write=False) as db:
        rows = service.all_endpoints(db)
    table = Table("partner", "id", "url", "event types", "active")
    for endpoint, partner_name in rows:
        table.add_row(partner_name, endpoint.id, endpoint.url, ", ".join(endpoint.event_types),
                      "yes" if endpoint.is_active else "no")
    out.print(table)
