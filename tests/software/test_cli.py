"""`partnerdesk keys import/status` and `partnerdesk files add/list` against the test database."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import tracemalloc

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from partnerdesk.cli import app
from partnerdesk.software.models import ProductKey, SoftwareFile
from tests.orders.factories import SOFTWARE_PRODUCT
from tests.software.factories import make_keys

# On PostgreSQL the CLI requires the schema at head; on SQLite it applies it.
pytestmark = pytest.mark.both_engines

SKU = f"{SOFTWARE_PRODUCT}:0001"


@pytest.fixture
def cli(software, settings):
    """Runs `partnerdesk ...` on the test's database, files folder and secret (so the desk reads its keys)."""
    runner = CliRunner()
    env = {"PARTNERDESK_DATABASE_URL": settings.database_url, "PARTNERDESK_DATA_DIR": str(settings.data_dir),
           "PARTNERDESK_SECRET_KEY": settings.secret_key, "COLUMNS": "200"}

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    invoke.env = env
    return invoke


def table_rows(cli, *args: str) -> list[list[str]]:
    """The rows of a table a command prints, as an operator runs it in a terminal 200 columns wide (in a
    process of its own: an in-process console keeps the width it was created with)."""
    result = subprocess.run([sys.executable, "-c", "from partnerdesk.cli import main; main()", *args],
                            env={**os.environ, **cli.env}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines()
            if line.startswith("│")]


def said(text: str) -> str:
    """What a command printed, with the console's line wrapping undone (its width depends on the terminal)."""
    return " ".join(text.split())


def counts(desk) -> tuple[int, int]:
    with desk.database.session(write=False) as db:
        return (db.scalar(select(func.count()).select_from(ProductKey)),
                db.scalar(select(func.count()).select_from(SoftwareFile)))


def test_keys_import_adds_a_file_of_keys_that_purchases_then_get(cli, software, tmp_path):
    keys = make_keys(5, seed=21)
    source = tmp_path / "keys.txt"
    source.write_text("# delivery 42\n\n" + "\n".join(keys) + "\n", encoding="utf-8")

    result = cli("keys", "import", "--sku", SKU, "--version", "2024", str(source))

    assert result.exit_code == 0, result.output
    assert said(result.stdout) == f"imported 5 key(s) into {SKU} version 2024; 5 available"
    assert not any(key in result.output for key in keys)
    assert software.keys_and_downloads(software.buy()).json()["productKeys"][0]["key"] in keys


def test_keys_import_with_bad_lines_names_each_line_exits_non_zero_and_imports_nothing(cli, software, tmp_path):
    keys = make_keys(3, seed=22)
    source = tmp_path / "keys.txt"
    source.write_text("\n".join([keys[0], "XXXXX-XXXXX", keys[1], keys[0], make_keys(10)[0], keys[2]]) + "\n",
                      encoding="utf-8")
    before = counts(software.desk)

    result = cli("keys", "import", "--product", SOFTWARE_PRODUCT, "--sku", "0001", str(source))

    assert result.exit_code == 1
    assert "No key was imported" in said(result.stderr)
    assert "line 2: not a product key" in said(result.stderr)
    assert "line 4: the same key as line 1" in said(result.stderr)
    assert "line 5: this key is already in a pool" in said(result.stderr)
    assert not any(key in result.output for key in keys)
    assert counts(software.desk) == before


def test_keys_import_refuses_a_file_that_is_not_text_and_a_sku_without_its_product(cli, software, tmp_path):
    binary = tmp_path / "keys.bin"
    binary.write_bytes(b"\xff\xfe\x00\x9f" * 10)
    assert cli("keys", "import", "--sku", SKU, str(binary)).exit_code == 1
    text = tmp_path / "keys.txt"
    text.write_text(make_keys(1, seed=23)[0], encoding="utf-8")
    result = cli("keys", "import", "--sku", "0001", str(text))
    assert result.exit_code == 1 and "name the product too" in said(result.stderr)
    assert counts(software.desk)[0] == 10


