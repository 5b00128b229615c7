"""`partnerdesk backup` / `restore` on the SQLite default: an online, consistent copy of the database and
the files, taken while writes go on, restored into a fresh data dir with every row and byte the same."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.cli import app as cli
from partnerdesk.config import Settings
from partnerdesk.ops import backup as backups
from tests.orders.factories import load_catalog
from tests.software.factories import add_file, file_bytes

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL: pg_dump


def rows(database: Path) -> dict[str, set[tuple]]:
    with sqlite3.connect(database) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {table: set(connection.execute(f'SELECT * FROM "{table}"')) for table in tables}


def files(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in folder.rglob("*") if path.is_file()}


def database_file(settings: Settings) -> Path:
    return Path(settings.resolved_database_url.removeprefix("sqlite:///"))


class Writer(threading.Thread):
    """Adds agents one committed transaction at a time until told to stop, as a busy desk would."""

    def __init__(self, desk) -> None:
        super().__init__(daemon=True)
        self.desk = desk
        self.committed = 0
        self.progress = threading.Condition()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with self.desk.database.session() as db:
                accounts.add_agent(db, email=f"writer-{self.committed}@busy.example", role=Role.sales_agent,
                                   now=self.desk.clock.now(), partner_name="Busy Reseller")
            with self.progress:
                self.committed += 1
                self.progress.notify_all()

    def wait_for(self, count: int) -> int:
        with self.progress:
            assert self.progress.wait_for(lambda: self.committed >= count, timeout=60)
            return self.committed


@SQLITE
def test_a_backup_taken_while_writes_go_on_restores_into_a_fresh_data_dir_row_for_row(desk, settings, tmp_path):
    load_catalog(desk)
    add_file(desk, file_bytes(250_000), name="office-2024-fr.iso")
    writer = Writer(desk)
    writer.start()
    before = writer.wait_for(10)
    reported: list[tuple[int, int]] = []
    report = backups.backup(settings, tmp_path / "backup", now=desk.clock.now(),
                            progress=lambda done, total: reported.append((done, total)))
    at_backup_end = writer.committed
    writer.wait_for(at_backup_end + 10)  # the desk kept writing after the copy
    writer.stop.set()
    writer.join(timeout=60)

    fresh = Settings(data_dir=tmp_path / "fresh", secret_key="k")
    restored = backups.restore(fresh, tmp_path / "backup")
    source, copy = rows(database_file(settings)), rows(database_file(fresh))
    assert source.keys() == copy.keys()
    for table in source:
        assert copy[table] <= source[table], table  # nothing invented, nothing half-written
    agents = {row for row in copy["agents"] if "@busy.example" in str(row)}
    assert before <= len(agents) <= at_backup_end  # a snapshot taken between the two counts
    numbers = sorted(int(str(row).split("writer-")[1].split("@")[0]) for row in agents)
    assert numbers == list(range(len(agents)))  # one consistent prefix of the committed writes
    for table in source:
        if table != "agents" and "agent" not in table:
            assert copy[table] == source[table] or table in ("activity_records",), table
    assert files(fresh.resolved_files_dir) == files(settings.resolved_files_dir)
    assert report.file_count == restored.file_count == 1 and report.file_bytes == 250_000
    assert reported[-1] == (250_000, 250_000)
    with sqlite3.connect(database_file(fresh)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # the restored desk serves
    with TestClient(create_app(fresh)) as client:
        assert client.get("/readyz").json()["status"] == "ready"


@SQLITE
def test_a_transaction_still_open_during_the_backup_is_not_in_it(desk, settings, tmp_path):
    with desk.database.session() as db:
        accounts.add_agent(db, email="first@busy.example", role=Role.sales_agent, now=desk.clock.now(),
                           partner_name="Busy Reseller")
    writer = sqlite3.connect(database_file(settings), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE partners SET name = name || ' (renamed)'")
    writer.execute("UPDATE agents SET email = 'half-written@busy.example'")
    backups.backup(settings, tmp_path / "backup", now=desk.clock.now())
    writer.execute("COMMIT")
    writer.close()
    copied = rows(tmp_path / "backup" / backups.DATABASE_FILE)
    assert any("Busy Reseller" in str(row) for row in copied["partners"])
    assert not any("(renamed)" in str(row) for row in copied["partners"])
    assert not any("half-written" in str(row) for row in copied["agents"])
    assert any("half-written" in str(row) for row in rows(database_file(settings))["agents"])  # it did commit


@SQLITE
def test_restore_refuses_while_a_server_serves_the_data_dir_unless_forced(desk, settings, tmp_path):
    backups.backup(settings, tmp_path / "backup", now=desk.clock.now())
    target = Settings(data_dir=tmp_path / "served", secret_key="k")
    backups.restore(target, tmp_path / "backup")
    with TestClient(create_app(target)) as client:  # the app's lifespan holds the serving lock
        assert client.get("/healthz").status_code == 200
        with pytest.raises(backups.RestoreRefused, match="server is serving this data dir"):
            backups.restore(target, tmp_path / "backup")
        backups.restore(target, tmp_path / "backup", force=True)
    backups.restore(target, tmp_path / "backup")  # stopped: no --force needed


@SQLITE
def test_the_commands(desk, settings, tmp_path, monkeypatch):
    load_catalog(desk)
    add_file(desk, file_bytes(10_000))
    env = {"PARTNERDESK_DATA_DIR": str(settings.data_dir), "PARTNERDESK_DATABASE_URL": settings.resolved_database_url}
    made = CliRunner().invoke(cli, ["backup", str(tmp_path / "nightly")], env=env)
    assert made.exit_code == 0, made.output
    assert "and 1 file(s) (10,000 bytes)" in " ".join(made.output.split())
    again = CliRunner().invoke(cli, ["backup", str(tmp_path / "nightly")], env=env)
    assert again.exit_code == 1 and "already exists" in " ".join(again.output.split())

    fresh = {"PARTNERDESK_DATA_DIR": str(tmp_path / "fresh")}
    put_back = CliRunner().invoke(cli, ["restore", str(tmp_path / "nightly")], env=fresh)
    assert put_back.exit_code == 0, put_back.output
    assert rows(tmp_path / "fresh" / "partnerdesk.db") == rows(database_file(settings))
    not_one = CliRunner().invoke(cli, ["restore", str(tmp_path)], env=fresh)
    assert not_one.exit_code == 1 and "is not a Partner Desk backup" in " ".join(not_one.output.split())


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_on_postgresql_the_commands_say_to_use_pg_dump(tmp_path, command):
    env = {"PARTNERDESK_DATA_DIR": str(tmp_path), "PARTNERDESK_DATABASE_URL": "postgresql+psycopg://u@db.invalid/pd"}
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text('{"format": 1}')
    (tmp_path / "b" / "partnerdesk.db").write_bytes(b"")
    result = CliRunner().invoke(cli, [command, str(tmp_path / ("new" if command == "backup" else "b"))], env=env)
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "back it up with pg_dump" in said and "files" not in said.split("error")[0] and "docs/operations.md" in said


@SQLITE
def test_restore_refuses_under_a_server_serving_over_http(desk, settings, live_server, tmp_path):
    """A real uvicorn server (as `partnerdesk serve` runs it) on the data dir: restore is refused."""
    backups.backup(settings, tmp_path / "backup", now=desk.clock.now())
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "backup")],
                                env={"PARTNERDESK_DATA_DIR": str(settings.data_dir),
                                     "PARTNERDESK_DATABASE_URL": settings.resolved_database_url})
    assert result.exit_code == 1
    assert "a Partner Desk server is serving this data dir" in " ".join(result.output.split())
