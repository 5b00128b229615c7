"""`partnerdesk catalog ...` and `partnerdesk policies ...` against the test database."""

from __future__ import annotations

from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.catalog.models import Availability
from tests.catalog.test_pricelist import GOOD_FILE, GOOD_ROWS, HEADER


def test_import_then_export_round_trips(cli, tmp_path, desk):
    source = tmp_path / "prices.csv"
    source.write_text(GOOD_FILE, encoding="utf-8")
    imported = cli("catalog", "import", str(source))
    assert imported.exit_code == 0, imported.output
    assert "imported 4 price rows (2 products, 2 SKUs, 3 markets)" in imported.stdout
    exported = cli("catalog", "export")
    assert exported.exit_code == 0 and exported.stdout == GOOD_FILE
    target = tmp_path / "fr.csv"
    by_market = cli("catalog", "export", "--market", "FR", "--output", str(target))
    assert by_market.exit_code == 0
    assert target.read_text(encoding="utf-8").splitlines()[1:] == [GOOD_ROWS[0], GOOD_ROWS[2]]


def test_a_bad_file_exits_non_zero_listing_every_bad_row_and_writes_nothing(cli, tmp_path, desk):
    source = tmp_path / "bad.csv"
    bad_market = GOOD_ROWS[0].replace(",FR,EUR,", ",QQ,EUR,")
    bad_price = GOOD_ROWS[2].replace(",1234.56,", ",-3,")
    source.write_text("\n".join([HEADER, bad_market, GOOD_ROWS[1], bad_price]) + "\n", encoding="utf-8")
    result = cli("catalog", "import", str(source))
    assert result.exit_code == 1
    assert "2 bad rows; nothing was imported" in result.stderr
    assert "line 2: Market: 'QQ' is not a market" in result.stderr
    assert "line 4: UnitPrice: '-3' is negative" in result.stderr
    with desk.database.session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Availability)) == 0


def test_a_file_that_is_not_utf8_is_refused(cli, tmp_path, desk):
    source = tmp_path / "latin1.csv"
    source.write_bytes(HEADER.encode() + b"\n\xe9\xe9\xe9\n")
    result = cli("catalog", "import", str(source))
    assert result.exit_code == 1 and "not UTF-8" in result.stderr


def test_markets_exclude_include_and_list(cli, actors):
    assert cli("catalog", "markets", "list").stdout.split() == [
        "AR",
        "AZ",
        "BR",
        "BY",
        "CN",
        "ID",
        "IN",
        "KR",
        "KZ",
        "LI",
        "MX",
        "MY",
        "RU",
        "SA",
        "TR",
        "TW",
        "UA",
        "ZA",
    ]
    excluded = cli("catalog", "markets", "exclude", "fr")
    assert excluded.exit_code == 0 and "FR" in excluded.stdout.split()
    assert "FR" in actors(Role.operator).get("/v1/policies/ri_excluded_markets").json()["value"]
    included = cli("catalog", "markets", "include", "BR")
    assert included.exit_code == 0 and "BR" not in included.stdout.split()
    unknown = cli("catalog", "markets", "exclude", "XX")
    assert unknown.exit_code == 1 and "'XX' is not a market" in unknown.stderr
    log = actors(Role.operator).get("/v1/activitylogs?action=policy.updated").json()
    assert log["totalCount"] == 2 and {entry["operatorType"] for entry in log["items"]} == {"system"}


def test_policies_list_set_and_reset(cli, actors):
    listed = cli("policies", "list")
    assert listed.exit_code == 0
    for key in (
        "ri_excluded_markets",
        "download_link_days",
        "download_link_max_downloads",
        "cancellation_window_days",
        "cart_expiry_hours",
    ):
        assert key in listed.stdout
    changed = cli("policies", "set", "cancellation_window_days", "30")
    assert changed.exit_code == 0 and "cancellation_window_days = 30" in changed.stdout
    assert actors(Role.helpdesk_agent).get("/v1/policies/cancellation_window_days").json()["value"] == 30
    assert cli("policies", "set", "ri_excluded_markets", "BR,IN").exit_code == 0
    assert actors(Role.operator).get("/v1/policies/ri_excluded_markets").json()["value"] == ["BR", "IN"]
    refused = cli("policies", "set", "cart_expiry_hours", "soon")
    assert refused.exit_code == 1 and "whole number" in refused.stderr
    unknown = cli("policies", "set", "max_discount", "5")
    assert unknown.exit_code == 1 and "No policy named 'max_discount'" in unknown.stderr
    reset = cli("policies", "reset", "cancellation_window_days")
    assert reset.exit_code == 0 and "60 (default)" in reset.stdout
