"""Tables of the software domain: installation files, product keys, and download links.

Keys are stored encrypted (Fernet under a sub-key of the desk's secret) beside a keyed fingerprint,
so a duplicate is found without decrypting anything. Link tokens are stored as their SHA-256 only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime, new_id

KEY_AVAILABLE = "available"
KEY_ISSUED = "issued"
KEY_REVOKED = "revoked"


class SoftwareFile(Base):
    """One installation file of one SKU x version x language x file type (a choice may have several files)."""

    __tablename__ = "software_files"
    __table_args__ = (
        ForeignKeyConstraint(["product_id", "sku_id"], ["catalog_skus.product_id", "catalog_skus.id"]),
        UniqueConstraint("product_id", "sku_id", "version", "language", "file_type", "file_name",
                         name="uq_software_files_choice_name"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(String(20))
    sku_id: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(20))
    file_type: Mapped[str] = mapped_column(String(60))
    file_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    # Where the bytes are in the file store (`software.storage`).
    storage_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(320), default="")


class ProductKey(Base):
    """One product key of a SKU's pool, issued to at most one purchase (an entitlement), ever."""

    __tablename__ = "product_keys"
    __table_args__ = (
        # Issuing takes the oldest available keys of a pool.
        Index("ix_product_keys_pool", "product_id", "sku_id", "version", "status", "imported_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(String(20))
    sku_id: Mapped[str] = mapped_column(String(20))
    # "" when the key works for every version of the SKU; otherwise the one version it is for.
    version: Mapped[str] = mapped_column(String(40), default="")
    ciphertext: Mapped[str] = mapped_column(Text)
    # HMAC-SHA256 of the normalised key under a sub-key of the desk's secret: a key is in the pools once.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    # The last five characters, as Partner Center shows a key it does not reveal ("...-7KXQ9").
    last_five: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default=KEY_AVAILABLE)
    entitlement_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DownloadLink(Base):
    """A public link to one file of one purchase: at most `max_downloads` downloads until `expires_at` (R4)."""

    __tablename__ = "download_links"
    __table_args__ = (Index("ix_download_links_entitlement", "entitlement_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entitlement_id: Mapped[str] = mapped_column(IdColumn())
    file_id: Mapped[str] = mapped_column(ForeignKey("software_files.id"))
    partner_id: Mapped[str] = mapped_column(IdColumn())
    customer_id: Mapped[str] = mapped_column(IdColumn())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(320))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    max_downloads: Mapped[int] = mapped_column(Integer)
    downloads_used: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
