"""Azure Hybrid Benefit and Reserved Instance savings of a VM fleet, worked out exactly (rule R7). No I/O.

The service gathers the inputs (rates from the operator's rate table, reservation discounts from the
catalog) and this module does the arithmetic and says, line by line, which rule decided the result.
Every explanation is a list of `Note`s: an English sentence with `%(name)s` placeholders and the
values to put in, so the API answers in English and the portal in the reader's language with
numbers formatted for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from partnerdesk.core.money import round_to_currency

DATACENTER = "Datacenter"
STANDARD = "Standard"
EDITIONS = (DATACENTER, STANDARD)
RESERVATION_TERMS = ("P1Y", "P3Y")
TERM_MONTHS = {"P1Y": 12, "P3Y": 36}

# Rule R7: a VM needs at least 8 core licences, and one per vCPU above 8.
MINIMUM_CORES_PER_VM = 8
# A legacy 2-processor licence stands for 16 core licences.
CORES_PER_PROCESSOR_LICENCE = 16
# A reservation is paid for every hour of the month, whether the VM runs or not (8760 h / 12).
RESERVED_HOURS_PER_MONTH = 730
# Standard licences in use on-premises count for Azure only during this one-time migration overlap.
MIGRATION_OVERLAP_DAYS = 180


def N_(message: str) -> str:  # noqa: N802 - marks English text for the portal's catalogs (pybabel)
    return message


@dataclass(frozen=True)
class Note:
    """One sentence of an explanation: English text with `%(name)s` placeholders, and their values.

    Values are `int`, `str`, money (`Decimal` tagged by a name ending in `amount`) or a percentage
    (`Decimal` tagged by a name ending in `percent`), so each reader formats them its own way.
    """

    text: str
    values: dict[str, int | str | Decimal] = field(default_factory=dict)


def cores_per_vm(v_cpus: int) -> int:
    """Core licences one VM needs: 8 at least, one per vCPU above 8 (rule R7)."""
    return max(MINIMUM_CORES_PER_VM, v_cpus)


@dataclass(frozen=True)
class LicenceHolding:
    """Windows Server licences the customer owns, as one inventory line."""

    edition: str
    cores: int
    processor_licences: int
    software_assurance: bool
    in_use_on_premises: bool

    @property
    def total_cores(self) -> int:
        return self.cores + CORES_PER_PROCESSOR_LICENCE * self.processor_licences


@dataclass(frozen=True)
class ReservationOffer:
    """A reservation of the line's VM size for `term`, `discount` (0 to 1) below the base rate of a full month."""

    term: str
    discount: Decimal


@dataclass(frozen=True)
class VmLine:
    name: str
    count: int
    v_cpus: int
    windows_rate_per_hour: Decimal
    base_rate_per_hour: Decimal
    # Set when a reservation term was asked for and the catalog prices one for this size;
    # otherwise `no_reservation` says why the line stays pay-as-you-go.
    reservation: ReservationOffer | None = None
    no_reservation: Note | None = None


@dataclass(frozen=True)
class Fleet:
    currency: str
    hours_per_month: int
    migration_overlap: bool
    vms: Sequence[VmLine]
    licences: Sequence[LicenceHolding]
    reservation_term: str | None = None


@dataclass(frozen=True)
class LicenceCount:
    """How many cores of one inventory line count for Azure, and why."""

    index: int
    cores_counted: int
    note: Note


@dataclass(frozen=True)
class LineResult:
    name: str
    count: int
    v_cpus: int
    cores_per_vm: int
    vms_covered: int
    cores_used: int
    pay_as_you_go: Decimal
    with_hybrid_benefit: Decimal
    saving: Decimal
    # Only when a reservation term was asked for.
    with_reservation: Decimal | None
    with_both: Decimal | None
    reserved: bool
    # Whether Hybrid Benefit saves anything on this line (its Windows rate is above its base rate).
    needs_licences: bool
    notes: tuple[Note, ...]

    @property
    def vms_uncovered(self) -> int:
        return self.count - self.vms_covered


