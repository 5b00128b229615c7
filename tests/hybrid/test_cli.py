"""`partnerdesk ahb estimate FLEET.csv LICENSES.csv [--json]` and `partnerdesk ahb rates import|list`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from partnerdesk.cli import app
from partnerdesk.hybrid.demo import DEMO_RATES
from partnerdesk.hybrid.models import VmRate

pytestmark = pytest.mark.both_engines  # on PostgreSQL the CLI requires the schema at head; SQLite applies it

FLEET = "name,count,vCpus,windowsRatePerHour,baseRatePerHour\nweb,2,8,0.20,0.12\n"
LICENCES = "edition,cores,processorLicenses,softwareAssurance,inUseOnPremises\nStandard,16,0,yes,no\n"
RATES_HEADER = "size,region,currency,vCpus,windowsRatePerHour,baseRatePerHour\n"


@pytest.fixture
def cli(database_url, tmp_path, desk):
    runner = CliRunner()
    env = {"PARTNERDESK_DATABASE_URL": database_url, "PARTNERDESK_DATA_DIR": str(tmp_path / "cli-data"),
           "PARTNERDESK_SECRET_KEY": "test-secret-key-not-for-production", "COLUMNS": "200"}

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    return invoke


def _files(tmp_path, fleet: str = FLEET, licences: str = LICENCES) -> tuple[str, str]:
    (tmp_path / "fleet.csv").write_text(fleet, encoding="utf-8")
    (tmp_path / "licences.csv").write_text(licences, encoding="utf-8")
    return str(tmp_path / "fleet.csv"), str(tmp_path / "licences.csv")


def test_json_writes_the_apis_answer(cli, tmp_path):
    result = cli("ahb", "estimate", *_files(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["totals"] == {"coresRequired": 16, "coresAvailable": 16, "coresUsed": 16, "vmsCovered": 2,
                                "payAsYouGo": "292.00", "withHybridBenefit": "175.20", "saving": "116.80",
                                "savingPercent": "40.0"}
    assert answer["lines"][0]["withHybridBenefit"] == "175.20"


def test_the_table_shows_each_line_the_totals_and_why(cli, tmp_path):
    result = cli("ahb", "estimate", *_files(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Hybrid Benefit estimate, per month (EUR)" in result.stdout
    assert "292.00" in result.stdout and "175.20" in result.stdout and "116.80" in result.stdout
    # The sentences under the table wrap at the terminal's width: read them with their line breaks undone.
    flat = " ".join(result.stdout.split())
    assert "Saving with Hybrid Benefit: 116.80 EUR (40.0%)" in flat
    assert "web: Each VM has 8 vCPUs and needs 8 core licences." in flat


def test_sizes_from_the_rate_table_and_a_reservation(cli, tmp_path):
    assert cli("ahb", "rates", "import", str(DEMO_RATES)).exit_code == 0
    fleet = "name,count,size,region\napp,1,Standard_D4s_v5,westeurope\n"
    result = cli("ahb", "estimate", *_files(tmp_path, fleet=fleet), "--term", "P1Y", "--json")
    assert result.exit_code == 0, result.output
    [line] = json.loads(result.stdout)["lines"]
    # No catalog in this database: the line says why it is not reserved.
    assert line["payAsYouGo"] == "258.42"
    assert "the catalog has no P1Y Reserved Instance of Standard_D4s_v5" in line["explanation"]


@pytest.mark.parametrize(("fleet", "licences", "message"), [
    (FLEET.replace(",8,", ",0,"), LICENCES, "vms[0].vCpus: 0 is not a valid number of vCPUs"),
    (FLEET, LICENCES.replace("Standard", "Enterprise"), "licenses[0].edition: 'Enterprise' is not a Windows"),
    (FLEET, LICENCES.replace("yes", "maybe"), "line 2, softwareAssurance: 'maybe' is not yes or no"),
    ("name,count,cpus\nweb,2,8\n", LICENCES, "unknown: cpus"),
    (FLEET.replace(",2,", ",two,"), LICENCES, "line 2: count 'two' is not a whole number"),
])
def test_bad_files_exit_non_zero_with_a_clear_message(cli, tmp_path, fleet, licences, message):
    result = cli("ahb", "estimate", *_files(tmp_path, fleet, licences))
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_rates_import_adds_then_updates_and_lists(cli, tmp_path, desk):
    result = cli("ahb", "rates", "import", str(DEMO_RATES))
    assert result.exit_code == 0, result.output
    assert "imported 16 rates (16 added, 0 changed)" in result.stdout
    changed = tmp_path / "rates.csv"
    changed.write_text(RATES_HEADER + "Standard_D4s_v5,westeurope,EUR,4,0.3600,0.2150\n"
                       "Standard_D2s_v5,westeurope,EUR,2,0.1770,0.1060\n", encoding="utf-8")
    again = cli("ahb", "rates", "import", str(changed))
    assert "imported 2 rates (0 added, 1 changed)" in again.stdout
    with desk.database.session() as db:
        rate = db.scalar(select(VmRate).where(VmRate.size == "Standard_D4s_v5", VmRate.region == "westeurope"))
        assert (rate.windows_rate_per_hour, rate.base_rate_per_hour) == (Decimal("0.36"), Decimal("0.215"))
    listed = cli("ahb", "rates", "list", "--currency", "GBP")
    assert "Standard_D4s_v5" in listed.stdout and "uksouth" in listed.stdout and "westeurope" not in listed.stdout


def test_a_bad_rate_table_lists_each_bad_line_and_imports_nothing(cli, tmp_path, desk):
    bad = tmp_path / "bad.csv"
    bad.write_text(RATES_HEADER + "Standard_D4s_v5,westeurope,EUR,4,0.3540,0.2120\n"
                   "Standard_D2s_v5,westeurope,EURO,2,0.1770,0.1060\n"
                   "Standard_D8s_v5,westeurope,EUR,8,0.4000,0.4240\n"
                   "Standard_E8s_v5,westeurope,EUR,8,0.82001,0.5360\n", encoding="utf-8")
    result = cli("ahb", "rates", "import", str(bad))
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "line 3: currency 'EURO' is not an ISO 4217 code" in output
    assert "line 4: windowsRatePerHour is below baseRatePerHour" in output
    assert "line 5: windowsRatePerHour 0.82001 has more than 4 decimals" in output
    with desk.database.session() as db:
        assert db.scalars(select(VmRate)).all() == []


def test_the_example_files_work_on_the_demo_rate_table(cli):
    from partnerdesk.hybrid.demo import DEMO_RATES
    examples = DEMO_RATES.parent
    assert cli("ahb", "rates", "import", str(DEMO_RATES)).exit_code == 0
    result = cli("ahb", "estimate", str(examples / "example_fleet.csv"), str(examples / "example_licences.csv"),
                 "--json")
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)["totals"]
    # web: 4 × D4s v5 (8 cores each), sql: 2 × E8s v5 (8 each), build: Linux-priced (no licence needed) → 48 cores.
    # Eligible: 16 Datacenter cores (on-premises too); the Standard ones in use on-premises and those
    # without Software Assurance do not count. sql saves more per core and takes all 16.
    assert (totals["coresRequired"], totals["coresAvailable"], totals["vmsCovered"]) == (48, 16, 2)
    # sql: 2 × 730 × (0.8200 - 0.5360) = 414.64.
    assert totals["saving"] == "414.64"
