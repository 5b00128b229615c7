"""The rules around the Hybrid Benefit calculator (rule R7): checking a fleet, finding its rates and
reservation discounts, keeping estimates on customers, the operator's rate table, and turning an
estimate's suggestions into a cart.

The arithmetic itself is `calculation`'s (no I/O). Rates come only from the operator's imported rate
table, never from the network; a reservation's discount is derived from the catalog's Reserved
Instance price for the size against the table's base rate, and when the catalog cannot give one the
line says so instead of assuming a number.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_territory_currencies
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.catalog import repository
from partnerdesk.catalog import service as catalog
from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.catalog.repository import in_force
from partnerdesk.catalog.vocabulary import AZURE, TARGET_VIEWS
from partnerdesk.core.db import new_id
from partnerdesk.core.money import is_currency, money_str, round_to_currency
from partnerdesk.customers import service as customers
from partnerdesk.hybrid import calculation
from partnerdesk.hybrid.calculation import N_, Note
from partnerdesk.hybrid.errors import (
    EstimateNotFound,
    InvalidEstimate,
    InvalidRate,
    InvalidRateTable,
    InvalidReservationTerm,
    NothingToSuggest,
    RateNotFound,
    UnknownEdition,
)
from partnerdesk.hybrid.models import StoredEstimate, VmRate
from partnerdesk.hybrid.schemas import EstimateIn, LicenseIn, VmIn
from partnerdesk.orders import service as orders
from partnerdesk.orders.schemas import CartLineItemIn
from partnerdesk.policies import service as policies

MAX_COUNT = 100_000
MAX_VCPUS = 1024
MAX_CORES = 10_000_000
MAX_PROCESSOR_LICENCES = MAX_CORES // calculation.CORES_PER_PROCESSOR_LICENCE
MAX_RATE = Decimal("10000")
# A month has at most 744 hours (31 days).
MAX_HOURS_PER_MONTH = 744
# What a rate may carry: MoneyAmount keeps 1/10,000 of a unit.
RATE_PLACES = 4


# --- checking what was sent ------------------------------------------------------------------------

def _refuse(error: type[InvalidEstimate] | type[InvalidRate] | type[UnknownEdition], field: str, message: str):
    return error(f"{field}: {message}", [field])


def _whole(value: int, field: str, *, maximum: int, minimum: int = 1, what: str) -> int:
    if not minimum <= value <= maximum:
        low = "above zero" if minimum == 1 else "zero or more"
        raise _refuse(InvalidEstimate, field, f"{value} is not a valid {what}; give a whole number {low}, at most "
                                              f"{maximum}.")
    return value


def _rate(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        raise _refuse(InvalidRate, field, f"{value} is not a rate; a rate per hour is zero or more.")
    if value > MAX_RATE:
        raise _refuse(InvalidRate, field, f"{value} is more than {MAX_RATE} per hour; check the unit.")
    return value


def _currency(value: str) -> str:
    currency = value.strip().upper()
    if not is_currency(currency):
        raise _refuse(InvalidEstimate, "currency", f"'{value}' is not an ISO 4217 currency such as EUR.")
    return currency


def _term(value: str | None) -> str | None:
    if value is None:
        return None
    term = value.strip().upper()
    if term not in calculation.RESERVATION_TERMS:
        raise InvalidReservationTerm(f"reservation.term: '{value}' is not a reservation term; use P1Y or P3Y.",
                                     ["reservation.term"])
    return term


def _edition(value: str, field: str) -> str:
    for edition in calculation.EDITIONS:
        if edition.casefold() == value.strip().casefold():
            return edition
    raise _refuse(UnknownEdition, field, f"'{value}' is not a Windows Server edition; use Datacenter or Standard.")


def _licence(licence: LicenseIn, position: int) -> calculation.LicenceHolding:
    field = f"licenses[{position}]"
    holding = calculation.LicenceHolding(
        edition=_edition(licence.edition, f"{field}.edition"),
        cores=_whole(licence.cores, f"{field}.cores", minimum=0, maximum=MAX_CORES, what="number of core licences"),
        processor_licences=_whole(licence.processor_licenses, f"{field}.processorLicenses", minimum=0,
                                  maximum=MAX_PROCESSOR_LICENCES,
                                  what="number of 2-processor licences"),
        software_assurance=licence.software_assurance, in_use_on_premises=licence.in_use_on_premises)
    if holding.total_cores == 0:
        raise _refuse(InvalidEstimate, f"{field}.cores", "a licence line needs core licences or processor "
                                                         "licences.")
    return holding


@dataclass(frozen=True)
class PricedVm:
    """A VM line once checked, with its rates and where they came from."""

    line: VmIn
    v_cpus: int
    windows_rate: Decimal
    base_rate: Decimal
    size: str | None
    region: str | None


def _table_rate(db: Session, vm: VmIn, field: str, currency: str) -> VmRate:
    if not vm.region or not vm.region.strip():
        raise _refuse(InvalidEstimate, f"{field}.region", f"give the region of size {vm.size}, such as westeurope, "
                                                          "to take its rates from the rate table.")
    rate = db.scalar(select(VmRate).where(func.lower(VmRate.size) == vm.size.strip().lower(),
                                          func.lower(VmRate.region) == vm.region.strip().lower(),
                                          VmRate.currency == currency))
    if rate is None:
        raise RateNotFound(
            f"{field}.size: the rate table has no {currency} rate for {vm.size} in {vm.region}; give "
            "windowsRatePerHour and baseRatePerHour, or ask the operator to import the rates.",
            [f"{field}.size", f"{field}.region"])
    return rate


def _priced_vm(db: Session, vm: VmIn, position: int, currency: str) -> PricedVm:
    field = f"vms[{position}]"
    if not vm.name.strip():
        raise _refuse(InvalidEstimate, f"{field}.name", "give the line a name.")
    _whole(vm.count, f"{field}.count", maximum=MAX_COUNT, what="count of VMs")
    windows = _rate(vm.windows_rate_per_hour, f"{field}.windowsRatePerHour")
    base = _rate(vm.base_rate_per_hour, f"{field}.baseRatePerHour")
    v_cpus = vm.v_cpus
    size = vm.size.strip() if vm.size and vm.size.strip() else None
    region = vm.region.strip() if vm.region and vm.region.strip() else None
    if windows is None or base is None:
        if size is None:
            missing = "windowsRatePerHour" if windows is None else "baseRatePerHour"
            raise _refuse(InvalidEstimate, f"{field}.{missing}", "give both hourly rates, or a size and region "
                                                                 "to take them from the rate table.")
        rate = _table_rate(db, vm, field, currency)
        size, region = rate.size, rate.region
        windows = rate.windows_rate_per_hour if windows is None else windows
        base = rate.base_rate_per_hour if base is None else base
        if v_cpus is not None and v_cpus != rate.v_cpus:
            raise _refuse(InvalidEstimate, f"{field}.vCpus", f"{v_cpus} does not match the {rate.v_cpus} vCPUs of "
                                                             f"{rate.size}; leave vCpus out or correct it.")
        v_cpus = rate.v_cpus
    if v_cpus is None:
        raise _refuse(InvalidEstimate, f"{field}.vCpus", "give the vCPUs of each VM.")
    _whole(v_cpus, f"{field}.vCpus", maximum=MAX_VCPUS, what="number of vCPUs")
    if windows < base:
        raise _refuse(InvalidRate, f"{field}.windowsRatePerHour",
                      f"{windows} is below the base rate {base}; the rate with the Windows licence includes the base "
                      "rate.")
    return PricedVm(vm, v_cpus, windows, base, size, region)


# --- reservations, from the catalog ----------------------------------------------------------------

@dataclass(frozen=True)
class ReservedInstancePrice:
    """A Reserved Instance of the catalog for one size, term and market, with its price for the whole term."""

    catalog_item_id: str
    title: str
    size: str
    country: str
    regions: tuple[str, ...]
    term: str
    billing_cycle: str
    term_price: Decimal


def _reserved_instance_prices(db: Session, *, currency: str, term: str, country: str | None,
                              now: datetime) -> list[ReservedInstancePrice]:
    """Every VM Reserved Instance in force for `term` in `currency` (in `country`, or every market that sells them).

    Upfront prices come first: a monthly price is the same reservation paid in 12 or 36 parts. A read
    of the catalog's tables with its own `in_force` rule: the catalog service finds items by id or by
    market and view, not by VM size across markets, and this query only reads.
    """
    statement = (
        select(Availability.product_id, Availability.sku_id, Availability.id, Availability.country,
               Availability.billing_plan, Availability.unit_price, Sku.arm_sku_name, Sku.regions, Sku.title,
               Product.title.label("product_title"))
        .join(Sku, and_(Sku.product_id == Availability.product_id, Sku.id == Availability.sku_id))
        .join(Product, Product.id == Availability.product_id)
        .where(Product.product_type_id == AZURE, Product.sub_type_id == "VirtualMachines", Sku.arm_sku_name != "",
               Availability.term_duration == term, Availability.currency == currency,
               Availability.billing_plan.in_(("one_time", "monthly")), in_force(now))
        .order_by(Availability.country, Availability.billing_plan.desc(), Availability.product_id,
                  Availability.sku_id, Availability.id)
    )
    if country is not None:
        statement = statement.where(Availability.country == country)
    else:
        statement = statement.where(Availability.country.not_in(sorted(policies.ri_excluded_markets(db)) or [""]))
    months = calculation.TERM_MONTHS[term]
    return [
        ReservedInstancePrice(
            catalog_item_id=f"{row.product_id}:{row.sku_id}:{row.id}",
            title=catalog.availability_title(row.product_title, row.title, term), size=row.arm_sku_name,
            country=row.country, regions=tuple(row.regions or ()), term=term, billing_cycle=row.billing_plan,
            term_price=row.unit_price if row.billing_plan == "one_time" else row.unit_price * months)
        for row in db.execute(statement)
    ]


def _reservation_for(vm: PricedVm, prices: Sequence[ReservedInstancePrice], *, term: str, currency: str,
                     country: str | None) -> tuple[ReservedInstancePrice | None, calculation.ReservationOffer | None,
                                                   Note | None]:
    values = {"term": term, "size": vm.size or "", "region": vm.region or "", "currency": currency,
              "country": country or ""}
    if vm.size is None:
        return None, None, Note(N_("No reservation: the line names no VM size, so the catalog gives no Reserved "
                                   "Instance price for it."), values)
    sized = [price for price in prices if price.size.casefold() == vm.size.casefold()]
    if vm.region is not None:
        sized = [price for price in sized if any(r.casefold() == vm.region.casefold() for r in price.regions)]
    if not sized:
        where = (N_("No reservation: the catalog has no %(term)s Reserved Instance of %(size)s in %(region)s priced "
                    "in %(currency)s for market %(country)s.") if country else
                 N_("No reservation: the catalog has no %(term)s Reserved Instance of %(size)s in %(region)s priced "
                    "in %(currency)s."))
        return None, None, Note(where, values)
    price = sized[0]
    discount = calculation.discount_from_price(price.term_price, term, vm.base_rate)
    if discount is None:
        return None, None, Note(N_("No reservation: the base rate of %(size)s is zero, so a reservation cannot "
                                   "save anything."), values)
    return price, calculation.ReservationOffer(term, discount), None


# --- the estimate ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckedEstimate:
    """An estimate with what it was made from: the priced lines and the catalog items a cart would hold."""

    request: EstimateIn
    country: str | None
    vms: tuple[PricedVm, ...]
    reserved_instances: tuple[ReservedInstancePrice | None, ...]
    result: calculation.Estimate


def estimate(db: Session, *, request: EstimateIn, now: datetime, country: str | None = None) -> CheckedEstimate:
    """Checks the fleet and licences (a 400 naming the field, as `vms[0].vCpus`) and works the estimate out.

    `country` is the customer's market when the estimate is made for a customer: reservations are
    then priced there, and not at all where rule R1 keeps Reserved Instances out.
    """
    currency = _currency(request.currency)
    hours = _whole(request.hours_per_month, "hoursPerMonth", maximum=MAX_HOURS_PER_MONTH,
                   what="number of hours a month")
    if not request.vms:
        raise _refuse(InvalidEstimate, "vms", "give at least one VM line.")
    vms = tuple(_priced_vm(db, vm, position, currency) for position, vm in enumerate(request.vms))
    holdings = [_licence(licence, position) for position, licence in enumerate(request.licenses)]
    term = _term(request.reservation.term) if request.reservation else None
    chosen: list[ReservedInstancePrice | None] = [None] * len(vms)
    lines = []
    if term is not None and country is not None and not catalog.reserved_instances_sold_in(db, country):
        blocked = Note(N_("No reservation: Reserved Instances are not sold in market %(country)s (rule R1)."),
                       {"country": country})
        lines = [_vm_line(vm, None, blocked) for vm in vms]
    elif term is not None:
        prices = _reserved_instance_prices(db, currency=currency, term=term, country=country, now=now)
        for position, vm in enumerate(vms):
            chosen[position], offer, note = _reservation_for(vm, prices, term=term, currency=currency, country=country)
            lines.append(_vm_line(vm, offer, note))
    else:
        lines = [_vm_line(vm, None, None) for vm in vms]
    fleet = calculation.Fleet(currency=currency, hours_per_month=hours, migration_overlap=request.migration_overlap,
                              vms=lines, licences=holdings, reservation_term=term)
    result = calculation.estimate(fleet)
    # A reservation the calculation found not worth taking is not suggested either.
    kept = tuple(price if line.reserved else None for price, line in zip(chosen, result.lines, strict=True))
    return CheckedEstimate(request=request, country=country, vms=vms, reserved_instances=kept, result=result)


def _vm_line(vm: PricedVm, offer: calculation.ReservationOffer | None, note: Note | None) -> calculation.VmLine:
    return calculation.VmLine(name=vm.line.name.strip(), count=vm.line.count, v_cpus=vm.v_cpus,
                              windows_rate_per_hour=vm.windows_rate, base_rate_per_hour=vm.base_rate,
                              reservation=offer, no_reservation=note)


def english_explanation(notes: Sequence[Note], currency: str) -> str:
    """The API's explanation of a line: English, amounts as `7.30 EUR`."""
    return calculation.describe(
        notes, lambda text: text,
        money=lambda amount: f"{money_str(round_to_currency(amount, currency), currency)} {currency}",
        number=lambda value: str(value))