def test_keys_status_shows_what_each_pool_has_left_issued_and_revoked(cli, software):
    cancelled = software.buy(quantity=2)
    software.keys_and_downloads(cancelled)
    software.cancel(cancelled)
    software.keys_and_downloads(software.buy(quantity=3))

    rows = table_rows(cli, "keys", "status")

    assert rows == [[SKU, "(every version)", "5", "3", "2"]]


def test_files_add_streams_the_file_with_a_progress_bar_and_prints_its_sha256(cli, software, tmp_path):
    content = random.Random(31).randbytes(3_000_000)
    source = tmp_path / "Office 2024 EN.iso"
    source.write_bytes(content)

    result = cli("files", "add", str(source), "--product", SOFTWARE_PRODUCT, "--sku", "0001", "--version", "2024",
                 "--language", "en", "--file-type", "ISO")

    assert result.exit_code == 0, result.output
    printed = said(result.stdout)
    assert "storing Office 2024 EN.iso" in printed and "3.0/3.0 MB" in printed  # the bar, at the end
    assert f"sha256 {hashlib.sha256(content).hexdigest()}" in printed
    assert "stored Office 2024 EN.iso (3000000 bytes) for DG7GMGF0DVT5:0001 2024 en ISO" in printed
    link = software.keys_and_downloads(software.buy(), language="en").json()["downloads"][0]
    assert link["fileName"] == "Office 2024 EN.iso"
    assert software.download(link["uri"].removeprefix("http://testserver")).content == content


@pytest.mark.parametrize(("option", "value", "named"), [
    ("--version", "2019", "version: '2019' is not a version offered"),
    ("--language", "fr-FR", "language: 'fr-FR' is not a language offered"),
    ("--file-type", "ISO x64", "fileType: 'ISO x64' is not a file type offered"),
])
def test_files_add_refuses_a_choice_the_sku_does_not_offer_naming_it(cli, software, tmp_path, option, value, named):
    source = tmp_path / "office.iso"
    source.write_bytes(b"\x01" * 100_000)
    choice = {"--version": "2024", "--language": "en", "--file-type": "ISO", option: value}
    before = counts(software.desk)

    result = cli("files", "add", str(source), "--sku", SKU, *[part for pair in choice.items() for part in pair])

    assert result.exit_code == 1
    assert named in said(result.stderr)
    assert counts(software.desk) == before
    files_dir = software.desk.settings.resolved_files_dir
    assert len([path for path in files_dir.rglob("*") if path.is_file()]) == 1  # the fixture's file only


def test_files_list_shows_each_stored_file(cli, software, tmp_path):
    source = tmp_path / "office-en.iso"
    source.write_bytes(b"\x02" * 5000)
    assert cli("files", "add", str(source), "--sku", SKU, "--version", "2024", "--language", "en",
               "--file-type", "ISO").exit_code == 0

    rows = table_rows(cli, "files", "list", "--product", SOFTWARE_PRODUCT)

    assert [row[:6] for row in rows] == [
        [SKU, "2024", "en", "ISO", "office-en.iso", "5000"],
        [SKU, "2024", "fr", "ISO", "office-2024-fr.iso", "300000"],
    ]
    assert rows[0][6] == hashlib.sha256(b"\x02" * 5000).hexdigest()  # whole: operators compare it


def test_files_add_stores_a_large_file_without_holding_it_in_memory(cli, software, tmp_path):
    size = 64 * 1024 * 1024
    source = tmp_path / "big.iso"
    digest = hashlib.sha256()
    rng = random.Random(41)
    with open(source, "wb") as handle:
        for _ in range(size // (1024 * 1024)):
            chunk = rng.randbytes(1024 * 1024)
            digest.update(chunk)
            handle.write(chunk)
    tracemalloc.start()
    try:
        result = cli("files", "add", str(source), "--sku", SKU, "--version", "2024", "--language", "en",
                     "--file-type", "ISO")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.exit_code == 0, result.output
    assert f"sha256 {digest.hexdigest()}" in said(result.stdout)
    assert peak < 16 * 1024 * 1024, f"{peak / 2**20:.1f} MiB held for a {size / 2**20:.0f} MiB file"
