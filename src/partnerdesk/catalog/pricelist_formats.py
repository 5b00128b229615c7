"""The price-list layouts the import reads and the export writes: Partner Center's, as it publishes
them, and Partner Desk's own round-trip layout.

Each layout reads a file's row into a *desk row* (a dict keyed by Partner Desk's column names, see
`DESK_COLUMNS`) or says the row is for something this desk does not sell (`NotSoldHere`), and writes
a stored price back as one of its rows (or leaves it out when the layout has no place for it). What
each layout holds, and why some rows are skipped, is told in docs/prices-and-exports.md.

Partner Desk's own columns (`AvailabilityId`, `ProductType`, `ProductSubType`, `ArmRegionName`,
`ArmSkuName`) are optional: a value a file does not give is None in the desk row, and is derived
(`derived_availability_id`, `product_kind`, `placement`) the same way for every layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from partnerdesk.catalog.errors import InvalidCatalogEntry, InvalidPriceList
from partnerdesk.catalog.vocabulary import AZURE, BILLING_PLAN_NAMES, SOFTWARE
from partnerdesk.core.money import money_str

PARTNER_DESK = "partner-desk"
SOFTWARE_LIST = "software"
NEW_COMMERCE = "new-commerce"
LICENSE_BASED = "license-based"
AZURE_SHEET = "azure"
FORMAT_NAMES = (PARTNER_DESK, SOFTWARE_LIST, NEW_COMMERCE, LICENSE_BASED, AZURE_SHEET)

# Partner Center's software and new-commerce license-based price lists share these columns, in this order.
PRICE_LIST_COLUMNS = (
    "ProductTitle", "ProductId", "SkuId", "SkuTitle", "Publisher", "SkuDescription", "UnitOfMeasure",
    "TermDuration", "BillingPlan", "Market", "Currency", "UnitPrice", "PricingTierRangeMin",
    "PricingTierRangeMax", "EffectiveStartDate", "EffectiveEndDate", "Tags", "ERP Price", "Segment",
)  # fmt: skip
DESK_OWN_COLUMNS = ("AvailabilityId", "ProductType", "ProductSubType", "ArmRegionName", "ArmSkuName")
DESK_COLUMNS = (*PRICE_LIST_COLUMNS, *DESK_OWN_COLUMNS)
# The software price list gained ChangeIndicator (first) and PreviousValues (last) in January 2026.
SOFTWARE_COLUMNS = ("ChangeIndicator", *PRICE_LIST_COLUMNS, "PreviousValues")
NEW_COMMERCE_COLUMNS = ("ChangeIndicator", *PRICE_LIST_COLUMNS)
# The Azure plan price sheet (consumption and reservations), as the pricesheets API and the Pricing
# workspace give it: no BillingPlan, ERP Price or Segment; a reservation's price is its upfront price.
AZURE_COLUMNS = (
    "ProductTitle", "ProductId", "SkuId", "SkuTitle", "Publisher", "SkuDescription", "UnitOfMeasure",
    "TermDuration", "Market", "Currency", "UnitPrice", "PricingTierRangeMin", "PricingTierRangeMax",
    "EffectiveStartDate", "EffectiveEndDate", "MeterIds", "MeterType", "Tags",
)  # fmt: skip
# The traditional license-based price list (Office 365, Dynamics 365 seats by offer GUID).
LICENSE_BASED_COLUMNS = (
    "Change Indicator", "Effective Start Date", "Effective End Date", "Offer Display Name", "Offer ID",
    "License Agreement Type", "Purchase Unit", "Secondary License Type", "End Customer Type", "List Price",
    "ERP Price",
)  # fmt: skip
# Columns some Azure sheets carry beside the documented ones (the retail prices' names): read when present.
AZURE_EXTRA_COLUMNS = ("armRegionName", "armSkuName")

RESERVATION_TAGS = "Azure;Reservations"


@dataclass(frozen=True)
class NotSoldHere:
    """A row for something this desk does not sell: counted under `kind`, not imported, not an error."""

    kind: str


@dataclass(frozen=True)
class PriceListFormat:
    name: str
    title: str
    columns: tuple[str, ...]
    optional: frozenset[str]
    # Columns read when the file has them, though the layout does not publish them.
    extra: tuple[str, ...]
    read: Callable[[dict[str, str | None]], dict[str, Any] | NotSoldHere]
    # A stored price as a row of this layout, or None when the layout has no place for it.
    write: Callable[[Any], list[Any] | None]
    # Partner Center's files start with a byte order mark and quote every cell (the Azure sheet).
    byte_order_mark: bool
    quote_all: bool = False

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name in self.columns if name not in self.optional)


# --- Dates -------------------------------------------------------------------------------------------

_US_MOMENT = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?\s*([AaPp][Mm])?)?$"
)


@lru_cache(maxsize=4096)  # a list's rows share a few dates
def read_moment(text: str, column: str) -> datetime:
    """A date as Partner Center's files write them, in UTC: `2021-10-01T00:00:00.0000000Z`, `2026-01-01`,
    `3/1/2018 12:00:00 AM`, `2/1/2023 0:00` or `12/1/2019` (month first). A time without offset is UTC."""
    cleaned = text.strip()
    match = _US_MOMENT.match(cleaned)
    try:
        if match is None:
            moment = datetime.fromisoformat(cleaned)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return _us_moment(match)
    except ValueError:
        raise InvalidCatalogEntry(
            f"{column}: '{text}' is not a date such as 2026-01-01, 2026-01-01T00:00:00.0000000Z or "
            "1/1/2026 12:00:00 AM.",
            [column],
        ) from None


def _us_moment(match: re.Match[str]) -> datetime:
    month, day, year, hour, minute, second, fraction, half = match.groups()
    hours = int(hour or 0)
    if half is not None:
        if not 1 <= hours <= 12:
            raise ValueError("hour out of range for AM/PM")
        hours = hours % 12 + (12 if half.upper() == "PM" else 0)
    micro = int((fraction or "0").ljust(7, "0")[:6])
    return datetime(int(year), int(month), int(day), hours, int(minute or 0), int(second or 0), micro, tzinfo=UTC)


def iso_moment(moment: datetime) -> str:
    """Partner Desk's form: `2026-01-01T00:00:00Z`, with microseconds only when there are some."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seven_digit_moment(moment: datetime) -> str:
    """The software and new-commerce lists' form: `2021-10-01T00:00:00.0000000Z` (.NET's round-trip form)."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


def us_moment(moment: datetime) -> str:
    """The Azure sheet's form: `3/1/2018 12:00:00 AM` (whole seconds, as the sheet has them)."""
    moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment:%M:%S} {half}"


