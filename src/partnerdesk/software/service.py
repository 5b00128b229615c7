"""The rules of keys and downloads (R3, R4) and of the operator's files and key pools.

Keys are issued at the first request for a purchase's keys and downloads, not at checkout: which pool
a key comes from depends on the version the agent picks (keys may differ per version), and a
purchase made while its pool is empty is fulfilled as soon as the operator refills it rather than
refused. Once issued, a purchase keeps its keys: asking again shows the same keys and fresh links.

A download link allows `download_link_max_downloads` downloads for `download_link_days` days from
its creation, whichever ends first. **One download** is one GET whose answer starts at byte 0 of
the file (no `Range`, a range starting at 0, or an `If-Range` that no longer matches). Resuming with a
range starting later does not count, and neither does HEAD. A link whose downloads are used up,
that has expired, or whose purchase was cancelled answers 410 to everything, resumes included.
The count is taken with one conditional UPDATE, so racing requests can never take more than the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partnerdesk.accounts.models import Role
from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.catalog import service as catalog
from partnerdesk.core.db import Database, new_id
from partnerdesk.core.errors import Forbidden
from partnerdesk.core.secrets import KeyRing, hash_token
from partnerdesk.customers import service as customers
from partnerdesk.orders import service as orders
from partnerdesk.policies import service as policies
from partnerdesk.software.errors import (
    ChoiceNotOffered,
    FileAlreadyStored,
    InvalidFile,
    KeyPoolEmpty,
    LinkGone,
    LinkNotFound,
    MalformedKeys,
    PurchaseRevoked,
    RangeNotSatisfiable,
    SoftwareNotFound,
)
from partnerdesk.software.models import (
    KEY_AVAILABLE,
    KEY_ISSUED,
    KEY_REVOKED,
    DownloadLink,
    ProductKey,
    SoftwareFile,
)
from partnerdesk.software.storage import FileStorage, Progress

KEY_ENCRYPTION_PURPOSE = "product-keys/v1"
KEY_FINGERPRINT_PURPOSE = "product-key-fingerprints/v1"
# A product key as Microsoft prints them: five groups of five letters or digits.
KEY_PATTERN = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$")
# Link tokens: 32 random bytes (256 bits), URL-safe base64 without padding (43 characters).
TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
DOWNLOAD_PATH = "/v1/downloads/"
PURCHASE_ACTIVE = "active"

# Activity log actions.
KEYS_REVEALED = "software.keys_revealed"
DOWNLOADED = "software.downloaded"
KEY_POOL_EMPTY = "software.key_pool_empty"
FILES_MISSING = "software.files_missing"
KEYS_IMPORTED = "software.keys_imported"
FILE_ADDED = "software.file_added"


# --- files -----------------------------------------------------------------------------------------

def _offered(kind: str, value: str, offered: Iterable[str], field: str, where: str) -> str:
    """`value` as the SKU spells it (compared without regard to case), or 400 naming the field."""
    offered = list(offered)
    for choice in offered:
        if choice.casefold() == value.strip().casefold():
            return choice
    listed = ", ".join(offered) if offered else "none"
    raise ChoiceNotOffered(f"{field}: '{value}' is not a {kind} offered for {where}; choose one of: {listed}.",
                           [field, value])


@dataclass(frozen=True)
class Choice:
    version: str
    language: str
    file_type: str


def check_choice(choices: catalog.SoftwareChoices, *, version: str, language: str, file_type: str) -> Choice:
    where = f"{choices.product_title} ({choices.sku_title})"
    return Choice(
        version=_offered("version", version, choices.versions, "version", where),
        language=_offered("language", language, choices.languages, "language", where),
        file_type=_offered("file type", file_type, choices.file_types, "fileType", where),
    )


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()+\-]")


def safe_file_name(name: str) -> str:
    """The name a customer's browser saves the file under: no folders, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = _UNSAFE_NAME.sub("_", base).strip(". ")
    if not cleaned or len(cleaned) > 255:
        raise InvalidFile(f"fileName: '{name[:80]}' is not a usable file name (1 to 255 characters, no folders).",
                          ["fileName"])
    return cleaned


@dataclass(frozen=True)
class NewFile:
    product_id: str
    sku_id: str
    version: str
    language: str
    file_type: str
    file_name: str
    content_type: str = "application/octet-stream"


