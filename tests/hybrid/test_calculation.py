"""Hand-worked cases of the Hybrid Benefit calculation (rule R7), each with its arithmetic in a comment."""

from __future__ import annotations

from decimal import Decimal

from partnerdesk.hybrid import calculation
from partnerdesk.hybrid.calculation import (
    DATACENTER,
    STANDARD,
    Fleet,
    LicenceHolding,
    ReservationOffer,
    VmLine,
    cores_per_vm,
    discount_from_price,
    estimate,
)

D = Decimal


def vm(name: str = "web", count: int = 1, v_cpus: int = 8, windows: str = "0.20", base: str = "0.12",
       **kwargs) -> VmLine:
    return VmLine(name, count, v_cpus, D(windows), D(base), **kwargs)


def licence(edition: str = STANDARD, cores: int = 16, *, processors: int = 0, sa: bool = True,
            on_premises: bool = False) -> LicenceHolding:
    return LicenceHolding(edition, cores, processors, sa, on_premises)


def fleet(*vms: VmLine, licences: tuple[LicenceHolding, ...] = (), overlap: bool = False, term: str | None = None,
          hours: int = 730) -> Fleet:
    return Fleet("EUR", hours, overlap, list(vms), list(licences), term)


def explanation(line: calculation.LineResult) -> str:
    return calculation.describe(line.notes, lambda text: text, money=str, number=str)


def test_the_issue_example_two_8_vcpu_vms_on_16_standard_cores():
    # 2 VMs × 730 h × 0.20 = 292.00 pay-as-you-go; at the base rate 2 × 730 × 0.12 = 175.20;
    # saving 292.00 - 175.20 = 116.80, which is 116.80 / 292.00 = 40.0 %.
    result = estimate(fleet(vm(count=2), licences=(licence(cores=16),)))
    line = result.lines[0]
    assert (line.cores_per_vm, line.vms_covered) == (8, 2)
    assert (line.pay_as_you_go, line.with_hybrid_benefit, line.saving) == (D("292.00"), D("175.20"), D("116.80"))
    totals = result.totals
    assert (totals.cores_required, totals.cores_available, totals.cores_used, totals.vms_covered) == (16, 16, 16, 2)
    assert totals.saving_percent == D("40.0")
    assert totals.with_reservation is None and totals.with_both is None


def test_a_4_vcpu_vm_needs_the_minimum_of_8_core_licences():
    # max(8, 4) = 8: with 7 core licences nothing is covered, with 8 the VM is.
    assert cores_per_vm(4) == 8
    short = estimate(fleet(vm(v_cpus=4), licences=(licence(cores=7),)))
    assert short.lines[0].vms_covered == 0
    enough = estimate(fleet(vm(v_cpus=4), licences=(licence(cores=8),)))
    assert enough.lines[0].vms_covered == 1
    assert "needs the minimum of 8 core licences" in explanation(enough.lines[0])


def test_a_12_vcpu_vm_needs_12_core_licences():
    # 8 + one per vCPU above 8: 8 + (12 - 8) = 12. 11 cores leave it uncovered, 12 cover it.
    assert cores_per_vm(12) == 12
    assert estimate(fleet(vm(v_cpus=12), licences=(licence(cores=11),))).lines[0].vms_covered == 0
    covered = estimate(fleet(vm(v_cpus=12), licences=(licence(cores=12),)))
    assert covered.lines[0].vms_covered == 1
    assert covered.totals.cores_used == 12


def test_16_core_licences_cover_two_8_vcpu_vms_or_one_16_vcpu_vm():
    # Two 8-vCPU VMs: 2 × max(8, 8) = 16 cores. One 16-vCPU VM: 8 + (16 - 8) = 16 cores.
    two = estimate(fleet(vm(count=2, v_cpus=8), licences=(licence(cores=16),)))
    assert (two.lines[0].vms_covered, two.totals.cores_used) == (2, 16)
    one = estimate(fleet(vm(count=1, v_cpus=16), licences=(licence(cores=16),)))
    assert (one.lines[0].vms_covered, one.totals.cores_used) == (1, 16)
    # A legacy 2-processor licence is 16 cores too, and covers the same.
    legacy = estimate(fleet(vm(count=2, v_cpus=8), licences=(licence(cores=0, processors=1),)))
    assert legacy.totals.cores_available == 16
    assert legacy.lines[0].vms_covered == 2


