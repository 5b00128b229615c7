"""Demo data: an installation file for every demo software version x language x file type, and a key pool
per demo software SKU, so a new user can walk purchase -> keys -> download at once. Idempotent.

The files are a few KiB of real bytes, the same on every machine (seeded by what they are for), and
their SHA-256 is computed as they are stored, like any file. The keys are made up, in a key's format.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import select

from partnerdesk.catalog.models import Product, Sku
from partnerdesk.catalog.vocabulary import is_reserved_instance
from partnerdesk.core.desk import Desk
from partnerdesk.software import service
from partnerdesk.software.models import ProductKey, SoftwareFile
from partnerdesk.software.storage import open_storage

DEMO_FILE_BYTES = 4096
DEMO_KEYS_PER_SKU = 25
_KEY_ALPHABET = "BCDFGHJKMPQRTVWXY2346789"  # the letters and digits Microsoft's keys use
_EXTENSIONS = {"iso": "iso", "vhd": "vhd"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def demo_file_name(product_title: str, sku_title: str, version: str, language: str, file_type: str) -> str:
    edition = sku_title.split(" - ")[0].removeprefix(product_title).strip() or sku_title
    kind = file_type.split()[0].lower()
    return (f"{_slug(product_title)}-{_slug(edition)}_{version}_{language}_{_slug(file_type)}"
            f".{_EXTENSIONS.get(kind, 'bin')}")


def demo_file_content(name: str) -> bytes:
    """A readable header, then seeded bytes: the same file on every machine."""
    header = f"Partner Desk demo installation file\n{name}\nNot real software.\n".encode()
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    return header + random.Random(seed).randbytes(DEMO_FILE_BYTES - len(header))


def demo_keys(product_id: str, sku_id: str, count: int = DEMO_KEYS_PER_SKU) -> list[str]:
    rng = random.Random(f"{product_id}:{sku_id}")
    keys: list[str] = []
    while len(keys) < count:
        key = "-".join("".join(rng.choice(_KEY_ALPHABET) for _ in range(5)) for _ in range(5))
        if key not in keys:
            keys.append(key)
    return keys


def _chunks(content: bytes) -> Iterator[bytes]:
    yield content


def load(desk: Desk, now: datetime, log: Callable[[str], None]) -> None:
    storage = open_storage(desk.settings)
    with desk.database.session(write=False) as db:
        skus = db.execute(
            select(Product.id, Product.title, Product.product_type_id, Sku.id, Sku.title, Sku.versions,
                   Sku.languages, Sku.file_types)
            .join(Sku, Sku.product_id == Product.id).order_by(Product.id, Sku.id)).all()
        stored = set(db.execute(select(SoftwareFile.product_id, SoftwareFile.sku_id, SoftwareFile.version,
                                       SoftwareFile.language, SoftwareFile.file_type)).all())
        pooled = set(db.execute(select(ProductKey.product_id, ProductKey.sku_id).distinct()).all())
    files = pools = 0
    for product_id, product_title, type_id, sku_id, sku_title, versions, languages, file_types in skus:
        if is_reserved_instance(type_id):
            continue
        for version in versions or []:
            for language in languages or []:
                for file_type in file_types or []:
                    if (product_id, sku_id, version, language, file_type) in stored:
                        continue
                    name = demo_file_name(product_title, sku_title, version, language, file_type)
                    new = service.NewFile(product_id=product_id, sku_id=sku_id, version=version, language=language,
                                          file_type=file_type, file_name=name)
                    service.add_file(desk.database, storage, new, _chunks(demo_file_content(name)), actor="demo",
                                     principal=None, now=now)
                    files += 1
        if (product_id, sku_id) not in pooled:
            with desk.database.session() as db:
                service.import_keys(db, desk.keyring, product_id=product_id, sku_id=sku_id, version="",
                                    lines=demo_keys(product_id, sku_id), principal=None, now=now)
            pools += 1
    if files or pools:
        log(f"demo: {files} installation file(s) and {pools} key pool(s) of {DEMO_KEYS_PER_SKU} keys added")