def estimate_json(result: calculation.Estimate) -> dict[str, Any]:
    """The API's answer: camelCase, money as decimal strings; the reservation columns only when asked for."""
    currency = result.currency

    def with_reservation(entry: dict[str, Any], reserved: Decimal | None, both: Decimal | None) -> dict[str, Any]:
        if result.reservation_term is not None:
            entry["withReservation"] = money_str(reserved, currency)
            entry["withBoth"] = money_str(both, currency)
        return entry

    lines = [
        with_reservation({
            "name": line.name, "count": line.count, "vCpus": line.v_cpus, "coresPerVm": line.cores_per_vm,
            "vmsCovered": line.vms_covered, "payAsYouGo": money_str(line.pay_as_you_go, currency),
            "withHybridBenefit": money_str(line.with_hybrid_benefit, currency),
            "saving": money_str(line.saving, currency),
        }, line.with_reservation, line.with_both) | {"explanation": english_explanation(line.notes, currency)}
        for line in result.lines
    ]
    totals = result.totals
    return {"currency": currency, "lines": lines, "totals": with_reservation({
        "coresRequired": totals.cores_required, "coresAvailable": totals.cores_available,
        "coresUsed": totals.cores_used, "vmsCovered": totals.vms_covered,
        "payAsYouGo": money_str(totals.pay_as_you_go, currency),
        "withHybridBenefit": money_str(totals.with_hybrid_benefit, currency),
        "saving": money_str(totals.saving, currency), "savingPercent": str(totals.saving_percent),
    }, totals.with_reservation, totals.with_both)}