def test_licences_without_software_assurance_cover_nothing():
    # 64 cores without SA count as 0: the VM stays at 730 × 0.20 = 146.00, nothing saved.
    result = estimate(fleet(vm(), licences=(licence(DATACENTER, 64, sa=False),)))
    line = result.lines[0]
    assert result.totals.cores_available == 0
    assert (line.vms_covered, line.pay_as_you_go, line.with_hybrid_benefit, line.saving) == (
        0, D("146.00"), D("146.00"), D("0.00"))
    assert "without Software Assurance do not count" in explanation(line)


def test_standard_licences_in_use_on_premises_cover_nothing_unless_in_the_180_day_overlap():
    # Standard, 16 cores, in use on-premises: 0 cores for Azure. With the one-time migration
    # overlap they count: 16 cores cover one 8-vCPU VM, saving 730 × (0.20 - 0.12) = 58.40.
    on_premises = licence(STANDARD, 16, on_premises=True)
    outside = estimate(fleet(vm(), licences=(on_premises,)))
    assert outside.totals.cores_available == 0
    assert outside.lines[0].vms_covered == 0
    assert "Standard licences are used in one place" in explanation(outside.lines[0])
    during = estimate(fleet(vm(), licences=(on_premises,), overlap=True))
    assert during.totals.cores_available == 16
    assert (during.lines[0].vms_covered, during.lines[0].saving) == (1, D("58.40"))
    assert "180-day migration overlap" in calculation.describe(
        [during.licences[0].note], lambda text: text, money=str, number=str)


def test_datacenter_licences_in_use_on_premises_still_cover():
    # Datacenter may run on-premises and in Azure at once: 16 cores cover one 16-vCPU VM,
    # saving 730 × (0.40 - 0.24) = 116.80.
    result = estimate(fleet(vm(v_cpus=16, windows="0.40", base="0.24"),
                            licences=(licence(DATACENTER, 16, on_premises=True),)))
    assert result.totals.cores_available == 16
    assert (result.lines[0].vms_covered, result.lines[0].saving) == (1, D("116.80"))


def test_a_mixed_fleet_covers_the_most_valuable_lines_first_when_licences_run_out():
    # Saving per core licence a month:
    #   "sql": 16 vCPUs, 730 × (1.00 - 0.50) = 365.00 a VM / 16 cores = 22.8125 a core
    #   "web":  4 vCPUs, 730 × (0.20 - 0.12) =  58.40 a VM /  8 cores =  7.30 a core
    #   "app":  8 vCPUs, 730 × (0.35 - 0.21) = 102.20 a VM /  8 cores = 12.775 a core
    # 40 eligible cores (24 Standard + 16 Datacenter; 32 Standard without SA do not count):
    #   sql first: 1 VM × 16 = 16 cores, 24 left; app next: 3 VMs would need 24 → all 3, 0 left;
    #   web last: nothing left for its 2 VMs.
    result = estimate(fleet(
        vm("web", count=2, v_cpus=4, windows="0.20", base="0.12"),
        vm("sql", count=1, v_cpus=16, windows="1.00", base="0.50"),
        vm("app", count=3, v_cpus=8, windows="0.35", base="0.21"),
        licences=(licence(STANDARD, 24), licence(DATACENTER, 16), licence(STANDARD, 32, sa=False))))
    web, sql, app = result.lines
    assert (sql.vms_covered, app.vms_covered, web.vms_covered) == (1, 3, 0)
    assert (result.totals.cores_available, result.totals.cores_used) == (40, 40)
    # Required to cover everything: 2 × 8 + 16 + 3 × 8 = 56 cores.
    assert result.totals.cores_required == 56
    # web stays at 2 × 730 × 0.20 = 292.00; sql saves 365.00; app saves 3 × 102.20 = 306.60.
    assert (web.saving, sql.saving, app.saving) == (D("0.00"), D("365.00"), D("306.60"))
    assert result.totals.saving == D("671.60")
    assert "Covered in turn 1" in explanation(sql)
    assert "Covered in turn 2" in explanation(app)
    assert "Not covered: in turn 3" in explanation(web)
    assert "only 0 eligible core licences were left" in explanation(web)
    # The uncovered line says which licences did not count.
    assert "without Software Assurance do not count" in explanation(web)


