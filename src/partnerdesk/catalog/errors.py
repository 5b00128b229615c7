"""Catalog errors (codes 2xxx): each kind with its HTTP status and a stable number.

20xx: a product, SKU, availability or catalog item that does not exist (or already does).
21xx: what may be bought where and when (target views, markets, rule R1, prices in force).
22xx: catalog data an operator writes that breaks a rule.
23xx: price-list files.
"""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class ProductNotFound(DeskError):
    status_code = 404
    code = 2000


class SkuNotFound(DeskError):
    status_code = 404
    code = 2001


class AvailabilityNotFound(DeskError):
    status_code = 404
    code = 2002


class CatalogItemNotFound(DeskError):
    status_code = 404
    code = 2003


class ProductExists(DeskError):
    status_code = 409
    code = 2010


class SkuExists(DeskError):
    status_code = 409
    code = 2011


class AvailabilityExists(DeskError):
    status_code = 409
    code = 2012


class MalformedCatalogItemId(DeskError):
    status_code = 400
    code = 2020


class UnknownTargetView(DeskError):
    status_code = 400
    code = 2100


class CountryRequired(DeskError):
    status_code = 400
    code = 2101


class NotSoldInMarket(DeskError):
    """The catalog item is priced for another market than the buyer's."""

    status_code = 400
    code = 2102


class NotInForce(DeskError):
    """The catalog item's price has not taken effect yet, or has ended."""

    status_code = 400
    code = 2103


class ReservedInstancesNotSold(DeskError):
    """Rule R1: no Reserved Instances in the operator's excluded markets."""

    status_code = 400
    code = 2104

    @classmethod
    def for_market(cls, country: str) -> ReservedInstancesNotSold:
        return cls(f"Reserved Instances are not sold in market {country} (rule R1).", [country])


class InvalidCatalogEntry(DeskError):
    status_code = 400
    code = 2200


class ProductTypeChange(DeskError):
    status_code = 409
    code = 2201


class InvalidPriceList(DeskError):
    """A price list with bad rows: `data` holds one entry per bad row, and nothing was written."""

    status_code = 400
    code = 2300
