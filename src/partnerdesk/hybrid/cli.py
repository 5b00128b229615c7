"""`partnerdesk ahb ...`: Hybrid Benefit estimates from CSV files, and the operator's VM rate table."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from partnerdesk.core.cli_support import err, fail, open_desk, out
from partnerdesk.core.errors import DeskError
from partnerdesk.core.money import money_str
from partnerdesk.hybrid import service
from partnerdesk.hybrid.schemas import EstimateIn

app = typer.Typer(help="Azure Hybrid Benefit and Reserved Instance savings (rule R7).", no_args_is_help=True)
rates_app = typer.Typer(help="The VM rate table the calculator takes its hourly rates from.", no_args_is_help=True)
app.add_typer(rates_app, name="rates")

FLEET_COLUMNS = ("name", "count", "vCpus", "windowsRatePerHour", "baseRatePerHour", "size", "region")
LICENCE_COLUMNS = ("edition", "cores", "processorLicenses", "softwareAssurance", "inUseOnPremises")
YES = {"yes", "y", "true", "1", "oui", "x"}
NO = {"no", "n", "false", "0", "non", ""}


def _rows(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise fail(f"{path}: cannot be read ({error.strerror}).") from None
    with handle:
        try:
            yield from _checked_rows(path, csv.DictReader(handle), columns, required)
        except UnicodeDecodeError:
            raise fail(f"{path} is not UTF-8 text.") from None
        except csv.Error as error:
            raise fail(f"{path} is not a CSV file this command can read ({error}).") from None


def _checked_rows(path: Path, reader: csv.DictReader, columns: tuple[str, ...], required: tuple[str, ...],
                  ) -> Iterator[tuple[int, dict[str, str]]]:
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in columns]
    missing = [name for name in required if name not in header]
    if unknown or missing:
        raise fail(f"{path}: the header must name {', '.join(required)} and may add "
                   f"{', '.join(c for c in columns if c not in required)}"
                   + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                   + (f"; missing: {', '.join(missing)}" if missing else "") + ".")
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, {key: (value or "").strip() for key, value in row.items() if key}


def _yes_no(value: str, where: str) -> bool:
    if value.casefold() in YES:
        return True
    if value.casefold() in NO:
        return False
    raise fail(f"{where}: '{value}' is not yes or no.")


def _fleet(path: Path) -> list[dict[str, object]]:
    vms = []
    for line, row in _rows(path, FLEET_COLUMNS, ("name", "count")):
        vm: dict[str, object] = {key: value for key, value in row.items() if value}
        for key in ("count", "vCpus"):
            if key in vm:
                if not str(vm[key]).lstrip("-").isdigit():
                    raise fail(f"{path}, line {line}: {key} '{vm[key]}' is not a whole number.")
                vm[key] = int(str(vm[key]))
        vms.append(vm)
    return vms


def _licences(path: Path) -> list[dict[str, object]]:
    licences = []
    for line, row in _rows(path, LICENCE_COLUMNS, ("edition", "softwareAssurance")):
        licence: dict[str, object] = {"edition": row.get("edition", "")}
        for key in ("cores", "processorLicenses"):
            value = row.get(key, "") or "0"
            if not value.lstrip("-").isdigit():
                raise fail(f"{path}, line {line}: {key} '{value}' is not a whole number.")
            licence[key] = int(value)
        for key in ("softwareAssurance", "inUseOnPremises"):
            licence[key] = _yes_no(row.get(key, ""), f"{path}, line {line}, {key}")
        licences.append(licence)
    return licences


@app.command("estimate")
def estimate(
    fleet: Annotated[Path, typer.Argument(help="VMs, one line each: name,count,vCpus,windowsRatePerHour,"
                                               "baseRatePerHour (or size,region from the rate table).",
                                          exists=True, dir_okay=False, readable=True)],
    licences: Annotated[Path, typer.Argument(help="Licences: edition,cores,processorLicenses,softwareAssurance,"
                                                  "inUseOnPremises.", exists=True, dir_okay=False, readable=True)],
    currency: Annotated[str, typer.Option(help="The rates' currency.")] = "EUR",
    hours_per_month: Annotated[int, typer.Option(help="Hours each VM runs in a month.")] = 730,
    term: Annotated[str | None, typer.Option("--term", help="Compare with a reservation: P1Y or P3Y.")] = None,
    migration_overlap: Annotated[bool, typer.Option(
        "--migration-overlap", help="Standard licences in use on-premises count (one-time 180-day overlap).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Write the API's answer as JSON.")] = False,
) -> None:
    """Work out what Azure Hybrid Benefit (and a reservation) saves on a fleet, line by line."""
    body = {"currency": currency, "hoursPerMonth": hours_per_month, "migrationOverlap": migration_overlap,
            "vms": _fleet(fleet), "licenses": _licences(licences)}
    if term:
        body["reservation"] = {"term": term}
    try:
        request = EstimateIn.model_validate(body)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors())
        raise fail(f"the files hold a value the calculator cannot take: {problems}.") from None
    desk = open_desk()
    try:
        with desk.database.session(write=False) as db:
            checked = service.estimate(db, request=request, now=desk.clock.now())
    except DeskError as error:
        raise fail(error.description) from None
    answer = service.estimate_json(checked.result)
    if as_json:
        # Plain text, never wrapped or coloured, so it can be piped into another tool.
        typer.echo(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    _print_estimate(answer)


def _print_estimate(answer: dict) -> None:
    currency = answer["currency"]
    reserved = "withReservation" in answer["totals"]
    table = Table(title=f"Hybrid Benefit estimate, per month ({currency})", show_footer=True)
    totals = answer["totals"]
    table.add_column("line", footer="total")
    for header in ("VMs", "vCPUs", "cores/VM"):
        table.add_column(header, justify="right", footer="")
    table.add_column("covered", justify="right", footer=str(totals["vmsCovered"]))
    money_columns = [("pay-as-you-go", "payAsYouGo"), ("with AHB", "withHybridBenefit"), ("saving", "saving")]
    if reserved:
        money_columns += [("with RI", "withReservation"), ("AHB + RI", "withBoth")]
    for header, key in money_columns:
        table.add_column(header, justify="right", footer=totals[key])
    for line in answer["lines"]:
        table.add_row(line["name"], str(line["count"]), str(line["vCpus"]), str(line["coresPerVm"]),
                      str(line["vmsCovered"]), *(line[key] for _header, key in money_columns))
    out.print(table)
    out.print(f"Core licences: {totals['coresRequired']} required, {totals['coresAvailable']} eligible, "
              f"{totals['coresUsed']} used. Saving with Hybrid Benefit: {totals['saving']} {currency} "
              f"({totals['savingPercent']}%).", highlight=False)
    for line in answer["lines"]:
        out.print(f"[bold]{line['name']}[/bold]: {line['explanation']}", highlight=False)


def _counted(handle: TextIO, advance) -> Iterator[str]:
    for line in handle:
        advance(len(line.encode("utf-8")))
        yield line


@rates_app.command("import")
def import_rates(
    path: Annotated[Path, typer.Argument(help="CSV: size,region,currency,vCpus,windowsRatePerHour,baseRatePerHour.",
                                         exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import VM rates (all rows or none); the rates the file does not name are kept."""
    desk = open_desk()
    progress = Progress(TextColumn("importing rates"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                        console=err, transient=True)
    try:
        with progress, path.open(newline="", encoding="utf-8-sig") as handle, desk.database.session() as db:
            task = progress.add_task("import", total=path.stat().st_size)
            report = service.import_rates(db, _counted(handle, lambda size: progress.advance(task, size)),
                                          now=desk.clock.now(), principal=None)
    except DeskError as error:
        err.print(f"[red]error:[/red] {error.description}", highlight=False)
        for detail in error.data:
            err.print(f"  {detail}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text; nothing was imported.") from None
    out.print(f"imported {report.rows} rates ({report.added} added, {report.updated} changed)", highlight=False)


@rates_app.command("list")
def list_rates(
    currency: Annotated[str | None, typer.Option(help="Only this currency.")] = None,
    region: Annotated[str | None, typer.Option(help="Only this region.")] = None,
) -> None:
    """Print the VM rate table."""
    desk = open_desk()
    with desk.database.session(write=False) as db:
        rates = list(db.scalars(service.search_rates(currency=currency, region=region)))
    table = Table("size", "region", "currency", "vCPUs", "Windows / h", "base / h")
    for rate in rates:
        table.add_row(rate.size, rate.region, rate.currency, str(rate.v_cpus),
                      money_str(rate.windows_rate_per_hour, rate.currency),
                      money_str(rate.base_rate_per_hour, rate.currency))
    out.print(table)
    if not rates:
        out.print("The rate table is empty; import one with `partnerdesk ahb rates import FILE`.")