def test_a_line_is_partly_covered_when_licences_run_out_within_it():
    # 20 cores, 3 VMs of 8 vCPUs: 20 // 8 = 2 covered, 4 cores unused.
    # 2 × 730 × 0.12 + 1 × 730 × 0.20 = 175.20 + 146.00 = 321.20 with Hybrid Benefit.
    result = estimate(fleet(vm(count=3), licences=(licence(cores=20),)))
    line = result.lines[0]
    assert (line.vms_covered, result.totals.cores_used) == (2, 16)
    assert line.with_hybrid_benefit == D("321.20")
    assert "cover 2 of 3 VMs" in explanation(line)


def test_a_reservation_cuts_the_compute_rate_and_combines_with_hybrid_benefit():
    # Base rate 0.12, Windows 0.20, a reservation 30 % off the base rate paid for 730 hours:
    #   reserved compute = 0.12 × 730 × 0.70 = 61.32 a VM; licence premium = 0.08 × 730 = 58.40.
    #   with reservation only: 2 × (61.32 + 58.40) = 239.44; with both (both VMs covered): 2 × 61.32 = 122.64.
    line = vm(count=2, reservation=ReservationOffer("P1Y", D("0.30")))
    result = estimate(fleet(line, licences=(licence(cores=16),), term="P1Y"))
    assert (result.lines[0].with_reservation, result.lines[0].with_both) == (D("239.44"), D("122.64"))
    assert (result.totals.with_reservation, result.totals.with_both) == (D("239.44"), D("122.64"))
    assert "Reserved for P1Y: 30.0% off" in explanation(result.lines[0])


def test_a_reservation_is_not_taken_where_pay_as_you_go_costs_less():
    # 200 hours a month at base 0.12 = 24.00; a reservation 30 % off for all 730 hours = 61.32: not worth it,
    # so "with reservation" stays pay-as-you-go: 200 × 0.20 = 40.00.
    line = vm(reservation=ReservationOffer("P1Y", D("0.30")))
    result = estimate(fleet(line, term="P1Y", hours=200))
    assert result.lines[0].reserved is False
    assert result.lines[0].with_reservation == D("40.00")
    assert "Not reserved: at 200 hours a month" in explanation(result.lines[0])


def test_a_line_without_a_catalog_price_says_why_it_is_not_reserved():
    note = calculation.Note("No reservation: the catalog has no %(term)s Reserved Instance of %(size)s.",
                            {"term": "P3Y", "size": "Standard_X"})
    result = estimate(fleet(vm(no_reservation=note), term="P3Y"))
    # No reservation: with reservation = pay-as-you-go = 146.00.
    assert result.lines[0].with_reservation == D("146.00")
    assert "no P3Y Reserved Instance of Standard_X" in explanation(result.lines[0])


def test_the_discount_comes_from_the_term_price_against_a_full_month_at_the_base_rate():
    # D4s v5 in the demo catalog: 1234.56 for a year = 102.88 a month; base 0.2120 × 730 = 154.76 a month;
    # discount 1 - 102.88 / 154.76 = 0.33523...
    discount = discount_from_price(D("1234.56"), "P1Y", D("0.2120"))
    assert discount.quantize(D("0.0001")) == D("0.3352")
    # Three years at 2592.58: 72.0161 a month, 1 - 72.0161 / 154.76 = 0.5347...
    assert discount_from_price(D("2592.58"), "P3Y", D("0.2120")).quantize(D("0.0001")) == D("0.5347")
    assert discount_from_price(D("100"), "P1Y", D("0")) is None


def test_a_linux_line_needs_no_licence_and_leaves_them_to_the_others():
    # "linux" has the same rate with and without Windows: nothing to save, no licence used;
    # the 8 cores go to "win": 730 × (0.20 - 0.12) = 58.40 saved.
    result = estimate(fleet(vm("linux", windows="0.12", base="0.12"), vm("win"), licences=(licence(cores=8),)))
    linux, win = result.lines
    assert (linux.vms_covered, win.vms_covered) == (0, 1)
    assert result.totals.cores_required == 8
    assert "nothing to save" in explanation(linux)


def test_money_is_rounded_per_line_and_totals_add_the_lines_up():
    # 3 VMs × 730 × 0.1234 = 270.246 → 270.25; 1 × 730 × 0.0567 = 41.391 → 41.39; total 311.64.
    result = estimate(fleet(vm("a", count=3, windows="0.1234", base="0.1"), vm("b", windows="0.0567", base="0.05")))
    assert [line.pay_as_you_go for line in result.lines] == [D("270.25"), D("41.39")]
    assert result.totals.pay_as_you_go == D("311.64")