@dataclass(frozen=True)
class Totals:
    cores_required: int
    cores_available: int
    cores_used: int
    vms_covered: int
    pay_as_you_go: Decimal
    with_hybrid_benefit: Decimal
    saving: Decimal
    saving_percent: Decimal
    with_reservation: Decimal | None
    with_both: Decimal | None


@dataclass(frozen=True)
class Estimate:
    currency: str
    reservation_term: str | None
    lines: tuple[LineResult, ...]
    totals: Totals
    licences: tuple[LicenceCount, ...]


# --- licences --------------------------------------------------------------------------------------

def count_licence(index: int, holding: LicenceHolding, *, migration_overlap: bool) -> LicenceCount:
    """The cores of one inventory line that may be used in Azure (rule R7)."""
    cores = holding.total_cores
    values: dict[str, int | str | Decimal] = {"edition": holding.edition, "cores": cores}
    if not holding.software_assurance:
        return LicenceCount(index, 0, Note(N_("%(cores)s %(edition)s cores without Software Assurance do not count: "
                                              "Hybrid Benefit needs Software Assurance."), values))
    if holding.in_use_on_premises and holding.edition == STANDARD:
        if migration_overlap:
            return LicenceCount(index, cores, Note(
                N_("%(cores)s Standard cores in use on-premises count during the one-time %(days)s-day migration "
                   "overlap."), {**values, "days": MIGRATION_OVERLAP_DAYS}))
        return LicenceCount(index, 0, Note(
            N_("%(cores)s Standard cores in use on-premises do not count: Standard licences are used in one place "
               "(outside the one-time %(days)s-day migration overlap)."), {**values, "days": MIGRATION_OVERLAP_DAYS}))
    if holding.in_use_on_premises:
        return LicenceCount(index, cores, Note(
            N_("%(cores)s Datacenter cores count although in use on-premises: Datacenter licences may be used "
               "on-premises and in Azure at once."), values))
    return LicenceCount(index, cores, Note(N_("%(cores)s %(edition)s cores with Software Assurance count."), values))


# --- costs -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _MonthlyCosts:
    """Exact (unrounded) monthly costs of one VM of a line."""

    windows: Decimal          # pay-as-you-go with the Windows licence
    base: Decimal             # pay-as-you-go at the base rate (Hybrid Benefit)
    licence_premium: Decimal  # windows - base: what Hybrid Benefit saves
    reserved_compute: Decimal | None  # the reservation's cost, when one is taken


def _monthly_costs(line: VmLine, hours: int) -> tuple[_MonthlyCosts, Note | None]:
    windows = line.windows_rate_per_hour * hours
    base = line.base_rate_per_hour * hours
    offer = line.reservation
    if offer is None:
        return _MonthlyCosts(windows, base, windows - base, None), line.no_reservation
    reserved = line.base_rate_per_hour * RESERVED_HOURS_PER_MONTH * (Decimal(1) - offer.discount)
    percent = _percent(offer.discount)
    if reserved >= base:
        return _MonthlyCosts(windows, base, windows - base, None), Note(
            N_("Not reserved: at %(hours)s hours a month pay-as-you-go costs less than a %(term)s reservation, "
               "which is paid for all %(reserved_hours)s hours (%(discount_percent)s%% off the base rate)."),
            {"hours": hours, "term": offer.term, "reserved_hours": RESERVED_HOURS_PER_MONTH,
             "discount_percent": percent})
    return _MonthlyCosts(windows, base, windows - base, reserved), Note(
        N_("Reserved for %(term)s: %(discount_percent)s%% off the base compute rate, paid for all %(reserved_hours)s "
           "hours of the month."), {"term": offer.term, "discount_percent": percent,
                                   "reserved_hours": RESERVED_HOURS_PER_MONTH})