def _optional_moment(moment: datetime | None, form: Callable[[datetime], str]) -> str:
    return form(moment) if moment is not None else ""


# --- Deriving what a file leaves out ------------------------------------------------------------------

_PLAN_CODES = {"one_time": "O", "monthly": "M", "annual": "A", "triennial": "T"}
_SEGMENT_CODES = {"Commercial": "C", "Education": "E", "Government": "G", "NonProfit": "N"}
# Partner Center spells the non-profit segment "Charity" in some lists.
SEGMENT_ALIASES = {"charity": "NonProfit", "nonprofit": "NonProfit", "non-profit": "NonProfit"}


def derived_availability_id(price: dict[str, Any]) -> str:
    """The id of a price whose file gives none, from what makes it one price of its SKU: market, term,
    billing plan, segment, first day in force and quantity tier. "FR1YAC20260101" is the French annual
    price of a one-year term for commercial customers from 1 January 2026; "US" + "PP" (perpetual) +
    "O" (one time) + "E" (education) + "20260101" + "T11" (tier from 11 units) is another."""
    term = (price["term_duration"] or "PPP")[1:]
    tier = "" if price["tier_min"] is None else f"T{price['tier_min']}"
    identifier = (
        f"{price['country']}{term}{_PLAN_CODES[price['billing_plan']]}{_SEGMENT_CODES[price['segment']]}"
        f"{price['effective_start']:%Y%m%d}{tier}"
    )
    if len(identifier) > 20:
        raise InvalidCatalogEntry(
            f"PricingTierRangeMin: {price['tier_min']} is too large to name this price; add an "
            "AvailabilityId column.",
            ["PricingTierRangeMin"],
        )
    return identifier


def _has_tag(tags: str, word: str) -> bool:
    return word in {tag.strip().casefold() for tag in re.split(r"[;,|]", tags or "")}


def _reservation_sub_type(title: str) -> str | None:
    """VirtualMachines or SQL for the reservations this desk sells, from Partner Center's product title."""
    folded = title.casefold()
    if "sql" in folded:
        return "SQL"
    if "virtual machine" in folded or re.search(r"\bvm\b", folded):
        return "VirtualMachines"
    return None


