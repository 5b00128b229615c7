"""`partnerdesk catalog import/export` with Partner Center's layouts: --format, the skipped rows, the progress bar."""

from __future__ import annotations

import pytest

from partnerdesk.catalog import pricelist_formats as formats
from tests.catalog.test_pricelist_formats import BOM, FIXTURES, generated_azure

pytestmark = pytest.mark.both_engines


def said(text: str) -> str:
    """What the CLI printed, with the line breaks of the terminal's width undone (CI's is 80 columns)."""
    return " ".join(text.split())


def test_importing_partner_centers_azure_sheet_reports_what_it_skipped(cli, desk):
    imported = cli("catalog", "import", str(FIXTURES / "azure.csv"))
    assert imported.exit_code == 0, imported.output
    assert "imported 4 price rows (2 products, 3 SKUs, 2 markets) in " in said(imported.stdout)
    assert "s, read as the azure layout" in said(imported.stdout)
    assert "100%" not in imported.stderr  # no progress bar where nobody watches (a pipe, a log)
    assert ("skipped 5 rows, not sold here: 3 Azure consumption meter, 1 Azure reservation of another service, "
            "1 third-party Azure product") in said(imported.stdout)
    exported = cli("catalog", "export", "--format", "azure", "--market", "FR")
    assert exported.exit_code == 0
    assert exported.stdout.startswith(BOM + ",".join(f'"{name}"' for name in formats.AZURE_COLUMNS) + "\n")
    assert len(exported.stdout.splitlines()) == 1 + 2


def test_the_format_option_overrides_the_header_and_refuses_unknown_names(cli, tmp_path, desk):
    as_online_services = cli("catalog", "import", "--format", "new-commerce", str(FIXTURES / "software.csv"))
    assert as_online_services.exit_code == 0, as_online_services.output
    assert "imported 0 price rows" in said(as_online_services.stdout)
    assert "skipped 8 rows, not sold here: 8 online services seat (new commerce)" in said(as_online_services.stdout)
    unknown = cli("catalog", "import", "--format", "xlsx", str(FIXTURES / "software.csv"))
    assert unknown.exit_code == 1 and "'xlsx' is not a price-list format" in said(unknown.stderr)
    target = tmp_path / "never.csv"
    refused = cli("catalog", "export", "--format", "xlsx", "--output", str(target))
    assert refused.exit_code == 1 and not target.exists()
    no_market = cli("catalog", "export", "--format", "software", "--market", "QQ", "--output", str(target))
    assert no_market.exit_code == 1 and "'QQ'" in said(no_market.stderr) and not target.exists()
    on_stdout = cli("catalog", "export", "--format", "software", "--market", "QQ")
    assert on_stdout.exit_code == 1 and on_stdout.stdout == ""


def test_the_import_shows_a_progress_bar_and_the_export_writes_the_layout_asked(cli, tmp_path, desk):
    source = tmp_path / "azure-reservations.csv"
    source.write_text(BOM + generated_azure(series=20), encoding="utf-8")
    imported = cli("catalog", "import", str(source), terminal=True)
    assert imported.exit_code == 0, imported.output
    assert "imported 4000 price rows (20 products, 200 SKUs, 10 markets)" in said(imported.stdout)
    assert "importing" in imported.stderr and "100%" in imported.stderr and "rows" in imported.stderr
    target = tmp_path / "software.csv"
    exported = cli("catalog", "export", "--format", "software", "--output", str(target))
    assert exported.exit_code == 0 and "wrote 0 price rows" in exported.stderr
    assert target.read_text(encoding="utf-8") == BOM + ",".join(formats.SOFTWARE_COLUMNS) + "\n"
    azure = cli("catalog", "export", "--format", "azure", "--output", str(tmp_path / "azure.csv"))
    assert azure.exit_code == 0 and "wrote 4000 price rows" in azure.stderr
