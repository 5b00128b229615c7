"""`partnerdesk backup PATH` / `partnerdesk restore PATH` for the SQLite default: online and consistent.

The database is copied with SQLite's online backup API (`sqlite3.Connection.backup`) in one step: it
reads one snapshot of the database while the server keeps writing (WAL mode: readers do not block
writers), so the copy is a consistent state even under load. The files folder is copied after it, so
every file a row of the snapshot names is there (files are stored before their rows are written).

A restore refuses to run while a server process serves the same data dir: every server holds a
shared lock on `<data_dir>/serving.lock` while it runs (`serving`), and restore needs it exclusively
(`--force` skips that). On PostgreSQL these commands refuse and say to use pg_dump / pg_restore.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from partnerdesk.config import Settings
from partnerdesk.core.errors import DeskError
from partnerdesk.migrations import runner

DATABASE_FILE = "partnerdesk.db"
FILES_FOLDER = "files"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = "serving.lock"
FORMAT = 1
COPY_CHUNK = 1024 * 1024

# Called with the bytes copied so far and the total, for a progress bar.
Progress = Callable[[int, int], None]


class BackupRefused(DeskError):
    status_code = 400
    code = 1950


class RestoreRefused(DeskError):
    status_code = 409
    code = 1951


POSTGRESQL_ADVICE = ("this desk runs on PostgreSQL: back it up with pg_dump (pg_dump -Fc -f desk.dump \"$URL\") and "
                     "restore with pg_restore, and copy the files store beside it; see docs/operations.md.")


@dataclass(frozen=True)
class BackupReport:
    path: Path
    database_bytes: int
    file_count: int
    file_bytes: int
    revisions: list[str]


def sqlite_path(settings: Settings) -> Path:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupRefused(POSTGRESQL_ADVICE)
    if not url.database or url.database == ":memory:":
        raise BackupRefused("the database is in memory; there is nothing on disk to back up.")
    return Path(url.database)


@contextmanager
def serving(settings: Settings) -> Iterator[None]:
    """Held by each server process while it serves (shared: several processes may serve one data dir)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / LOCK_FILE, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def is_served(settings: Settings) -> bool:
    """Whether a server process holds the data dir's serving lock right now."""
    path = settings.data_dir / LOCK_FILE
    if not path.exists():
        return False
    with open(path, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def _integrity(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def _copy_database(source: Path, target: Path) -> None:
    """One consistent snapshot of `source` into `target` (which it replaces page by page)."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    writer = sqlite3.connect(target, timeout=30)
    try:
        reader.backup(writer)  # pages=-1: every page in one step, from one read snapshot
    finally:
        writer.close()
        reader.close()


def _files_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else []


def _copy_files(source: Path, target: Path, progress: Progress | None) -> tuple[int, int]:
    files = _files_in(source)
    total = sum(path.stat().st_size for path in files)
    done = 0
    if progress:
        progress(0, total)
    for path in files:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "rb") as reader, open(destination, "wb") as writer:
            while chunk := reader.read(COPY_CHUNK):
                writer.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        shutil.copystat(path, destination)
    return len(files), total


def backup(settings: Settings, target: Path, *, now: datetime, progress: Progress | None = None) -> BackupReport:
    """Writes `target/` with the database, the files folder and a manifest; `target` must not exist yet
    (or be an empty folder)."""
    source = sqlite_path(settings)
    if not source.exists():
        raise BackupRefused(f"there is no database at {source} to back up.")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupRefused(f"{target} already exists and is not an empty folder; choose a new path.")
    target.mkdir(parents=True, exist_ok=True)
    database = target / DATABASE_FILE
    _copy_database(source, database)
    # One self-contained file (no -wal/-shm beside it), readable from read-only media when restoring.
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    if (problem := _integrity(database)) != "ok":
        raise BackupRefused(f"the copy of the database failed its integrity check ({problem}).")
    revisions = sorted(runner.current_revisions(f"sqlite:///{database}"))
    files_dir = settings.resolved_files_dir if settings.storage_backend == "local" else None
    file_count, file_bytes = _copy_files(files_dir, target / FILES_FOLDER, progress) if files_dir else (0, 0)
    manifest = {"format": FORMAT, "createdAt": now.isoformat(), "revisions": revisions,
                "database": DATABASE_FILE, "files": FILES_FOLDER if files_dir else None,
                "fileCount": file_count, "fileBytes": file_bytes}
    (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return BackupReport(target, database.stat().st_size, file_count, file_bytes, revisions)


def _read_manifest(source: Path) -> dict:
    try:
        manifest = json.loads((source / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        raise RestoreRefused(f"{source} is not a Partner Desk backup (no readable {MANIFEST_FILE}).") from None
    if manifest.get("format") != FORMAT or not (source / DATABASE_FILE).is_file():
        raise RestoreRefused(f"{source} is not a Partner Desk backup of a format this version reads.")
    return manifest


def restore(settings: Settings, source: Path, *, force: bool = False, progress: Progress | None = None) -> BackupReport:
    """Replaces the data dir's database and files folder with the backup's."""
    target = sqlite_path(settings)
    manifest = _read_manifest(source)
    if not force and is_served(settings):
        raise RestoreRefused("a Partner Desk server is serving this data dir; stop it first "
                             "(or pass --force to restore under it).")
    backup_database = source / DATABASE_FILE
    if (problem := _integrity(backup_database)) != "ok":
        raise RestoreRefused(f"the backup's database failed its integrity check ({problem}); nothing was changed.")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy_database(backup_database, target)  # through SQLite, so its WAL and any open reader stay coherent
    file_count = file_bytes = 0
    if manifest.get("files") and settings.storage_backend == "local":
        files_dir = settings.resolved_files_dir
        incoming = files_dir.with_name(files_dir.name + ".restoring")
        shutil.rmtree(incoming, ignore_errors=True)
        incoming.mkdir(parents=True)
        file_count, file_bytes = _copy_files(source / FILES_FOLDER, incoming, progress)
        replaced = files_dir.with_name(files_dir.name + ".replaced")
        shutil.rmtree(replaced, ignore_errors=True)
        if files_dir.exists():
            os.replace(files_dir, replaced)
        os.replace(incoming, files_dir)
        shutil.rmtree(replaced, ignore_errors=True)
    return BackupReport(source, target.stat().st_size, file_count, file_bytes, list(manifest.get("revisions", [])))