def _percent(fraction: Decimal) -> Decimal:
    return (fraction * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def discount_from_price(term_price: Decimal, term: str, base_rate_per_hour: Decimal) -> Decimal | None:
    """A reservation's discount off the base rate, from its price for the whole term (None without a base rate).

    Negative when the reservation costs more than running the VM all month at the base rate.
    """
    full_month = base_rate_per_hour * RESERVED_HOURS_PER_MONTH
    if full_month <= 0:
        return None
    monthly = term_price / TERM_MONTHS[term]
    return Decimal(1) - monthly / full_month


# --- allocation ------------------------------------------------------------------------------------

def _allocation_order(lines: Sequence[VmLine], costs: Sequence[_MonthlyCosts]) -> list[int]:
    """Lines by saving per core licence, largest first; equal savings keep the order given."""
    def saving_per_core(position: int) -> Decimal:
        return costs[position].licence_premium / cores_per_vm(lines[position].v_cpus)
    return sorted(range(len(lines)), key=lambda position: -saving_per_core(position))


def _allocate(lines: Sequence[VmLine], costs: Sequence[_MonthlyCosts], cores_available: int,
              ) -> tuple[list[int], list[Note]]:
    """VMs covered per line, most valuable lines first, and a note per line (in the lines' order) saying how."""
    covered = [0] * len(lines)
    notes: list[Note | None] = [None] * len(lines)
    left = cores_available
    for rank, position in enumerate(_allocation_order(lines, costs), start=1):
        line, cost = lines[position], costs[position]
        need = cores_per_vm(line.v_cpus)
        if cost.licence_premium <= 0:
            notes[position] = Note(N_("Same rate with and without the Windows licence: nothing to save, so no "
                                      "licence is used."))
            continue
        per_core = cost.licence_premium / need
        covered[position] = min(line.count, left // need)
        before, left = left, left - covered[position] * need
        values = {"rank": rank, "per_core_amount": per_core, "covered": covered[position], "count": line.count,
                  "used": covered[position] * need, "left_before": before, "need": need}
        if covered[position] == line.count:
            text = N_("Covered in turn %(rank)s (saves %(per_core_amount)s a month per core licence): %(used)s of "
                      "the %(left_before)s eligible core licences left cover all %(count)s VMs.")
        elif covered[position]:
            text = N_("Covered in turn %(rank)s (saves %(per_core_amount)s a month per core licence): the "
                      "%(left_before)s eligible core licences left cover %(covered)s of %(count)s VMs; the others "
                      "stay at the Windows rate.")
        elif cores_available == 0:
            text = N_("Not covered: no licence of the inventory counts for Azure.")
        else:
            text = N_("Not covered: in turn %(rank)s (saves %(per_core_amount)s a month per core licence) only "
                      "%(left_before)s eligible core licences were left, and a VM needs %(need)s; lines saving "
                      "more per core licence went first.")
        notes[position] = Note(text, values)
    return covered, [note for note in notes if note is not None]


def _cores_note(v_cpus: int) -> Note:
    need = cores_per_vm(v_cpus)
    if v_cpus < MINIMUM_CORES_PER_VM:
        return Note(N_("Each VM has %(vcpus)s vCPUs but needs the minimum of %(need)s core licences."),
                    {"vcpus": v_cpus, "need": need})
    if v_cpus == MINIMUM_CORES_PER_VM:
        return Note(N_("Each VM has %(vcpus)s vCPUs and needs %(need)s core licences."),
                    {"vcpus": v_cpus, "need": need})
    return Note(N_("Each VM has %(vcpus)s vCPUs and needs %(need)s core licences: 8, plus one per vCPU above 8."),
                {"vcpus": v_cpus, "need": need})


# --- the estimate ----------------------------------------------------------------------------------

def _line_result(line: VmLine, cost: _MonthlyCosts, covered: int, notes: list[Note], *, currency: str,
                 with_reservation: bool) -> LineResult:
    uncovered = line.count - covered
    pay_as_you_go = cost.windows * line.count
    with_ahb = cost.base * covered + cost.windows * uncovered
    reserved_result = both_result = None
    if with_reservation:
        compute = cost.reserved_compute if cost.reserved_compute is not None else cost.base
        # A reservation cuts the compute rate only; a VM without Hybrid Benefit still pays the licence.
        reserved_result = (compute + cost.licence_premium) * line.count
        both_result = compute * covered + (compute + cost.licence_premium) * uncovered
    money = lambda amount: round_to_currency(amount, currency)  # noqa: E731
    return LineResult(
        name=line.name, count=line.count, v_cpus=line.v_cpus, cores_per_vm=cores_per_vm(line.v_cpus),
        vms_covered=covered, cores_used=covered * cores_per_vm(line.v_cpus),
        pay_as_you_go=money(pay_as_you_go), with_hybrid_benefit=money(with_ahb),
        saving=money(pay_as_you_go) - money(with_ahb),
        with_reservation=None if reserved_result is None else money(reserved_result),
        with_both=None if both_result is None else money(both_result),
        reserved=cost.reserved_compute is not None, needs_licences=cost.licence_premium > 0, notes=tuple(notes),
    )


def estimate(fleet: Fleet) -> Estimate:
    """Monthly costs of the fleet pay-as-you-go, with Hybrid Benefit, with reservations and with both.

    Amounts are rounded to the currency per line; totals are the sums of the lines' rounded amounts,
    so a total always equals the sum of what the lines show.
    """
    licences = tuple(count_licence(index, holding, migration_overlap=fleet.migration_overlap)
                     for index, holding in enumerate(fleet.licences))
    cores_available = sum(licence.cores_counted for licence in licences)
    not_counted = [licence.note for licence in licences if licence.cores_counted == 0]
    priced = [_monthly_costs(line, fleet.hours_per_month) for line in fleet.vms]
    costs = [cost for cost, _note in priced]
    covered, allocation_by_line = _allocate(fleet.vms, costs, cores_available)
    with_reservation = fleet.reservation_term is not None
    lines = []
    for position, line in enumerate(fleet.vms):
        notes = [_cores_note(line.v_cpus), allocation_by_line[position]]
        if costs[position].licence_premium > 0 and covered[position] < line.count:
            notes.extend(not_counted)  # why the inventory held fewer licences than it seems
        if with_reservation and priced[position][1] is not None:
            notes.append(priced[position][1])
        lines.append(_line_result(line, costs[position], covered[position], notes, currency=fleet.currency,
                                  with_reservation=with_reservation))
    return Estimate(currency=fleet.currency, reservation_term=fleet.reservation_term, lines=tuple(lines),
                    totals=_totals(lines, fleet.vms, costs, cores_available, with_reservation), licences=licences)


def _totals(lines: Sequence[LineResult], vms: Sequence[VmLine], costs: Sequence[_MonthlyCosts], cores_available: int,
            with_reservation: bool) -> Totals:
    pay_as_you_go = sum((line.pay_as_you_go for line in lines), Decimal(0))
    with_ahb = sum((line.with_hybrid_benefit for line in lines), Decimal(0))
    saving = pay_as_you_go - with_ahb
    percent = _percent(saving / pay_as_you_go) if pay_as_you_go > 0 else Decimal("0.0")
    # Lines without a licence premium (a Linux VM) need no licence to save nothing.
    required = sum(line.count * line.cores_per_vm for line, cost in zip(lines, costs, strict=True)
                   if cost.licence_premium > 0)
    return Totals(
        cores_required=required, cores_available=cores_available,
        cores_used=sum(line.cores_used for line in lines), vms_covered=sum(line.vms_covered for line in lines),
        pay_as_you_go=pay_as_you_go, with_hybrid_benefit=with_ahb, saving=saving, saving_percent=percent,
        with_reservation=sum((line.with_reservation for line in lines), Decimal(0)) if with_reservation else None,
        with_both=sum((line.with_both for line in lines), Decimal(0)) if with_reservation else None,
    )


def describe(notes: Sequence[Note], gettext: Callable[[str], str], *, money: Callable[[Decimal], str],
             number: Callable[[int | Decimal], str], term: Callable[[str], str] = str) -> str:
    """The notes as sentences, translated by `gettext`, amounts by `money`, other numbers by `number` and
    reservation terms (P1Y) by `term`."""
    sentences = []
    for note in notes:
        values = {}
        for name, value in note.values.items():
            if name == "term" and isinstance(value, str):
                values[name] = term(value)
            elif name.endswith("amount") and isinstance(value, Decimal):
                values[name] = money(value)
            elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                values[name] = number(value)
            else:
                values[name] = value
        sentences.append(gettext(note.text) % values if values else gettext(note.text))
    return " ".join(sentences)