# --- estimates kept on customers -------------------------------------------------------------------

def market_currency(country: str) -> str | None:
    """The currency a customer of `country` is billed in today (EUR for FR), for a page's default."""
    currencies = get_territory_currencies(country)
    return currencies[0] if currencies else None


def store_estimate(db: Session, *, principal: Principal, customer_id: str, request: EstimateIn, now: datetime,
                   request_id: str | None = None) -> StoredEstimate:
    """Works the estimate out in the customer's market and keeps it on the customer."""
    customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
    checked = estimate(db, request=request, now=now, country=customer.country)
    totals = checked.result.totals
    stored = StoredEstimate(
        id=new_id(), partner_id=customer.partner_id, customer_id=customer.id, currency=checked.result.currency,
        pay_as_you_go=totals.pay_as_you_go, saving=totals.saving,
        request=request.model_dump(mode="json", by_alias=True, exclude_none=True),
        result=estimate_json(checked.result), created_at=now, created_by=principal.email)
    db.add(stored)
    db.flush()
    audit.record(db, principal=principal, now=now, action="hybrid_estimate.created", object_type="hybrid_estimate",
                 object_id=stored.id, partner_id=customer.partner_id, customer_id=customer.id,
                 request_id=request_id,
                 details={"currency": stored.currency, "payAsYouGo": money_str(totals.pay_as_you_go, stored.currency),
                          "saving": money_str(totals.saving, stored.currency)})
    return stored