def prepare_file(db: Session, new: NewFile) -> NewFile:
    """The file's description checked against the catalog, before any byte is stored."""
    choices = catalog.software_choices(db, product_id=new.product_id, sku_id=new.sku_id)
    if not choices.is_software:
        raise InvalidFile(f"Product {new.product_id} is not software; it has no installation files.",
                          [new.product_id])
    choice = check_choice(choices, version=new.version, language=new.language, file_type=new.file_type)
    checked = NewFile(product_id=new.product_id, sku_id=new.sku_id, version=choice.version,
                      language=choice.language, file_type=choice.file_type,
                      file_name=safe_file_name(new.file_name), content_type=new.content_type)
    if _stored_file_id(db, checked) is not None:
        raise FileAlreadyStored(
            f"{checked.file_name} is already stored for {checked.product_id}:{checked.sku_id} {checked.version} "
            f"{checked.language} {checked.file_type}.", [checked.file_name])
    return checked


def _stored_file_id(db: Session, new: NewFile) -> str | None:
    return db.scalar(select(SoftwareFile.id).where(
        SoftwareFile.product_id == new.product_id, SoftwareFile.sku_id == new.sku_id,
        SoftwareFile.version == new.version, SoftwareFile.language == new.language,
        SoftwareFile.file_type == new.file_type, SoftwareFile.file_name == new.file_name))


def add_file(
    database: Database, storage: FileStorage, new: NewFile, chunks: Iterable[bytes], *, actor: str,
    principal: Principal | None, now: datetime, progress: Progress | None = None,
) -> SoftwareFile:
    """Stores an installation file (size and SHA-256 computed while its bytes go by), then records it.

    Unlike other writes this takes the database, not a session: the bytes, possibly gigabytes, are
    stored between two short transactions (check, then record), so no transaction, and on SQLite no
    write lock, is held while they arrive. If the record cannot be written the bytes are removed again.
    """
    with database.session(write=False) as db:
        checked = prepare_file(db, new)
    file_id = new_id()
    storage_key = f"files/{file_id}"
    stored = storage.save(storage_key, chunks, progress=progress)
    try:
        if stored.size == 0:
            raise InvalidFile(f"{checked.file_name} is empty; an installation file needs its bytes.",
                              [checked.file_name])
        with database.session() as db:
            row = SoftwareFile(id=file_id, product_id=checked.product_id, sku_id=checked.sku_id,
                               version=checked.version, language=checked.language, file_type=checked.file_type,
                               file_name=checked.file_name, size=stored.size, sha256=stored.sha256,
                               content_type=checked.content_type, storage_key=storage_key, created_at=now,
                               created_by=actor)
            db.add(row)
            db.flush()
            audit.record(db, principal=principal, now=now, action=FILE_ADDED, object_type="softwareFile",
                         object_id=file_id, partner_id=None,
                         details={"productId": row.product_id, "skuId": row.sku_id, "version": row.version,
                                  "language": row.language, "fileType": row.file_type, "fileName": row.file_name,
                                  "size": row.size, "sha256": row.sha256})
    except IntegrityError as error:
        storage.delete(storage_key)
        raise FileAlreadyStored(f"{checked.file_name} was stored meanwhile by someone else.",
                                [checked.file_name]) from error
    except BaseException:
        storage.delete(storage_key)
        raise
    return row


def list_files(db: Session, *, product_id: str | None = None, sku_id: str | None = None) -> list[SoftwareFile]:
    statement = select(SoftwareFile)
    if product_id:
        statement = statement.where(SoftwareFile.product_id == product_id)
    if sku_id:
        statement = statement.where(SoftwareFile.sku_id == sku_id)
    return list(db.scalars(statement.order_by(SoftwareFile.product_id, SoftwareFile.sku_id, SoftwareFile.version,
                                              SoftwareFile.language, SoftwareFile.file_type,
                                              SoftwareFile.file_name)))


# --- key pools -------------------------------------------------------------------------------------

def normalise_key(text: str) -> str:
    return text.strip().upper()


