"""Files attached to a service request: screenshots, logs, documents (rule R6's evidence).

The limits are operator policies: the largest file, the files one request may hold, and the file name
extensions allowed. A file's type is decided by its extension, never by what the client declares, and
the first bytes of the binary types must match it (a `.png` that is not a PNG is refused). Names are
sanitised before they are stored: no folder part, no control character, nothing a file system or a
`Content-Disposition` header would read differently. The bytes live in the same file store as
installation files, under `attachments/<request id>/<attachment id>`.

Several files sent together are taken together or not at all: every check runs before the first byte
is stored, and what was stored is deleted if a later file fails.
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.db import new_id
from partnerdesk.core.downloads import content_disposition
from partnerdesk.policies import service as policies
from partnerdesk.software.storage import CHUNK_BYTES, FileStorage
from partnerdesk.support import events
from partnerdesk.support.errors import (
    AttachmentNotFound,
    AttachmentUnavailable,
    InvalidAttachment,
    ServiceRequestClosed,
    TooManyAttachments,
)
from partnerdesk.support.models import STATUS_CLOSED, ServiceRequest, ServiceRequestAttachment
from partnerdesk.support.service import visible_request

MAX_NAME = 255
# Characters Windows, shells or HTTP headers read specially; replaced, so the name stays readable.
_UNSAFE = re.compile(r'[<>:"/\\|?*;\x00-\x1f\x7f]')
# The first bytes of the binary types; text types (txt, log, csv, json, xml) are not checked.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}


@dataclass(frozen=True)
class Upload:
    """One file as received: its name as the client sent it, its size, and a readable binary file."""

    file_name: str
    size: int
    stream: BinaryIO


def sanitise_file_name(raw: str) -> str:
    """The name kept for a file: its last path part, NFC, without control or special characters, no
    leading dots (no hidden files, no `..`), at most 255 characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        name = name[: MAX_NAME - len(keep) - 1] + "." + keep if keep else name[:MAX_NAME]
    return name


def extension_of(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return extension.casefold() if dot and stem else ""


def content_type_of(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def _check(upload: Upload, *, max_bytes: int, allowed: frozenset[str]) -> str:
    """The sanitised name of an acceptable upload; raises naming the file and the problem otherwise."""
    shown = upload.file_name[:80] or "(no name)"
    name = sanitise_file_name(upload.file_name)
    extension = extension_of(name)
    if not name or not extension:
        raise InvalidAttachment(
            f"files: '{shown}' has no usable file name with an extension such as report.pdf.", [shown])
    if extension not in allowed:
        raise InvalidAttachment(
            f"files: '{name}' is a .{extension} file; service requests take {', '.join(sorted(allowed))} files.",
            [name, *sorted(allowed)])
    if upload.size <= 0:
        raise InvalidAttachment(f"files: '{name}' is empty.", [name])
    if upload.size > max_bytes:
        raise InvalidAttachment(
            f"files: '{name}' is {upload.size} bytes; a file may be at most {max_bytes} bytes.", [name, str(max_bytes)])
    signatures = _SIGNATURES.get(extension)
    if signatures:
        upload.stream.seek(0)
        head = upload.stream.read(16)
        upload.stream.seek(0)
        if not head.startswith(signatures):
            raise InvalidAttachment(f"files: '{name}' is not a .{extension} file: its content is of another type.",
                                    [name])
    return name


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    stream.seek(0)
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def add_attachments(db: Session, storage: FileStorage, *, principal: Principal, request_id: str,
                    uploads: Sequence[Upload], now: datetime,
                    request_id_header: str | None = None) -> list[ServiceRequestAttachment]:
    """Stores the files on the request, all of them or none."""
    request = visible_request(db, principal, request_id, for_update=True)
    if request.status == STATUS_CLOSED:
        raise ServiceRequestClosed(f"Service request {request.id} is closed; it takes no more files.", [request.id])
    if not uploads:
        raise InvalidAttachment("files: send one or more files as multipart/form-data parts named 'files'.",
                                ["files"])
    max_bytes, per_request, allowed = policies.support_attachment_limits(db)
    held = db.scalar(select(func.count()).select_from(ServiceRequestAttachment)
                     .where(ServiceRequestAttachment.service_request_id == request.id)) or 0
    if held + len(uploads) > per_request:
        raise TooManyAttachments(
            f"Service request {request.id} holds {held} files and may hold {per_request}; "
            f"{len(uploads)} more is too many.", [str(held), str(per_request)])
    names = [_check(upload, max_bytes=max_bytes, allowed=allowed) for upload in uploads]

    rows: list[ServiceRequestAttachment] = []
    try:
        for position, (upload, name) in enumerate(zip(uploads, names, strict=True)):
            row = ServiceRequestAttachment(service_request_id=request.id, file_name=name,
                                           content_type=content_type_of(name), created_at=now, position=position,
                                           created_by=principal.email)
            row.id = new_id()
            row.storage_key = f"attachments/{request.id}/{row.id}"
            stored = storage.save(row.storage_key, _chunks(upload.stream))
            row.size, row.sha256 = stored.size, stored.sha256
            rows.append(row)
    except BaseException:
        _forget(storage, rows)
        raise
    db.add_all(rows)
    request.updated_at = now
    db.flush()
    audit.record(db, principal=principal, now=now, action="servicerequest.attachments_added",
                 object_type="ServiceRequest", object_id=request.id, partner_id=request.partner_id,
                 customer_id=request.customer_id, request_id=request_id_header,
                 details={"files": [{"id": row.id, "fileName": row.file_name, "size": row.size} for row in rows]})
    events.updated(db, request=request, change="attachments_added", now=now)
    return rows


def _forget(storage: FileStorage, rows: Iterable[ServiceRequestAttachment]) -> None:
    for row in rows:
        with contextlib.suppress(Exception):  # the upload's own error is the one to report
            storage.delete(row.storage_key)


def get_attachment(db: Session, *, principal: Principal, request_id: str,
                   attachment_id: str) -> ServiceRequestAttachment:
    request: ServiceRequest = visible_request(db, principal, request_id)
    row = db.get(ServiceRequestAttachment, attachment_id)
    if row is None or row.service_request_id != request.id:
        raise AttachmentNotFound(f"Service request {request.id} has no attachment {attachment_id}.", [attachment_id])
    return row


def download_headers(row: ServiceRequestAttachment) -> dict[str, str]:
    """How an attachment is sent, from the API and the portal alike: as a download never shown inline, never
    sniffed into another type, never cached, and sandboxed should a browser open it anyway."""
    return {"Content-Length": str(row.size), "Content-Disposition": content_disposition(row.file_name),
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox"}


def attachment_bytes(storage: FileStorage, row: ServiceRequestAttachment) -> Iterator[bytes]:
    """The attachment's bytes; refuses before the first byte when the store cannot give them."""
    try:
        present = storage.exists(row.storage_key)
    except Exception as error:  # noqa: BLE001 - any store failure is the same answer to the reader
        raise AttachmentUnavailable(f"Attachment {row.id} cannot be read from the file store now; try again later.",
                                    [row.id]) from error
    if not present:
        raise AttachmentUnavailable(f"Attachment {row.id} is missing from the file store.", [row.id])
    return storage.read(row.storage_key)
