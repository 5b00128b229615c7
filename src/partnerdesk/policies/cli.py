"""`partnerdesk policies ...`: read and change the rules' numbers and lists."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from partnerdesk.core.cli_support import fail, open_desk, out
from partnerdesk.core.errors import DeskError
from partnerdesk.policies import service

app = typer.Typer(
    help="Operator policies: R1's markets, R4's link limits, R5's window, cart expiry.",
    no_args_is_help=True,
)


def _shown(value) -> str:
    return " ".join(value) if isinstance(value, list) else json.dumps(value)


@app.command("list")
def list_policies() -> None:
    """Print every policy with its value, its default and who changed it."""
    desk = open_desk()
    with desk.database.session(write=False) as db:
        views = service.list_policies(db)
    table = Table("key", "rule", "value", "default", "changed by")
    for view in views:
        default = "(this is the default)" if view.is_default else _shown(view.default)
        table.add_row(view.key, view.rule, _shown(view.value), default, view.updated_by or "-")
    out.print(table)
    for view in views:
        out.print(f"{view.key}: {view.description}", highlight=False)


@app.command("set")
def set_policy(
    key: Annotated[str, typer.Argument(help="The policy, such as download_link_days.")],
    value: Annotated[str, typer.Argument(help="JSON, a number, or markets as 'BR,IN,CN'.")],
) -> None:
    """Change a policy; it takes effect at once and is recorded in the activity log."""
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    desk = open_desk()
    try:
        with desk.database.session() as db:
            view = service.set_policy(db, key=key, value=parsed, principal=None, now=desk.clock.now())
    except DeskError as error:
        raise fail(error.description) from None
    out.print(f"{view.key} = {_shown(view.value)}", highlight=False)


@app.command("reset")
def reset_policy(
    key: Annotated[str, typer.Argument(help="The policy to put back to its default.")],
) -> None:
    """Put a policy back to the seed's default."""
    desk = open_desk()
    try:
        with desk.database.session() as db:
            view = service.reset_policy(db, key=key, principal=None, now=desk.clock.now())
    except DeskError as error:
        raise fail(error.description) from None
    out.print(f"{view.key} = {_shown(view.value)} (default)", highlight=False)