def customer_estimates(db: Session, *, principal: Principal, customer_id: str) -> Select:
    """The customer's estimates, newest first (another partner's customer is a 404)."""
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    return (select(StoredEstimate).where(StoredEstimate.customer_id == customer_id)
            .order_by(StoredEstimate.created_at.desc(), StoredEstimate.id))


def get_estimate(db: Session, *, principal: Principal, customer_id: str, estimate_id: str) -> StoredEstimate:
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    # An id that cannot be one (too long, a NUL byte PostgreSQL refuses) is simply not found.
    stored = db.get(StoredEstimate, estimate_id) if len(estimate_id) <= 36 and "\x00" not in estimate_id else None
    if stored is None or stored.customer_id != customer_id:
        raise EstimateNotFound(f"Customer {customer_id} has no Hybrid Benefit estimate {estimate_id}.",
                               [estimate_id])
    return stored


# --- suggestions and the cart ----------------------------------------------------------------------

# Partner Center's word for a reservation's term in `provisioningContext.duration`.
DURATIONS = {"P1Y": "1Year", "P3Y": "3Year"}
LICENCE_PACK_CORES = 16


@dataclass(frozen=True)
class Suggestion:
    """A product to buy so the estimate comes true: a reservation of a line's VMs, or licence packs."""

    catalog_item_id: str
    title: str
    quantity: int
    billing_cycle: str
    term_duration: str | None
    provisioning_context: dict[str, str]
    reason: Note

    def cart_line(self, line_id: int) -> CartLineItemIn:
        return CartLineItemIn(id=line_id, catalog_item_id=self.catalog_item_id, quantity=self.quantity,
                              billing_cycle=self.billing_cycle, term_duration=self.term_duration,
                              provisioning_context=self.provisioning_context)


