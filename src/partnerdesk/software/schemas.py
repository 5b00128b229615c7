"""API shapes of the software domain, in Partner Center's style (camelCase, collections with `items`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from partnerdesk.core.schemas import CamelModel, Link, ResponseModel


class SoftwareOut(ResponseModel):
    """One software purchase of a customer: one order line, with what can be chosen for it (rule R3)."""

    id: str
    order_id: str
    line_item_number: int
    subscription_id: str
    product_id: str
    sku_id: str
    title: str
    purchase_date: datetime
    # "active", or "revoked" once the purchase is cancelled (its keys and links revoked with it).
    status: str
    quantity: int
    versions: list[str]
    languages: list[str]
    file_types: list[str]
    links: dict[str, Link] = Field(default_factory=dict)
    attributes: dict[str, str] = Field(default_factory=lambda: {"objectType": "Software"})


class KeysAndDownloadsIn(CamelModel):
    version: str = Field(min_length=1, max_length=40)
    language: str = Field(min_length=1, max_length=20)
    file_type: str = Field(min_length=1, max_length=60)


class ProductKeyOut(ResponseModel):
    # The whole key while the purchase is active; once revoked only its last five characters are shown.
    key: str
    # "issued" (valid) or "revoked".
    status: str


class DownloadOut(ResponseModel):
    file_name: str
    size: int
    sha256: str
    uri: str
    expires_at: datetime
    downloads_remaining: int


class KeysAndDownloadsOut(ResponseModel):
    software_id: str
    version: str
    language: str
    file_type: str
    product_keys: list[ProductKeyOut]
    downloads: list[DownloadOut]
    attributes: dict[str, str] = Field(default_factory=lambda: {"objectType": "KeysAndDownloads"})


class SoftwareFileOut(ResponseModel):
    id: str
    product_id: str
    sku_id: str
    version: str
    language: str
    file_type: str
    file_name: str
    size: int
    sha256: str
    content_type: str
    created_at: datetime


class KeyImportIn(CamelModel):
    # "" (or absent) when the keys work for every version of the SKU.
    version: str = Field(default="", max_length=40)
    keys: list[str] = Field(min_length=1, max_length=100_000)


class KeyImportOut(ResponseModel):
    product_id: str
    sku_id: str
    version: str
    imported: int
    available: int


class KeyPoolOut(ResponseModel):
    product_id: str
    sku_id: str
    version: str
    available: int
    issued: int
    revoked: int
