"""The `partnerdesk` command. Commands call the same services as the API; no rules live here."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Role
from partnerdesk.config import Settings
from partnerdesk.core.cli_support import err, fail, open_desk, out
from partnerdesk.core.desk import Desk
from partnerdesk.core.errors import DeskError
from partnerdesk.domains import cli_apps
from partnerdesk.migrations import runner

app = typer.Typer(help="Partner Desk: sell software and reserved capacity through resellers.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
agents_app = typer.Typer(help="Agents, their roles and API tokens.", no_args_is_help=True)
sandbox_app = typer.Typer(help="The sandbox test clock (PARTNERDESK_SANDBOX=1).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(agents_app, name="agents")
app.add_typer(sandbox_app, name="sandbox")

@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads", help="Target revision.")) -> None:
    """Apply pending migrations."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    runner.upgrade(settings.resolved_database_url, revision)
    revisions = runner.current_revisions(settings.resolved_database_url)
    out.print(f"database at revision {', '.join(sorted(revisions))}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    out.print(", ".join(sorted(runner.current_revisions(Settings().resolved_database_url))) or "empty")


@agents_app.command("add")
def agents_add(
    email: str,
    role: Annotated[Role, typer.Option("--role", help="One of the roles of DESIGN.md.")],
    partner: Annotated[str | None, typer.Option("--partner", help="Partner name; created if new.")] = None,
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    password_prompt: Annotated[bool, typer.Option("--password-prompt", help="Ask for a portal password.")] = False,
    language: Annotated[str | None, typer.Option("--language", help="Preferred portal language (en, fr).")] = None,
) -> None:
    """Create an agent (and its partner) and print a new API token as the last line."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password_prompt else None
    desk = open_desk()
    try:
        with desk.database.session() as db:
            now = desk.clock.now()
            agent = accounts.add_agent(db, email=email, role=role, now=now, partner_name=partner,
                                       display_name=name, password=password, preferred_language=language)
            token = accounts.issue_token(db, agent, now=now)
    except DeskError as error:
        raise fail(error.description) from None
    err.print(f"created {agent.role.value} {agent.email}" + (f" of {partner}" if partner else "")
              + "; the API token below is shown only once:")
    print(token)


@agents_app.command("token")
def agents_token(email: str) -> None:
    """Issue another API token for an existing agent (printed as the last line)."""
    desk = open_desk()
    try:
        with desk.database.session() as db:
            token = accounts.issue_token(db, accounts.get_agent_by_email(db, email), now=desk.clock.now())
    except DeskError as error:
        raise fail(error.description) from None
    print(token)


@agents_app.command("list")
def agents_list() -> None:
    """List agents with their role and partner."""
    desk = open_desk()
    with desk.database.session(write=False) as db:
        rows = accounts.list_agents(db)
    table = Table("email", "name", "role", "partner", "active")
    for agent, partner in rows:
        table.add_row(agent.email, agent.display_name, agent.role.value, partner.name if partner else "-",
                      "yes" if agent.is_active else "no")
    out.print(table)


@agents_app.command("revoke-tokens")
def agents_revoke_tokens(email: str) -> None:
    """Revoke every API token of an agent."""
    desk = open_desk()
    try:
        with desk.database.session() as db:
            count = accounts.revoke_tokens(db, accounts.get_agent_by_email(db, email), now=desk.clock.now())
    except DeskError as error:
        raise fail(error.description) from None
    out.print(f"revoked {count} token(s) of {email}")


@app.command("demo")
def demo() -> None:
    """Load the demo data (idempotent)."""
    from partnerdesk.demo import load_demo

    desk = open_desk()
    report = load_demo(desk, log=lambda message: err.print(message, highlight=False))
    out.print(f"demo data loaded: {report.agents_created} agent(s) and {report.customers_created} customer(s) added")
    _print_demo_hints(desk)


def _print_demo_hints(desk: Desk) -> None:
    from partnerdesk.demo import DEMO_AGENTS, DEMO_PASSWORD

    out.print(f"Sign in at {desk.settings.public_base_url}/ with password '{DEMO_PASSWORD}' as one of:")
    for email, role, _name, _partner in DEMO_AGENTS:
        out.print(f"  {email:32} {role.value}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Load demo data when the database is empty.")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    job_worker: Annotated[bool | None, typer.Option(
        "--job-worker/--no-job-worker", help="Also run background jobs (webhook deliveries); on by default.",
    )] = None,
) -> None:
    """Serve the portal and the API."""
    import os

    import uvicorn

    os.environ.setdefault("PARTNERDESK_HOST", host)
    os.environ.setdefault("PARTNERDESK_PORT", str(port))
    # Each app process then runs a job worker thread; `partnerdesk worker` runs them on their own instead.
    if job_worker is None:
        os.environ.setdefault("PARTNERDESK_RUN_WORKER", "1")
    else:
        os.environ["PARTNERDESK_RUN_WORKER"] = "1" if job_worker else "0"
    desk = open_desk()
    if demo:
        from partnerdesk.demo import database_is_empty, load_demo

        if database_is_empty(desk):
            load_demo(desk, log=lambda message: err.print(message, highlight=False))
            out.print("demo data loaded")
        _print_demo_hints(desk)
    desk.database.dispose()
    out.print(f"Partner Desk on {desk.settings.public_base_url}/ (API docs at /docs)")
    from partnerdesk.core.logging import uvicorn_log_config

    uvicorn.run("partnerdesk.app:serve_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", log_config=uvicorn_log_config())


@sandbox_app.command("advance")
def sandbox_advance(days: Annotated[int, typer.Option("--days", help="Days to move the clock forward.")]) -> None:
    """Move the sandbox test clock forward."""
    from partnerdesk.audit import service as audit
    from partnerdesk.sandbox import service as sandbox

    desk = open_desk()
    try:
        with desk.database.session() as db:
            clock = sandbox.advance(db, desk.clock, sandbox=desk.settings.sandbox, days=days)
            audit.record(db, principal=None, now=clock.now(), action="sandbox.clock_advanced",
                         object_type="clock", details={"days": days})
    except DeskError as error:
        raise fail(error.description) from None
    out.print(f"sandbox clock now {clock.now().isoformat()}")


@app.command("roles")
def roles() -> None:
    """Print which roles may call each API route."""
    from partnerdesk.accounts.auth import role_matrix
    from partnerdesk.app import create_app

    table = Table("method", "path", *[role.value for role in Role])
    for method, path, admitted in role_matrix(create_app(Settings(sandbox=True))):
        table.add_row(method, path, *[("public" if admitted is None else ("yes" if role in admitted else "-"))
                                      for role in Role])
    out.print(table)


for sub_app, sub_name in cli_apps():
    app.add_typer(sub_app, name=sub_name)


def main() -> None:
    try:
        app()
    except DeskError as error:
        err.print(f"[red]error:[/red] {error.description}", highlight=False)
        sys.exit(1)