def key_fingerprint(keyring: KeyRing, key: str) -> str:
    return hmac.new(keyring.derive(KEY_FINGERPRINT_PURPOSE), key.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class KeyImport:
    product_id: str
    sku_id: str
    version: str
    imported: int
    available: int


def import_keys(
    db: Session, keyring: KeyRing, *, product_id: str, sku_id: str, version: str, lines: Iterable[str],
    principal: Principal | None, now: datetime,
) -> KeyImport:
    """Adds keys to a SKU's pool (for one version, or for all when `version` is empty): all or nothing.

    Blank lines and lines starting with `#` are skipped. A malformed key, a key listed twice, or a key
    already in any pool refuses the whole file, naming every offending line."""
    choices = catalog.software_choices(db, product_id=product_id, sku_id=sku_id)
    if not choices.is_software:
        raise MalformedKeys(f"Product {product_id} is not software; it takes no product keys.", [product_id])
    if version.strip():
        version = _offered("version", version, choices.versions, "version",
                           f"{choices.product_title} ({choices.sku_title})")
    problems: list[str] = []
    seen: dict[str, int] = {}
    keys: list[tuple[int, str, str]] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key = normalise_key(text)
        if not KEY_PATTERN.match(key):
            problems.append(f"line {number}: not a product key (five groups of five letters or digits, "
                            "joined by hyphens)")
            continue
        fingerprint = key_fingerprint(keyring, key)
        if fingerprint in seen:
            problems.append(f"line {number}: the same key as line {seen[fingerprint]}")
            continue
        seen[fingerprint] = number
        keys.append((number, key, fingerprint))
    if keys:
        known = set(db.scalars(select(ProductKey.fingerprint)
                               .where(ProductKey.fingerprint.in_([fingerprint for _n, _k, fingerprint in keys]))))
        problems.extend(f"line {number}: this key is already in a pool" for number, _key, fingerprint in keys
                        if fingerprint in known)
    if problems:
        problems.sort(key=lambda problem: int(problem.split(":")[0].split()[1]))
        raise MalformedKeys("No key was imported: " + "; ".join(problems[:20])
                            + (f"; and {len(problems) - 20} more." if len(problems) > 20 else "."), problems)
    if not keys:
        raise MalformedKeys("No key was imported: the file holds no product key.", [])
    cipher = keyring.fernet(KEY_ENCRYPTION_PURPOSE)
    try:
        with db.begin_nested():
            db.execute(insert(ProductKey.__table__), [
                {"id": new_id(), "product_id": product_id, "sku_id": sku_id, "version": version,
                 "ciphertext": cipher.encrypt(key.encode()).decode(), "fingerprint": fingerprint,
                 "last_five": key[-5:], "status": KEY_AVAILABLE, "imported_at": now}
                for _number, key, fingerprint in keys
            ])
    except IntegrityError as error:
        raise MalformedKeys("No key was imported: some of these keys were imported meanwhile by someone else.",
                            []) from error
    audit.record(db, principal=principal, now=now, action=KEYS_IMPORTED, object_type="sku",
                 object_id=f"{product_id}:{sku_id}", partner_id=None,
                 details={"productId": product_id, "skuId": sku_id, "version": version, "count": len(keys)})
    available = db.scalar(select(func.count()).select_from(ProductKey).where(
        ProductKey.product_id == product_id, ProductKey.sku_id == sku_id, ProductKey.version == version,
        ProductKey.status == KEY_AVAILABLE))
    return KeyImport(product_id=product_id, sku_id=sku_id, version=version, imported=len(keys),
                     available=available or 0)


@dataclass(frozen=True)
class PoolCount:
    product_id: str
    sku_id: str
    version: str
    available: int
    issued: int
    revoked: int


def pool_counts(db: Session, *, product_id: str | None = None, sku_id: str | None = None) -> list[PoolCount]:
    statement = (select(ProductKey.product_id, ProductKey.sku_id, ProductKey.version, ProductKey.status,
                        func.count())
                 .group_by(ProductKey.product_id, ProductKey.sku_id, ProductKey.version, ProductKey.status))
    if product_id:
        statement = statement.where(ProductKey.product_id == product_id)
    if sku_id:
        statement = statement.where(ProductKey.sku_id == sku_id)
    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    for pid, sid, version, status, count in db.execute(statement):
        counts.setdefault((pid, sid, version), {})[status] = count
    return [PoolCount(pid, sid, version, found.get(KEY_AVAILABLE, 0), found.get(KEY_ISSUED, 0),
                      found.get(KEY_REVOKED, 0))
            for (pid, sid, version), found in sorted(counts.items())]


def _pool_version(db: Session, purchase: orders.SoftwarePurchase, version: str) -> str:
    """The pool a purchase's keys for `version` come from: the one it already holds keys of (the version's
    own, else the SKU's for every version), so a pool the operator adds later never changes the keys a
    purchase was shown; for a first request, the version's own keys if the operator ever imported any,
    otherwise the SKU's keys for every version ("")."""
    held = set(db.scalars(select(ProductKey.version).where(
        ProductKey.entitlement_id == purchase.entitlement_id, ProductKey.version.in_([version, ""]))))
    if held:
        return version if version in held else ""
    has_own = db.scalar(select(ProductKey.id).where(
        ProductKey.product_id == purchase.product_id, ProductKey.sku_id == purchase.sku_id,
        ProductKey.version == version).limit(1))
    return version if has_own is not None else ""


_key = ProductKey.__table__.c
_ISSUE_KEYS = (update(ProductKey.__table__)
               .where(_key.id.in_(bindparam("key_ids", expanding=True)), _key.status == KEY_AVAILABLE)
               .values(status=KEY_ISSUED, entitlement_id=bindparam("entitlement_id"), issued_at=bindparam("now")))


def _issued_keys(db: Session, purchase: orders.SoftwarePurchase, pool_version: str) -> list[ProductKey]:
    return list(db.scalars(select(ProductKey).where(
        ProductKey.entitlement_id == purchase.entitlement_id, ProductKey.version == pool_version)
        .order_by(ProductKey.issued_at, ProductKey.id)))


def _issue_keys(db: Session, purchase: orders.SoftwarePurchase, pool_version: str, *, principal: Principal,
                now: datetime) -> list[ProductKey]:
    """The purchase's keys for this pool, issuing what it lacks (one per unit bought)."""
    held = _issued_keys(db, purchase, pool_version)
    missing = purchase.quantity - len(held)
    if missing <= 0:
        return held
    # Another purchase issuing from the same pool at the same moment skips the keys locked here.
    free = list(db.scalars(
        select(ProductKey.id).where(ProductKey.product_id == purchase.product_id,
                                    ProductKey.sku_id == purchase.sku_id, ProductKey.version == pool_version,
                                    ProductKey.status == KEY_AVAILABLE)
        .order_by(ProductKey.imported_at, ProductKey.id).limit(missing).with_for_update(skip_locked=True)))
    taken = db.execute(_ISSUE_KEYS, {"key_ids": free, "entitlement_id": purchase.entitlement_id, "now": now})
    if len(free) < missing or taken.rowcount != len(free):
        raise _pool_empty(purchase, pool_version, missing, principal=principal, now=now)
    return _issued_keys(db, purchase, pool_version)


def _pool_empty(purchase: orders.SoftwarePurchase, pool_version: str, missing: int, *, principal: Principal,
                now: datetime) -> KeyPoolEmpty:
    pool = f"{purchase.product_id}:{purchase.sku_id}" + (f" version {pool_version}" if pool_version else "")

    def alert(db: Session) -> None:
        audit.record(db, principal=principal, now=now, action=KEY_POOL_EMPTY, object_type="sku",
                     object_id=f"{purchase.product_id}:{purchase.sku_id}", partner_id=purchase.partner_id,
                     customer_id=purchase.customer_id,
                     details={"productId": purchase.product_id, "skuId": purchase.sku_id, "version": pool_version,
                              "softwareId": purchase.entitlement_id, "keysMissing": missing})

    return KeyPoolEmpty(
        f"No product key is left for {purchase.title} ({pool}); {missing} more "
        f"{'is' if missing == 1 else 'are'} needed. The operator has been alerted; ask again once the pool "
        "is refilled. Nothing was issued.", [pool], kept=[alert])


# --- purchases: the Software list and keys and downloads (R3) ---------------------------------------

@dataclass(frozen=True)
class SoftwareItem:
    purchase: orders.SoftwarePurchase
    choices: catalog.SoftwareChoices


def list_software(db: Session, *, principal: Principal, customer_id: str) -> list[SoftwareItem]:
    """Every software product bought for the customer, newest first (rule R3)."""
    customer = customers.get_customer_ref(db, principal=principal, customer_id=customer_id)
    purchases = orders.software_purchases(db, customer_id=customer.id)
    choices: dict[tuple[str, str], catalog.SoftwareChoices] = {}
    for purchase in purchases:
        key = (purchase.product_id, purchase.sku_id)
        if key not in choices:
            choices[key] = catalog.software_choices(db, product_id=purchase.product_id, sku_id=purchase.sku_id)
    return [SoftwareItem(purchase, choices[(purchase.product_id, purchase.sku_id)]) for purchase in purchases]


def get_software(db: Session, *, principal: Principal, customer_id: str, software_id: str,
                 lock: bool = False) -> SoftwareItem:
    customer = customers.get_customer_ref(db, principal=principal, customer_id=customer_id)
    found = orders.software_purchases(db, customer_id=customer.id, entitlement_id=software_id, lock=lock)
    if not found:
        raise SoftwareNotFound(f"Customer {customer_id} has no software purchase {software_id}.", [software_id])
    purchase = found[0]
    return SoftwareItem(purchase, catalog.software_choices(db, product_id=purchase.product_id,
                                                           sku_id=purchase.sku_id))


@dataclass(frozen=True)
class RevealedKey:
    key: str
    status: str


@dataclass(frozen=True)
class IssuedLink:
    link_id: str
    token: str
    file: SoftwareFile
    expires_at: datetime
    downloads_remaining: int


@dataclass(frozen=True)
class KeysAndDownloads:
    software: SoftwareItem
    choice: Choice
    keys: list[RevealedKey]
    links: list[IssuedLink]


def require_key_holder(principal: Principal) -> None:
    if principal.role is not Role.admin_agent or principal.partner_id is None:
        raise Forbidden("Only an admin agent of the partner may get product keys and downloads (rule R3).",
                        [principal.role.value])


@dataclass(frozen=True)
class Client:
    """Where a request came from, for the activity log."""

    ip: str | None = None
    user_agent: str | None = None


def keys_and_downloads(
    db: Session, keyring: KeyRing, *, principal: Principal, customer_id: str, software_id: str, version: str,
    language: str, file_type: str, now: datetime, request_id: str | None = None, client: Client | None = None,
) -> KeysAndDownloads:
    """The purchase's product keys for the chosen version, and a fresh link to every matching file (R3, R4).

    A cancelled purchase shows its keys as revoked (last five characters only) and gets no link."""
    require_key_holder(principal)
    item = get_software(db, principal=principal, customer_id=customer_id, software_id=software_id, lock=True)
    choice = check_choice(item.choices, version=version, language=language, file_type=file_type)
    purchase = item.purchase
    pool_version = _pool_version(db, purchase, choice.version)
    if purchase.status != PURCHASE_ACTIVE:
        revoked = [RevealedKey(key=f"*****-*****-*****-*****-{key.last_five}", status=KEY_REVOKED)
                   for key in _issued_keys(db, purchase, pool_version)]
        if not revoked:
            raise PurchaseRevoked(f"Purchase {software_id} was cancelled: it has no product keys and no downloads.",
                                  [software_id])
        result = KeysAndDownloads(item, choice, revoked, [])
        _record_reveal(db, principal=principal, result=result, key_ids=[], now=now, request_id=request_id,
                       client=client)
        return result
    issued = _issue_keys(db, purchase, pool_version, principal=principal, now=now)
    cipher = keyring.fernet(KEY_ENCRYPTION_PURPOSE)
    keys = [RevealedKey(key=cipher.decrypt(key.ciphertext.encode()).decode(), status=key.status)
            for key in issued]
    files = list(db.scalars(select(SoftwareFile).where(
        SoftwareFile.product_id == purchase.product_id, SoftwareFile.sku_id == purchase.sku_id,
        SoftwareFile.version == choice.version, SoftwareFile.language == choice.language,
        SoftwareFile.file_type == choice.file_type).order_by(SoftwareFile.file_name)))
    links = _new_links(db, purchase, files, principal=principal, now=now)
    result = KeysAndDownloads(item, choice, keys, links)
    _record_reveal(db, principal=principal, result=result, key_ids=[key.id for key in issued], now=now,
                   request_id=request_id, client=client)
    if not files:
        audit.record(db, principal=principal, now=now, action=FILES_MISSING, object_type="sku",
                     object_id=f"{purchase.product_id}:{purchase.sku_id}", partner_id=purchase.partner_id,
                     customer_id=purchase.customer_id,
                     details={"version": choice.version, "language": choice.language, "fileType": choice.file_type})
    return result


def _new_links(db: Session, purchase: orders.SoftwarePurchase, files: list[SoftwareFile], *,
               principal: Principal, now: datetime) -> list[IssuedLink]:
    days = policies.download_link_days(db)
    limit = policies.download_link_max_downloads(db)
    expires_at = now + timedelta(days=days)
    links = [IssuedLink(link_id=new_id(), token=secrets.token_urlsafe(TOKEN_BYTES), file=file,
                        expires_at=expires_at, downloads_remaining=limit) for file in files]
    if links:
        db.execute(insert(DownloadLink.__table__), [
            {"id": link.link_id, "token_hash": hash_token(link.token), "entitlement_id": purchase.entitlement_id,
             "file_id": link.file.id, "partner_id": purchase.partner_id, "customer_id": purchase.customer_id,
             "created_at": now, "created_by": principal.email, "expires_at": expires_at, "max_downloads": limit,
             "downloads_used": 0}
            for link in links
        ])
    return links


def _record_reveal(db: Session, *, principal: Principal, result: KeysAndDownloads, key_ids: list[str],
                   now: datetime, request_id: str | None, client: Client | None) -> None:
    # Never the key itself: its id and last five characters say which one it was.
    purchase = result.software.purchase
    audit.record(db, principal=principal, now=now, action=KEYS_REVEALED, object_type="software",
                 object_id=purchase.entitlement_id, customer_id=purchase.customer_id, request_id=request_id,
                 details={"orderId": purchase.order_id, "lineItemNumber": purchase.line_item_number,
                          "version": result.choice.version, "language": result.choice.language,
                          "fileType": result.choice.file_type, "keyIds": key_ids,
                          "keys": [key.key[-5:] for key in result.keys],
                          "files": [link.file.file_name for link in result.links],
                          "linkIds": [link.link_id for link in result.links],
                          "ip": client.ip or "" if client else "",
                          "userAgent": (client.user_agent or "")[:300] if client else ""})


def download_uri(base_url: str, token: str) -> str:
    return f"{base_url}{DOWNLOAD_PATH}{token}"


# --- cancellation (R5) -----------------------------------------------------------------------------

def revoke_purchases(db: Session, entitlement_ids: list[str], *, now: datetime) -> None:
    """Revokes the keys of cancelled purchases and ends every link of them, in the caller's transaction:
    from its commit on, the keys show as revoked and the links answer 410."""
    if not entitlement_ids:
        return
    db.execute(update(ProductKey.__table__).where(_key.entitlement_id.in_(entitlement_ids))
               .values(status=KEY_REVOKED, revoked_at=now))
    db.execute(update(DownloadLink.__table__)
               .where(DownloadLink.__table__.c.entitlement_id.in_(entitlement_ids),
                      DownloadLink.__table__.c.revoked_at.is_(None))
               .values(revoked_at=now))


# --- downloads (R4) --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ByteRange:
    start: int
    stop: int  # excluded

    @property
    def length(self) -> int:
        return self.stop - self.start


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range of a `Range: bytes=...` header, or None to send the whole file (no header, a unit
    other than bytes, several ranges or a malformed one: RFC 9110 lets a server ignore those).
    Raises RangeNotSatisfiable when the range lies past the end."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) \
            or (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable(f"The range asks for no bytes of a {size}-byte file.", [header, size])
        return ByteRange(max(size - suffix, 0), size)
    start = int(first)
    stop = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(f"The range starts at byte {start}, past the end of a {size}-byte file.",
                                  [header, size])
    return ByteRange(start, stop)


def etag_of(file_sha256: str) -> str:
    return f'"{file_sha256}"'


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [candidate.strip().removeprefix("W/") for candidate in header.split(",")]
    return "*" in candidates or etag in candidates


@dataclass(frozen=True)
class Delivery:
    """What a download request gets: which bytes of which file, or nothing (HEAD, 304)."""

    file_name: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    etag: str
    byte_range: ByteRange | None  # None: the whole file
    not_modified: bool
    counted: bool
    downloads_remaining: int
    expires_at: datetime

    @property
    def status_code(self) -> int:
        return 304 if self.not_modified else 206 if self.byte_range is not None else 200

    @property
    def first_byte(self) -> int:
        return self.byte_range.start if self.byte_range else 0

    @property
    def stop(self) -> int:
        return self.byte_range.stop if self.byte_range else self.size

    @property
    def length(self) -> int:
        return 0 if self.not_modified else self.stop - self.first_byte


@dataclass(frozen=True)
class DownloadRequest:
    token: str
    method: str  # GET or HEAD
    range: str | None
    if_range: str | None
    if_none_match: str | None
    client_ip: str | None
    user_agent: str | None


_link = DownloadLink.__table__.c
_file = SoftwareFile.__table__.c
_FIND_LINK = (
    select(_link.id, _link.entitlement_id, _link.partner_id, _link.customer_id, _link.created_at, _link.expires_at,
           _link.max_downloads, _link.downloads_used, _link.revoked_at, _file.id.label("file_id"), _file.file_name,
           _file.content_type, _file.size, _file.sha256, _file.storage_key)
    .join_from(DownloadLink.__table__, SoftwareFile.__table__, _file.id == _link.file_id)
    .where(_link.token_hash == bindparam("token_hash"))
)
# The count: one statement that checks the link is live and takes one download, so racing requests for
# the last download cannot both have it (PostgreSQL re-checks the condition after the row lock).
_TAKE_DOWNLOAD = (
    update(DownloadLink.__table__)
    .where(_link.id == bindparam("link_id"), _link.revoked_at.is_(None), _link.expires_at > bindparam("now"),
           _link.downloads_used < _link.max_downloads)
    .values(downloads_used=_link.downloads_used + 1)
    .returning(_link.downloads_used, _link.max_downloads)
)
_LINK_STATE = select(_link.created_at, _link.expires_at, _link.max_downloads, _link.downloads_used,
                     _link.revoked_at).where(_link.id == bindparam("link_id"))
# A plain GET (no Range, no If-None-Match) is one download whenever the link is live, so it takes it at
# once, finding the link by its token in the UPDATE itself: one statement fewer on the hot path. The same
# conditions as `_TAKE_DOWNLOAD`; when no row comes back, `start_download`'s general path says why.
_TAKE_DOWNLOAD_BY_TOKEN = (
    update(DownloadLink.__table__)
    .where(_link.token_hash == bindparam("link_token_hash"), _link.revoked_at.is_(None),
           _link.expires_at > bindparam("now"), _link.downloads_used < _link.max_downloads)
    .values(downloads_used=_link.downloads_used + 1)
    .returning(_link.id, _link.entitlement_id, _link.partner_id, _link.customer_id, _link.expires_at,
               _link.max_downloads, _link.downloads_used, _link.file_id)
)
_FILE_FACTS = select(_file.id, _file.file_name, _file.content_type, _file.size, _file.sha256,
                     _file.storage_key).where(_file.id == bindparam("file_id"))


@dataclass(frozen=True)
class _StoredFile:
    id: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


# An installation file's row never changes once stored (nothing updates or deletes one; a restore needs
# the server stopped), so what a download needs of it is kept per process, by file id (random, never
# reused): a redemption then reads no file row. Bounded: emptied when full.
_stored_files: dict[str, _StoredFile] = {}
_STORED_FILES_KEPT = 1024


def _stored_file(db: Session, file_id: str) -> _StoredFile:
    known = _stored_files.get(file_id)
    if known is None:
        known = _StoredFile(*db.execute(_FILE_FACTS, {"file_id": file_id}).one())
        if len(_stored_files) >= _STORED_FILES_KEPT:
            _stored_files.clear()
        _stored_files[file_id] = known
    return known


def _gone(link: Row, now: datetime) -> LinkGone | None:
    """Why `link` (a row with its dates, limit and count) no longer serves, or None while it is live."""
    expires_at, revoked_at = link.expires_at, link.revoked_at
    # The days this link was made with, which a later change of the policy does not alter.
    days = (expires_at - link.created_at).days
    again = "Ask the reseller who sent it for a new link: it can issue one at any time (Get keys and downloads)."
    if revoked_at is not None:
        return LinkGone(f"This download link was revoked on {revoked_at:%Y-%m-%d %H:%M} UTC because the purchase "
                        "was cancelled. It will not work again.", ["revoked"])
    if now >= expires_at:
        return LinkGone(f"This download link expired on {expires_at:%Y-%m-%d %H:%M} UTC: a link is valid for "
                        f"{days} days. {again}", ["expired"])
    if link.downloads_used >= link.max_downloads:
        return LinkGone(f"This download link has been used for all of its {link.max_downloads} downloads. {again}",
                        ["used_up"])
    return None


def start_download(db: Session, request: DownloadRequest, *, now: datetime) -> Delivery:
    """Checks a link, takes one download from it when this request is one (see the module's docstring),
    and records the request in the activity log. The caller streams the bytes after the commit."""
    if not TOKEN_PATTERN.match(request.token):
        raise LinkNotFound("There is no download link at this address. Check that the whole link was copied.", [])
    token_hash = hash_token(request.token)
    if request.method == "GET" and not request.range and not request.if_none_match:
        taken = db.execute(_TAKE_DOWNLOAD_BY_TOKEN, {"link_token_hash": token_hash, "now": now}).first()
        if taken is not None:
            file = _stored_file(db, taken.file_id)
            delivery = Delivery(file_name=file.file_name, content_type=file.content_type, size=file.size,
                                sha256=file.sha256, storage_key=file.storage_key, etag=etag_of(file.sha256),
                                byte_range=None, not_modified=False, counted=True,
                                downloads_remaining=max(taken.max_downloads - taken.downloads_used, 0),
                                expires_at=taken.expires_at)
            _record_download(db, taken, file.id, request, delivery, now=now)
            return delivery
        # No live link has this token: the general path below finds out why, and takes nothing.
    link = db.execute(_FIND_LINK, {"token_hash": token_hash}).first()
    if link is None:
        raise LinkNotFound("There is no download link at this address. Check that the whole link was copied.", [])
    gone = _gone(link, now)
    if gone is not None:
        raise gone
    etag = etag_of(link.sha256)
    wanted = parse_range(request.range, link.size)
    if wanted is not None and request.if_range is not None and request.if_range.strip() != etag:
        wanted = None  # the file changed since the client's first part: send it whole
    not_modified = request.method == "GET" and _etag_matches(request.if_none_match, etag)
    counted = request.method == "GET" and not not_modified and (wanted is None or wanted.start == 0)
    used, limit = link.downloads_used, link.max_downloads
    if counted:
        taken = db.execute(_TAKE_DOWNLOAD, {"link_id": link.id, "now": now}).first()
        if taken is None:  # another request took the last download (or the link ended) meanwhile
            state = db.execute(_LINK_STATE, {"link_id": link.id}).one()
            raise _gone(state, now) or LinkGone("This download link is no longer valid.", [])
        used, limit = taken.downloads_used, taken.max_downloads
    delivery = Delivery(file_name=link.file_name, content_type=link.content_type, size=link.size,
                        sha256=link.sha256, storage_key=link.storage_key, etag=etag, byte_range=wanted,
                        not_modified=not_modified, counted=counted, downloads_remaining=max(limit - used, 0),
                        expires_at=link.expires_at)
    if request.method == "GET":
        _record_download(db, link, link.file_id, request, delivery, now=now)
    return delivery


def _record_download(db: Session, link: Row, file_id: str, request: DownloadRequest, delivery: Delivery, *,
                     now: datetime) -> None:
    """The activity-log record of a GET on a link (`link`: a row with its id, purchase, partner and customer)."""
    audit.record(db, principal=None, now=now, action=DOWNLOADED, object_type="downloadLink", object_id=link.id,
                 partner_id=link.partner_id, customer_id=link.customer_id,
                 details={"softwareId": link.entitlement_id, "fileId": file_id, "fileName": delivery.file_name,
                          "ip": request.client_ip or "", "userAgent": (request.user_agent or "")[:300],
                          "status": delivery.status_code, "firstByte": delivery.first_byte,
                          "bytes": delivery.length, "counted": delivery.counted,
                          "downloadsRemaining": delivery.downloads_remaining})


def file_bytes(storage: FileStorage, delivery: Delivery) -> Iterator[bytes]:
    """The bytes a delivery sends, straight from the store, in chunks."""
    if delivery.length == 0:
        return iter(())
    return storage.read(delivery.storage_key, delivery.first_byte, delivery.stop)



# --- the portal's Software tab (R3) ----------------------------------------------------------------

def files_for_choice(db: Session, purchase: orders.SoftwarePurchase, choice: Choice) -> list[SoftwareFile]:
    """The installation files a purchase gets links to for one checked choice, by name: what the Software
    tab lists after "Submit", before the agent asks for keys and downloads. Reads only; reveals nothing."""
    return list(db.scalars(select(SoftwareFile).where(
        SoftwareFile.product_id == purchase.product_id, SoftwareFile.sku_id == purchase.sku_id,
        SoftwareFile.version == choice.version, SoftwareFile.language == choice.language,
        SoftwareFile.file_type == choice.file_type).order_by(SoftwareFile.file_name)))