def product_kind(row: dict[str, Any]) -> tuple[str, str] | NotSoldHere:
    """The product type a row without ProductType describes: a reservation when tagged so, else software,
    perpetual without a term and a subscription with one."""
    if _has_tag(row["Tags"], "reservations") or _has_tag(row["Tags"], "reservation"):
        sub_type = _reservation_sub_type(row["ProductTitle"])
        if sub_type is None:
            return NotSoldHere("Azure reservation of another service")
        return AZURE, sub_type
    if row["TermDuration"].strip():
        return SOFTWARE, "Subscription"
    return SOFTWARE, "Perpetual"


# Azure's regions as Partner Center's meter names ("EU West") and Azure's display names ("West Europe").
_REGIONS = {
    "westeurope": ("EU West", "West Europe"), "northeurope": ("EU North", "North Europe"),
    "francecentral": ("FR Central", "France Central"), "francesouth": ("FR South", "France South"),
    "germanywestcentral": ("DE West Central", "Germany West Central"), "uksouth": ("UK South", "UK South"),
    "ukwest": ("UK West", "UK West"), "swedencentral": ("SE Central", "Sweden Central"),
    "switzerlandnorth": ("CH North", "Switzerland North"), "norwayeast": ("NO East", "Norway East"),
    "italynorth": ("IT North", "Italy North"), "polandcentral": ("PL Central", "Poland Central"),
    "eastus": ("US East", "East US"), "eastus2": ("US East 2", "East US 2"),
    "westus": ("US West", "West US"), "westus2": ("US West 2", "West US 2"), "westus3": ("US West 3", "West US 3"),
    "centralus": ("US Central", "Central US"), "northcentralus": ("US North Central", "North Central US"),
    "southcentralus": ("US South Central", "South Central US"), "westcentralus": ("US West Central", "West Central US"),
    "canadacentral": ("CA Central", "Canada Central"), "canadaeast": ("CA East", "Canada East"),
    "brazilsouth": ("BR South", "Brazil South"), "japaneast": ("JA East", "Japan East"),
    "japanwest": ("JA West", "Japan West"), "koreacentral": ("KR Central", "Korea Central"),
    "southeastasia": ("AP Southeast", "Southeast Asia"), "eastasia": ("AP East", "East Asia"),
    "australiaeast": ("AU East", "Australia East"), "australiasoutheast": ("AU Southeast", "Australia Southeast"),
    "centralindia": ("IN Central", "Central India"), "southindia": ("IN South", "South India"),
    "southafricanorth": ("ZA North", "South Africa North"), "uaenorth": ("AE North", "UAE North"),
}  # fmt: skip
_REGION_NAMES = {
    name.casefold(): arm for arm, names in _REGIONS.items() for name in (arm, *names)
}
_ARM_SKU_NAME = re.compile(r"\b(Standard_[A-Za-z0-9_]+)\b")


@lru_cache(maxsize=4096)  # every row of a SKU has its title
def region_in_title(title: str) -> str | None:
    """The Azure region a SKU title ends with ("Reserved VM Instance, Standard_D4s_v5, EU West" -> westeurope)."""
    parts = [part.strip().casefold() for part in re.split(r"[,\-–]", title)]
    for part in reversed(parts):
        if part in _REGION_NAMES:
            return _REGION_NAMES[part]
    return None


def placement(row: dict[str, Any]) -> tuple[list[str] | None, str | None]:
    """A Reserved Instance SKU's regions and VM size: the file's ArmRegionName/ArmSkuName when it has them
    (regions separated by `;`), else read from the SKU title; None where neither says (kept as stored)."""
    given_region, given_size = row["ArmRegionName"], row["ArmSkuName"]
    if given_region is not None:
        regions: list[str] | None = [part.strip().lower() for part in given_region.split(";") if part.strip()]
    else:
        found = region_in_title(row["SkuTitle"])
        regions = [found] if found else None
    if given_size is not None:
        size: str | None = given_size.strip()
    else:
        sized = _ARM_SKU_NAME.search(f"{row['SkuTitle']} {row['SkuDescription']}")
        size = sized.group(1) if sized else None
    return regions, size


# --- Reading ------------------------------------------------------------------------------------------


