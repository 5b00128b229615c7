"""Properties of the Hybrid Benefit calculation that hold for any fleet and licence inventory (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from partnerdesk.hybrid.calculation import (
    EDITIONS,
    Fleet,
    LicenceHolding,
    ReservationOffer,
    VmLine,
    estimate,
)

rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("5"), places=4)


@st.composite
def vm_lines(draw) -> VmLine:
    base = draw(rates)
    windows = base + draw(rates)
    offer = draw(st.none() | st.builds(ReservationOffer, st.sampled_from(["P1Y", "P3Y"]),
                                       st.decimals(min_value=Decimal("-0.2"), max_value=Decimal("0.8"), places=3)))
    return VmLine(name=draw(st.text(min_size=1, max_size=8)), count=draw(st.integers(1, 40)),
                  v_cpus=draw(st.integers(1, 64)), windows_rate_per_hour=windows, base_rate_per_hour=base,
                  reservation=offer)


licences = st.builds(LicenceHolding, st.sampled_from(EDITIONS), st.integers(0, 400), st.integers(0, 10),
                     st.booleans(), st.booleans())


@st.composite
def fleets(draw) -> Fleet:
    return Fleet(currency=draw(st.sampled_from(["EUR", "USD", "JPY"])), hours_per_month=draw(st.integers(1, 744)),
                 migration_overlap=draw(st.booleans()), vms=draw(st.lists(vm_lines(), min_size=1, max_size=6)),
                 licences=draw(st.lists(licences, max_size=5)),
                 reservation_term=draw(st.sampled_from([None, "P1Y", "P3Y"])))


@settings(max_examples=150, deadline=None)
@given(fleets())
def test_savings_are_never_negative_and_hybrid_benefit_never_costs_more(fleet):
    result = estimate(fleet)
    for line in [*result.lines, result.totals]:
        assert line.saving >= 0
        assert line.with_hybrid_benefit <= line.pay_as_you_go
        if line.with_reservation is not None:
            # Reservations are taken only where they pay off, and Hybrid Benefit only lowers the cost.
            assert line.with_reservation <= line.pay_as_you_go
            assert line.with_both <= line.with_reservation
            assert line.with_both <= line.with_hybrid_benefit
    assert Decimal(0) <= result.totals.saving_percent <= Decimal(100)


@settings(max_examples=150, deadline=None)
@given(fleets(), licences)
def test_more_licences_never_lower_the_saving(fleet, extra):
    before = estimate(fleet)
    after = estimate(replace(fleet, licences=[*fleet.licences, extra]))
    assert after.totals.saving >= before.totals.saving
    assert after.totals.cores_available >= before.totals.cores_available
    assert after.totals.vms_covered >= before.totals.vms_covered or after.totals.saving > before.totals.saving


@settings(max_examples=150, deadline=None)
@given(fleets())
def test_totals_are_the_sums_of_the_lines(fleet):
    result = estimate(fleet)
    lines, totals = result.lines, result.totals
    assert totals.pay_as_you_go == sum(line.pay_as_you_go for line in lines)
    assert totals.with_hybrid_benefit == sum(line.with_hybrid_benefit for line in lines)
    assert totals.saving == sum(line.saving for line in lines)
    assert totals.vms_covered == sum(line.vms_covered for line in lines)
    assert totals.cores_used == sum(line.cores_used for line in lines) <= totals.cores_available
    if totals.with_reservation is not None:
        assert totals.with_reservation == sum(line.with_reservation for line in lines)
        assert totals.with_both == sum(line.with_both for line in lines)


@settings(max_examples=100, deadline=None)
@given(fleets())
def test_money_is_decimal_rounded_to_the_currency(fleet):
    result = estimate(fleet)
    places = 0 if fleet.currency == "JPY" else 2
    for line in [*result.lines, result.totals]:
        amounts = [line.pay_as_you_go, line.with_hybrid_benefit, line.saving, line.with_reservation, line.with_both]
        for amount in amounts:
            if amount is None:
                continue
            assert type(amount) is Decimal
            assert amount == amount.quantize(Decimal(1).scaleb(-places))
    assert type(result.totals.saving_percent) is Decimal