def _licence_pack(db: Session, country: str, now: datetime) -> catalog.PurchasableItem | None:
    """The Windows Server Standard 16-core pack on sale in the market, newest version first (the cheapest
    edition that gives Hybrid Benefit)."""
    view = TARGET_VIEWS["SoftwarePerpetual"]
    items = [catalog.purchasable_of(row) for row in repository.purchasable_rows(db, country=country, now=now,
                                                                                 view=view)]
    packs = [item for item in items if item.product_title.startswith("Windows Server")
             and "Standard" in item.sku_title and f"{LICENCE_PACK_CORES} Core" in item.unit_of_measure]
    packs.sort(key=lambda item: item.product_title, reverse=True)
    return packs[0] if packs else None


def suggestions(db: Session, checked: CheckedEstimate, *, now: datetime) -> list[Suggestion]:
    """The Reserved Instances of the lines worth reserving, and the licence packs the uncovered VMs need."""
    found: list[Suggestion] = []
    for vm, price, line in zip(checked.vms, checked.reserved_instances, checked.result.lines, strict=True):
        if price is None:
            continue
        region = vm.region or price.regions[0]
        found.append(Suggestion(
            catalog_item_id=price.catalog_item_id, title=price.title, quantity=line.count,
            billing_cycle=price.billing_cycle, term_duration=price.term,
            provisioning_context={"scope": "Shared", "region": region, "duration": DURATIONS[price.term]},
            reason=Note(N_("Reserves the %(count)s VMs of line “%(name)s” (%(size)s in %(region)s)."),
                        {"count": line.count, "name": line.name, "size": price.size, "region": region})))
    missing = sum(line.vms_uncovered * line.cores_per_vm for line in checked.result.lines if line.needs_licences)
    if missing and checked.country is not None:
        pack = _licence_pack(db, checked.country, now)
        if pack is not None:
            packs = math.ceil(missing / LICENCE_PACK_CORES)
            found.append(Suggestion(
                catalog_item_id=pack.catalog_item_id, title=pack.title, quantity=packs,
                billing_cycle=pack.supported_billing_cycles[0], term_duration=pack.term_duration,
                provisioning_context={},
                reason=Note(N_("%(packs)s packs of %(pack_cores)s core licences cover the %(missing)s core licences "
                               "the uncovered VMs need; add Software Assurance for Hybrid Benefit."),
                            {"packs": packs, "pack_cores": LICENCE_PACK_CORES, "missing": missing})))
    return found


