"""`partnerdesk catalog ...`: price-list import and export, and R1's market list."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from partnerdesk.catalog import pricelist
from partnerdesk.catalog.pricelist_formats import FORMAT_NAMES, named
from partnerdesk.core.cli_support import err, open_desk, out
from partnerdesk.core.errors import DeskError
from partnerdesk.core.markets import normalise_country
from partnerdesk.policies import service as policies

app = typer.Typer(
    help="The catalog: price lists and the markets where Reserved Instances are sold.", no_args_is_help=True
)
markets_app = typer.Typer(
    help="Rule R1: markets where Azure Reserved Instances are not sold.", no_args_is_help=True
)
app.add_typer(markets_app, name="markets")


def _fail(error: DeskError) -> typer.Exit:
    err.print(f"[red]error:[/red] {error.description}", highlight=False)
    for detail in error.data:
        err.print(f"  {detail}", highlight=False, markup=False)
    return typer.Exit(1)


FORMAT_HELP = f"The file's layout: {', '.join(FORMAT_NAMES)}."


def _counted(handle: TextIO, advance) -> Iterator[str]:
    """The file's lines, telling the progress bar how far through the file they are."""
    for line in handle:
        advance(len(line))
        yield line


@app.command("import")
def import_price_list(
    path: Annotated[
        Path, typer.Argument(help="A price list CSV file.", exists=True, dir_okay=False, readable=True)
    ],
    format: Annotated[
        str | None, typer.Option("--format", help=FORMAT_HELP + " Found from the header when left out.")
    ] = None,
) -> None:
    """Import a price list in any of Partner Center's layouts or Partner Desk's (all rows or none: any bad
    row is reported by line and nothing is written; rows for what this desk does not sell are counted)."""
    desk = open_desk()
    started = time.perf_counter()
    # A console of its own, made now: it sees the terminal this command runs in (and TTY_COMPATIBLE).
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    try:
        with progress, path.open(newline="", encoding="utf-8-sig") as handle, desk.database.session() as db:
            task = progress.add_task("import", total=path.stat().st_size, rows=0)
            lines = _counted(handle, lambda size: progress.advance(task, size))
            report = pricelist.import_price_list(
                db, lines, now=desk.clock.now(), source=path.name, format=format,
                progress=lambda rows: progress.update(task, rows=rows),
            )
    except DeskError as error:
        raise _fail(error) from None
    except UnicodeDecodeError:
        err.print(f"[red]error:[/red] {path} is not UTF-8 text; nothing was imported.", highlight=False)
        raise typer.Exit(1) from None
    seconds = time.perf_counter() - started
    out.print(
        f"imported {report.rows} price rows ({report.products} products, {report.skus} SKUs, "
        f"{len(report.markets)} markets) in {seconds:.1f}s, read as the {report.format} layout",
        highlight=False,
    )
    if report.skipped:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.skipped.items()))
        out.print(f"skipped {report.skipped.total()} rows, not sold here: {kinds}", highlight=False)


@app.command("export")
def export_price_list(
    market: Annotated[
        str | None, typer.Option("--market", help="Only this market (FR); all when left out.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help=FORMAT_HELP + " partner-desk (the default) round-trips everything.")
    ] = "partner-desk",
) -> None:
    """Write the price list as CSV in the layout asked to stdout or a file."""
    desk = open_desk()
    try:
        # An unknown layout or market is refused before a file is made.
        named(format)
        if market is not None:
            normalise_country(market, field="market")
        with desk.database.session(write=False) as db:
            if output is None:
                pricelist.export_price_list(db, sys.stdout, market=market, format=format)
                return
            with output.open("w", newline="", encoding="utf-8") as handle:
                count = pricelist.export_price_list(db, handle, market=market, format=format)
    except DeskError as error:
        raise _fail(error) from None
    err.print(f"wrote {count} price rows to {output}", highlight=False)


@markets_app.command("list")
def markets_list() -> None:
    """Print the markets where Reserved Instances are not sold."""
    desk = open_desk()
    with desk.database.session(write=False) as db:
        view = policies.get_policy(db, "ri_excluded_markets")
    out.print(" ".join(view.value) or "(none)", highlight=False)
    err.print(
        "the seed's default list"
        if view.is_default
        else f"changed by {view.updated_by} at {view.updated_at:%Y-%m-%d %H:%M} UTC",
        highlight=False,
    )


def _change_market(country: str, *, exclude: bool) -> None:
    desk = open_desk()
    try:
        with desk.database.session() as db:
            change = policies.exclude_market if exclude else policies.include_market
            view = change(db, country=country, principal=None, now=desk.clock.now())
    except DeskError as error:
        raise _fail(error) from None
    out.print(" ".join(view.value) or "(none)", highlight=False)


@markets_app.command("exclude")
def markets_exclude(country: Annotated[str, typer.Argument(help="Market code, such as BR.")]) -> None:
    """Stop selling Reserved Instances in a market (rule R1)."""
    _change_market(country, exclude=True)


@markets_app.command("include")
def markets_include(country: Annotated[str, typer.Argument(help="Market code, such as BR.")]) -> None:
    """Sell Reserved Instances in a market again."""
    _change_market(country, exclude=False)
