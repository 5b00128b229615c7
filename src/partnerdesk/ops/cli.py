"""`partnerdesk backup PATH` and `partnerdesk restore PATH` (top-level commands; see ops.backup)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from partnerdesk.config import Settings
from partnerdesk.core.cli_support import err, fail, out
from partnerdesk.core.clock import SystemClock
from partnerdesk.core.errors import DeskError
from partnerdesk.ops import backup as backups

app = typer.Typer(help="Backup and restore of the SQLite default.")


@contextmanager
def _progress_bar(label: str) -> Iterator[backups.Progress]:
    with Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err,
                  transient=False) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@app.command("backup")
def backup_command(path: Annotated[Path, typer.Argument(help="A new folder for the backup.")]) -> None:
    """Back up the database (online, consistent) and the files folder into PATH."""
    settings = Settings()
    try:
        backups.sqlite_path(settings)  # PostgreSQL: says to use pg_dump, before any progress bar
        with _progress_bar("files") as progress:
            report = backups.backup(settings, path, now=SystemClock().now(), progress=progress)
    except DeskError as error:
        raise fail(error.description) from None
    out.print(f"backed up the database ({report.database_bytes:,} bytes, revision {', '.join(report.revisions)}) "
              f"and {report.file_count} file(s) ({report.file_bytes:,} bytes) to {report.path}", highlight=False)


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A folder written by `partnerdesk backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Restore even while a server serves this data dir.")] = False,
) -> None:
    """Replace this data dir's database and files folder with the backup in PATH (stop the server first)."""
    settings = Settings()
    try:
        backups.sqlite_path(settings)
        with _progress_bar("files") as progress:
            report = backups.restore(settings, path, force=force, progress=progress)
    except DeskError as error:
        raise fail(error.description) from None
    out.print(f"restored the database (revision {', '.join(report.revisions)}) and {report.file_count} file(s) "
              f"({report.file_bytes:,} bytes) from {report.path}; run `partnerdesk db upgrade` if this version "
              "is newer than the backup", highlight=False)