def cart_from_estimate(db: Session, *, principal: Principal, customer_id: str, request: EstimateIn,
                       now: datetime) -> orders.CartView:
    """A new cart for the customer holding the estimate's suggestions, made by the orders service."""
    customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
    orders.require_buyer(principal)
    checked = estimate(db, request=request, now=now, country=customer.country)
    found = suggestions(db, checked, now=now)
    if not found:
        raise NothingToSuggest("This estimate suggests nothing to buy: no line is worth reserving and no VM lacks "
                               "licences.", [])
    return orders.create_cart(db, principal=principal, customer_id=customer.id,
                              lines=[suggestion.cart_line(position) for position, suggestion in enumerate(found)],
                              now=now)


# --- the operator's rate table ---------------------------------------------------------------------

RATE_COLUMNS = ("size", "region", "currency", "vCpus", "windowsRatePerHour", "baseRatePerHour")


@dataclass(frozen=True)
class RateRow:
    size: str
    region: str
    currency: str
    v_cpus: int
    windows_rate_per_hour: Decimal
    base_rate_per_hour: Decimal


@dataclass(frozen=True)
class RateImport:
    rows: int
    added: int
    updated: int


def _parse_rate(row: dict[str, str | None], line_number: int) -> tuple[RateRow | None, list[str]]:
    problems: list[str] = []
    values = {column: (row.get(column) or "").strip() for column in RATE_COLUMNS}
    for column in ("size", "region"):
        if not values[column]:
            problems.append(f"line {line_number}: {column} is empty")
        elif len(values[column]) > (80 if column == "size" else 60):
            problems.append(f"line {line_number}: {column} is too long")
    currency = values["currency"].upper()
    if not is_currency(currency):
        problems.append(f"line {line_number}: currency '{values['currency']}' is not an ISO 4217 code such as EUR")
    v_cpus = int(values["vCpus"]) if values["vCpus"].isdigit() else 0
    if not 1 <= v_cpus <= MAX_VCPUS:
        problems.append(f"line {line_number}: vCpus '{values['vCpus']}' is not a whole number from 1 to {MAX_VCPUS}")
    rates: dict[str, Decimal] = {}
    for column in ("windowsRatePerHour", "baseRatePerHour"):
        try:
            rate = Decimal(values[column])
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or rate < 0 or rate > MAX_RATE:
            problems.append(f"line {line_number}: {column} '{values[column]}' is not a rate such as 0.2040")
        elif rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
            problems.append(f"line {line_number}: {column} {values[column]} has more than {RATE_PLACES} decimals")
        else:
            rates[column] = rate
    if len(rates) == 2 and rates["windowsRatePerHour"] < rates["baseRatePerHour"]:
        problems.append(f"line {line_number}: windowsRatePerHour is below baseRatePerHour")
    if problems:
        return None, problems
    return RateRow(values["size"], values["region"].lower(), currency, v_cpus, rates["windowsRatePerHour"],
                   rates["baseRatePerHour"]), []