def _desk_row(record: dict[str, str | None], **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {name: record.get(name) or "" for name in PRICE_LIST_COLUMNS}
    row.update({name: record.get(name) for name in DESK_OWN_COLUMNS})
    # A blank id or type is derived as an absent one; a blank region says "no region".
    for name in ("AvailabilityId", "ProductType", "ProductSubType"):
        row[name] = (row[name] or "").strip() or None
    row.update(values)
    return row


def _segment(text: str | None) -> str:
    cleaned = (text or "").strip()
    return SEGMENT_ALIASES.get(cleaned.casefold(), cleaned) or "Commercial"


def _read_partner_desk(record: dict[str, str | None]) -> dict[str, Any] | NotSoldHere:
    row = _desk_row(record, Segment=_segment(record.get("Segment")))
    if row["TermDuration"].strip().casefold() == "onetime":
        # Partner Center's way of saying perpetual, accepted here too.
        row["TermDuration"], row["BillingPlan"] = "", row["BillingPlan"] or "OneTime"
    return row


def _read_software(record: dict[str, str | None]) -> dict[str, Any] | NotSoldHere:
    """Perpetual software is `OneTime` with a blank BillingPlan; a subscription has its term and plan
    (a blank plan is paid once, upfront)."""
    term = (record.get("TermDuration") or "").strip()
    plan = (record.get("BillingPlan") or "").strip()
    if term.casefold() == "onetime":
        term = ""
    return _desk_row(record, TermDuration=term, BillingPlan=plan or "OneTime", Segment=_segment(record.get("Segment")))


def _read_online_services(kind: str) -> Callable[[dict[str, str | None]], NotSoldHere]:
    def read(_record: dict[str, str | None]) -> NotSoldHere:
        return NotSoldHere(kind)

    return read


def _read_azure(record: dict[str, str | None]) -> dict[str, Any] | NotSoldHere:
    """Reservations this desk sells (VM and SQL) are imported, paid upfront; consumption meters
    (`payG-1`...) and third-party products are skipped."""
    term = (record.get("TermDuration") or "").strip()
    tags = record.get("Tags") or ""
    if _has_tag(tags, "third party") or _has_tag(tags, "thirdparty"):
        return NotSoldHere("third-party Azure product")
    if term.casefold().startswith("payg") or not (term or _has_tag(tags, "reservations")):
        return NotSoldHere("Azure consumption meter")
    sub_type = _reservation_sub_type(record.get("ProductTitle") or "")
    if sub_type is None:
        return NotSoldHere("Azure reservation of another service")
    return _desk_row(
        record,
        BillingPlan="OneTime",
        Tags=tags,
        Segment="Commercial",
        ProductType=AZURE,
        ProductSubType=sub_type,
        ArmRegionName=record.get("armRegionName"),
        ArmSkuName=record.get("armSkuName"),
    )


# --- Writing ------------------------------------------------------------------------------------------


def _amount(amount: Decimal, currency: str) -> Decimal:
    """A price as a number cell (the exact amount with the currency's minor units, as `money_str` writes it)."""
    return Decimal(money_str(amount, currency))


def _erp(row) -> Decimal | str:
    return _amount(row.erp_price, row.currency) if row.erp_price is not None else ""


def _tiers(row) -> list[Any]:
    return ["" if row.tier_min is None else row.tier_min, "" if row.tier_max is None else row.tier_max]


def _described(row) -> list[Any]:
    return [row.product_title, row.product_id, row.sku_id, row.sku_title, row.publisher, row.sku_description,
            row.unit_of_measure]


def _write_partner_desk(row) -> list[Any]:
    return [
        *_described(row), row.term_duration or "", BILLING_PLAN_NAMES[row.billing_plan], row.country,
        row.currency, _amount(row.unit_price, row.currency), *_tiers(row), iso_moment(row.effective_start),
        _optional_moment(row.effective_end, iso_moment), row.tags, _erp(row), row.segment, row.id,
        row.product_type_id, row.sub_type_id, ";".join(row.regions or []), row.arm_sku_name,
    ]


def _write_software(row) -> list[Any] | None:
    if row.product_type_id != SOFTWARE:
        return None
    perpetual = row.term_duration is None
    return [
        "", *_described(row), "OneTime" if perpetual else row.term_duration,
        "" if perpetual and row.billing_plan == "one_time" else BILLING_PLAN_NAMES[row.billing_plan],
        row.country, row.currency, _amount(row.unit_price, row.currency), *_tiers(row),
        seven_digit_moment(row.effective_start), _optional_moment(row.effective_end, seven_digit_moment),
        row.tags, _erp(row), row.segment, "",
    ]


def _write_nothing(_row) -> None:
    """This desk sells no online services seats, so its license-based lists hold the header alone."""
    return None


def _write_azure(row) -> list[Any] | None:
    if row.product_type_id != AZURE or row.billing_plan != "one_time" or row.segment != "Commercial":
        return None
    return [
        *_described(row), row.term_duration, row.country, row.currency, _amount(row.unit_price, row.currency),
        *_tiers(row), us_moment(row.effective_start), _optional_moment(row.effective_end, us_moment),
        # No meter ids are kept; the meter type is the unit, as in Partner Center's sheet.
        "", row.unit_of_measure, row.tags or RESERVATION_TAGS,
    ]


FORMATS: dict[str, PriceListFormat] = {
    fmt.name: fmt
    for fmt in (
        PriceListFormat(PARTNER_DESK, "Partner Desk's round-trip price list", DESK_COLUMNS,
                        frozenset(DESK_OWN_COLUMNS), (), _read_partner_desk, _write_partner_desk, False),
        PriceListFormat(SOFTWARE_LIST, "Partner Center's software price list", SOFTWARE_COLUMNS,
                        frozenset({"ChangeIndicator", "PreviousValues"}), (), _read_software, _write_software, True),
        PriceListFormat(NEW_COMMERCE, "Partner Center's new-commerce license-based price list", NEW_COMMERCE_COLUMNS,
                        frozenset({"ChangeIndicator", "Segment"}), (),
                        _read_online_services("online services seat (new commerce)"), _write_nothing, True),
        PriceListFormat(LICENSE_BASED, "Partner Center's license-based price list", LICENSE_BASED_COLUMNS,
                        frozenset({"Change Indicator"}), (),
                        _read_online_services("online services offer (license-based)"), _write_nothing, True),
        PriceListFormat(AZURE_SHEET, "Partner Center's Azure plan price sheet", AZURE_COLUMNS,
                        frozenset({"MeterIds", "MeterType"}), AZURE_EXTRA_COLUMNS, _read_azure, _write_azure, True,
                        quote_all=True),
    )
}


def named(name: str | None) -> PriceListFormat | None:
    """The layout called `name` (case-insensitively); None for no name; a 400 for an unknown one."""
    if name is None or not name.strip():
        return None
    found = FORMATS.get(name.strip().casefold())
    if found is None:
        raise InvalidPriceList(
            f"format: '{name}' is not a price-list format; use one of: {', '.join(FORMAT_NAMES)}.", ["format"]
        )
    return found


def detect(header: list[str]) -> PriceListFormat:
    """The layout a header is in. `Offer ID` says the license-based list; `MeterIds`/`MeterType`, or a
    TermDuration without BillingPlan, the Azure sheet; Partner Desk's own columns partner-desk; `PreviousValues`
    the software list and `ChangeIndicator` (without it) the new-commerce list. A header with none of those
    marks (the software list before 2026) is read as the software list: `--format` says otherwise."""
    names = {name.casefold() for name in header}
    if "offer id" in names:
        return FORMATS[LICENSE_BASED]
    # Before Partner Desk's columns: an Azure sheet may carry armRegionName, which is one of them.
    if names & {"meterids", "metertype"} or ("termduration" in names and "billingplan" not in names):
        return FORMATS[AZURE_SHEET]
    if names & {name.casefold() for name in DESK_OWN_COLUMNS}:
        return FORMATS[PARTNER_DESK]
    if "previousvalues" in names:
        return FORMATS[SOFTWARE_LIST]
    if "changeindicator" in names:
        return FORMATS[NEW_COMMERCE]
    return FORMATS[SOFTWARE_LIST]


def column_positions(fmt: PriceListFormat, header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Where each of the layout's columns is in `header` (exact name first, then in any letter case), and
    the required columns missing."""
    exact = {name: index for index, name in enumerate(header)}
    folded = {name.casefold(): index for index, name in reversed(list(enumerate(header)))}
    positions: dict[str, int] = {}
    for name in (*fmt.columns, *fmt.extra):
        index = exact.get(name, folded.get(name.casefold()))
        if index is not None:
            positions[name] = index
    missing = [name for name in fmt.required if name not in positions]
    return positions, missing
