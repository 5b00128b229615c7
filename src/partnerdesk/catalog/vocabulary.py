"""The catalog's fixed words: product types, target views, terms, billing cycles, segments, id shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from partnerdesk.catalog.errors import UnknownTargetView

SOFTWARE = "Software"
AZURE = "Azure"

# Product type id -> its sub-types; the display names are Partner Center's.
PRODUCT_TYPES: dict[str, tuple[str, ...]] = {
    SOFTWARE: ("Perpetual", "Subscription"),
    AZURE: ("VirtualMachines", "SQL"),
}
DISPLAY_NAMES = {
    SOFTWARE: "Software",
    AZURE: "Azure",
    "Perpetual": "Perpetual",
    "Subscription": "Subscription",
    "VirtualMachines": "VirtualMachines",
    "SQL": "SQL",
}


def is_reserved_instance(product_type_id: str) -> bool:
    """Every Azure product in this catalog is a Reserved Instance (rule R1 and R8 apply)."""
    return product_type_id == AZURE


@dataclass(frozen=True)
class TargetView:
    """What `targetView=` selects: a product type and, optionally, one sub-type."""

    name: str
    product_type_id: str
    sub_type_id: str | None


TARGET_VIEWS: dict[str, TargetView] = {
    view.name: view
    for view in (
        TargetView("Software", SOFTWARE, None),
        TargetView("SoftwarePerpetual", SOFTWARE, "Perpetual"),
        TargetView("SoftwareSubscriptions", SOFTWARE, "Subscription"),
        TargetView("AzureReservations", AZURE, None),
        TargetView("AzureReservationsVM", AZURE, "VirtualMachines"),
        TargetView("AzureReservationsSQL", AZURE, "SQL"),
    )
}
# Partner Center's other target views: valid there, so answered as Partner Center answers a view that
# holds none of a catalog's products (an empty collection) rather than refused. No product type of
# this catalog belongs to them (product type "").
OTHER_PARTNER_CENTER_VIEWS: dict[str, TargetView] = {
    name: TargetView(name, "", None)
    for name in ("Azure", "MicrosoftAzure", "OnlineServices", "SpecializedOnlineServices", "DynamicsOnlineServices",
                 "SoftwareSUSELinux", "AzureReservationsCosmosDb", "AzureAzureReservationsVM")
}
_TARGET_VIEWS_FOLDED = {name.casefold(): view for name, view in {**OTHER_PARTNER_CENTER_VIEWS, **TARGET_VIEWS}.items()}


def target_view(name: str | None) -> TargetView:
    """The target view named (case-insensitively, as Partner Center accepts it), or a 400 listing them all."""
    valid = ", ".join(TARGET_VIEWS)
    if name is None or not name.strip():
        raise UnknownTargetView(f"targetView is required; use one of: {valid}.", ["targetView"])
    view = _TARGET_VIEWS_FOLDED.get(name.strip().casefold())
    if view is None:
        raise UnknownTargetView(
            f"targetView: '{name}' is not a target view; use one of: {valid}.", ["targetView"]
        )
    return view


# Term durations (ISO 8601) and how Partner Center describes them.
TERM_DESCRIPTIONS = {"P1M": "1 month", "P1Y": "1 year", "P3Y": "3 years"}
# Rule R8: a Reserved Instance is bought for one year or three.
RESERVED_INSTANCE_TERMS = ("P1Y", "P3Y")

# Billing cycles in their canonical order, with the spelling price lists use for them.
BILLING_CYCLES = ("one_time", "monthly", "annual", "triennial")
BILLING_PLAN_NAMES = {
    "one_time": "OneTime",
    "monthly": "Monthly",
    "annual": "Annual",
    "triennial": "Triennial",
}
_BILLING_PLANS_FOLDED = {
    **{name.casefold(): cycle for cycle, name in BILLING_PLAN_NAMES.items()},
    **{cycle: cycle for cycle in BILLING_CYCLES},
    "onetime": "one_time",
    "upfront": "one_time",
}


def billing_cycle(text: str) -> str | None:
    """`one_time` for "OneTime", "one_time" or "Upfront"; None when it is not a billing cycle."""
    return _BILLING_PLANS_FOLDED.get(text.strip().casefold().replace(" ", ""))


def ordered_cycles(cycles) -> list[str]:
    return [cycle for cycle in BILLING_CYCLES if cycle in set(cycles)]


SEGMENTS = ("Commercial", "Education", "Government", "NonProfit")

# What a Reserved Instance SKU asks for in a cart line's provisioningContext (rule R8).
RESERVED_INSTANCE_PROVISIONING = ("Scope", "SubscriptionId", "Duration")
RESERVED_INSTANCE_PREREQUISITES = ("InventoryCheck", "AzureSubscriptionRegistration")
RESERVED_INSTANCE_SCOPES = ("Shared", "Single")

# Product, SKU and availability ids: letters and digits, as Partner Center's ("DG7GMGF0DVT5", "0001").
ID_PATTERN = re.compile(r"^[A-Za-z0-9]{1,20}$")