def parse_rate_table(lines: Iterable[str]) -> list[RateRow]:
    """The rows of a rate table CSV file (columns `RATE_COLUMNS`), or a 400 listing every bad line."""
    try:
        return _read_rate_table(csv.DictReader(lines))
    except csv.Error as error:  # a NUL byte, an unclosed quote at the end, a field past the csv module's limit
        raise InvalidRateTable(f"The rate table is not a CSV file this import can read ({error}); nothing was "
                               "imported.", []) from None


def _read_rate_table(reader: csv.DictReader) -> list[RateRow]:
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in RATE_COLUMNS if column not in header]
    if missing:
        raise InvalidRateTable(f"The rate table's header lacks {', '.join(missing)}; it reads "
                               f"{','.join(RATE_COLUMNS)}. Nothing was imported.", missing)
    reader.fieldnames = header
    rows: list[RateRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in reader:
        parsed, row_problems = _parse_rate(row, reader.line_num)
        problems.extend(row_problems)
        if parsed is not None:
            key = (parsed.size.casefold(), parsed.region, parsed.currency)
            if key in seen:
                problems.append(f"line {reader.line_num}: {parsed.size} in {parsed.region} ({parsed.currency}) is "
                                f"already on line {seen[key]}")
            seen[key] = reader.line_num
            rows.append(parsed)
    if problems:
        raise InvalidRateTable(f"The rate table has {len(problems)} problem(s); nothing was imported.", problems[:50])
    if not rows:
        raise InvalidRateTable("The rate table holds no rate; nothing was imported.", [])
    return rows


def import_rates(db: Session, lines: Iterable[str], *, now: datetime, principal: Principal | None) -> RateImport:
    """Adds or replaces the rates of the file (all rows or none); rates the file does not name are kept."""
    rows = parse_rate_table(lines)
    existing = {(rate.size.casefold(), rate.region, rate.currency): rate for rate in db.scalars(select(VmRate))}
    added = updated = 0
    for row in rows:
        rate = existing.get((row.size.casefold(), row.region, row.currency))
        if rate is None:
            db.add(VmRate(id=new_id(), size=row.size, region=row.region, currency=row.currency, v_cpus=row.v_cpus,
                          windows_rate_per_hour=row.windows_rate_per_hour, base_rate_per_hour=row.base_rate_per_hour,
                          updated_at=now))
            added += 1
        elif (rate.size, rate.v_cpus, rate.windows_rate_per_hour, rate.base_rate_per_hour) != (
                row.size, row.v_cpus, row.windows_rate_per_hour, row.base_rate_per_hour):
            rate.size, rate.v_cpus = row.size, row.v_cpus
            rate.windows_rate_per_hour, rate.base_rate_per_hour = row.windows_rate_per_hour, row.base_rate_per_hour
            rate.updated_at = now
            updated += 1
    db.flush()
    audit.record(db, principal=principal, now=now, action="hybrid_rates.imported", object_type="hybrid_rate_table",
                 details={"rows": len(rows), "added": added, "updated": updated})
    return RateImport(rows=len(rows), added=added, updated=updated)


def search_rates(*, size: str | None = None, region: str | None = None, currency: str | None = None) -> Select:
    for name, value in (("vmSize", size), ("region", region), ("currency", currency)):
        if value and "\x00" in value:
            raise InvalidEstimate(f"{name}: must not contain NUL characters.", [name])
    statement = select(VmRate)
    if size:
        statement = statement.where(func.lower(VmRate.size) == size.strip().lower())
    if region:
        statement = statement.where(VmRate.region == region.strip().lower())
    if currency:
        statement = statement.where(VmRate.currency == currency.strip().upper())
    return statement.order_by(VmRate.currency, VmRate.size, VmRate.region, VmRate.id)


def all_rates(db: Session) -> list[VmRate]:
    return list(db.scalars(search_rates()))
