"""Keys and downloads (R3, R4), in Partner Center's style (Partner Center itself has no such API).

- `GET /v1/customers/{customerId}/software`: the customer's software purchases (admin agents; the operator).
- `POST .../software/{softwareId}/keysanddownloads`: product keys and fresh links (admin agents only).
  Not replayed by `MS-RequestId`: its answer holds secrets, which the desk never stores in the clear;
  a retry shows the same keys and new links.
- `GET`/`HEAD /v1/downloads/{token}`: the public link; no login, `Range` and `ETag` supported.
- Operator: installation files (`/v1/software/files`, streamed upload) and key pools (`/v1/software/keypools`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

from anyio import from_thread
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from partnerdesk.accounts.auth import RequestContext, StreamingContext, allow, allow_streaming
from partnerdesk.accounts.models import Role
from partnerdesk.core.deps import DbSession, DeskDep, WriteDbSession, request_clock
from partnerdesk.core.desk import Desk
from partnerdesk.core.downloads import content_disposition
from partnerdesk.core.errors import DeskError
from partnerdesk.core.schemas import Collection, Link
from partnerdesk.software import presenters, service
from partnerdesk.software.errors import FileUnavailable
from partnerdesk.software.schemas import (
    KeyImportIn,
    KeyImportOut,
    KeyPoolOut,
    KeysAndDownloadsIn,
    KeysAndDownloadsOut,
    SoftwareFileOut,
    SoftwareOut,
)
from partnerdesk.software.storage import CHUNK_BYTES, FileStorage, open_storage

router = APIRouter(tags=["software"])
log = logging.getLogger("partnerdesk.software")

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/v1/customers/{customerId}/software", response_model=Collection[SoftwareOut])
def list_software(customer_id: str = Path(alias="customerId"),
                  ctx: RequestContext = allow(Role.admin_agent, Role.operator)) -> Collection[SoftwareOut]:
    items = service.list_software(ctx.db, principal=ctx.principal, customer_id=customer_id)
    return Collection[SoftwareOut](total_count=len(items), items=[presenters.software_out(item) for item in items],
                                   links={"self": Link(uri=f"/v1/customers/{customer_id}/software")})


@router.get("/v1/customers/{customerId}/software/{softwareId}", response_model=SoftwareOut)
def get_software(customer_id: str = Path(alias="customerId"), software_id: str = Path(alias="softwareId"),
                 ctx: RequestContext = allow(Role.admin_agent, Role.operator)) -> SoftwareOut:
    return presenters.software_out(service.get_software(ctx.db, principal=ctx.principal, customer_id=customer_id,
                                                        software_id=software_id))


@router.post("/v1/customers/{customerId}/software/{softwareId}/keysanddownloads",
             response_model=KeysAndDownloadsOut)
def keys_and_downloads(body: KeysAndDownloadsIn, request: Request, customer_id: str = Path(alias="customerId"),
                       software_id: str = Path(alias="softwareId"),
                       ctx: RequestContext = allow(Role.admin_agent)) -> JSONResponse:
    result = service.keys_and_downloads(
        ctx.db, ctx.desk.keyring, principal=ctx.principal, customer_id=customer_id, software_id=software_id,
        version=body.version, language=body.language, file_type=body.file_type, now=ctx.now,
        request_id=ctx.request_id, client=_client(request))
    shown = presenters.keys_and_downloads_out(result, base_url=ctx.desk.settings.public_base_url)
    return JSONResponse(shown.model_dump(mode="json"), headers=NO_STORE)


def _client(request: Request) -> service.Client:
    return service.Client(ip=request.client.host if request.client else None,
                          user_agent=request.headers.get("user-agent"))


# --- the public link -------------------------------------------------------------------------------

def _download_request(request: Request, token: str) -> service.DownloadRequest:
    return service.DownloadRequest(
        token=token, method=request.method, range=request.headers.get("range"),
        if_range=request.headers.get("if-range"), if_none_match=request.headers.get("if-none-match"),
        client_ip=request.client.host if request.client else None, user_agent=request.headers.get("user-agent"))


def _refusal(request: Request, error: DeskError) -> Response:
    """A refused link: a short page for a browser, the error shape for an API client."""
    headers = {**NO_STORE, "Referrer-Policy": "no-referrer"}
    if isinstance(error, service.RangeNotSatisfiable):
        headers["Content-Range"] = f"bytes */{error.data[-1] if error.data else '*'}"
    if request.method == "HEAD":
        return Response(status_code=error.status_code, headers=headers)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(presenters.refusal_page(error), status_code=error.status_code, headers=headers)
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


def _delivery_headers(delivery: service.Delivery) -> dict[str, str]:
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": delivery.etag,
        "Content-Disposition": content_disposition(delivery.file_name),
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Downloads-Remaining": str(delivery.downloads_remaining),
    }
    # A 304 sends no Content-Length: when sent it would have to be the whole file's (RFC 9110, 8.6), and
    # servers check a response's body against it.
    if not delivery.not_modified:
        headers["Content-Length"] = str(delivery.length)
    if delivery.byte_range is not None and not delivery.not_modified:
        headers["Content-Range"] = f"bytes {delivery.first_byte}-{delivery.stop - 1}/{delivery.size}"
    return headers


def _missing_from_store(storage: FileStorage, delivery: service.Delivery) -> FileUnavailable | None:
    """Why the file's bytes cannot be sent, checked before the answer starts: once a 200 and its
    Content-Length are out, a missing file could only end in a cut connection, with the download counted."""
    try:
        if storage.exists(delivery.storage_key):
            return None
    except FileUnavailable as error:
        log.error("file store unavailable for a download: %s", type(error).__name__)
        return error
    log.error("installation file missing from the file store: %s", delivery.storage_key)
    return _unavailable(delivery)


def _unavailable(delivery: service.Delivery) -> FileUnavailable:
    return FileUnavailable(f"{delivery.file_name} cannot be downloaded at the moment; the download was not "
                           "counted. Try again later, or tell the reseller who sent the link.",
                           [delivery.file_name])


def _answer_download(request: Request, token: str, db: Session, desk: Desk) -> Response:
    """The answer to a link (rule R4): the count is taken with one conditional UPDATE in the request's
    transaction, the file is checked in the store, and a file that fits in one chunk is read here. Nothing
    is sent before the transaction is committed (`_serve`)."""
    try:
        delivery = service.start_download(db, _download_request(request, token), now=request_clock(request, db).now())
    except (service.LinkNotFound, service.LinkGone, service.RangeNotSatisfiable) as error:
        return _refusal(request, error)
    headers = _delivery_headers(delivery)
    if delivery.not_modified:
        return Response(status_code=delivery.status_code, headers=headers, media_type=delivery.content_type)
    storage = open_storage(desk.settings)
    unavailable = _missing_from_store(storage, delivery)
    if unavailable is None and request.method == "GET" and delivery.length <= ONE_BODY_BYTES:
        body, unavailable = _read_whole(storage, delivery)
        if unavailable is None:
            return Response(body, status_code=delivery.status_code, headers=headers, media_type=delivery.content_type)
    if unavailable is not None:
        db.rollback()  # the download this request took is given back: nothing will be sent
        return _refusal(request, unavailable)
    if request.method == "HEAD":
        return Response(status_code=delivery.status_code, headers=headers, media_type=delivery.content_type)
    return StreamingResponse(service.file_bytes(storage, delivery), status_code=delivery.status_code,
                             headers=headers, media_type=delivery.content_type)


def _answer_and_commit(request: Request, token: str, db: Session, desk: Desk) -> Response:
    response = _answer_download(request, token, db, desk)
    db.commit()
    return response


# A file up to one chunk of the stream is sent as one body: streaming it would hold the same chunk in
# memory, and cost a trip to a worker thread per chunk plus a task watching for the client leaving.
ONE_BODY_BYTES = CHUNK_BYTES


def _read_whole(storage: FileStorage, delivery: service.Delivery) -> tuple[bytes, FileUnavailable | None]:
    """The delivery's bytes in one piece, or why the store could not give them (removed since it was checked)."""
    try:
        body = b"".join(service.file_bytes(storage, delivery))
    except (OSError, FileUnavailable) as error:
        log.error("installation file unreadable in the file store: %s (%s)", delivery.storage_key,
                  type(error).__name__)
        return b"", _unavailable(delivery)
    if len(body) != delivery.length:
        log.error("installation file shorter in the file store than recorded: %s", delivery.storage_key)
        return b"", _unavailable(delivery)
    return body, None


async def _serve(request: Request, token: str, db: Session, desk: Desk) -> Response:
    """The link's speed lies here, and only here: the whole transaction (read the link, take the
    download, log it, commit) and the read of a small file happen in one trip to a worker thread.

    Why: every redemption of a link updates the same row, so each holds that row's lock (on SQLite, the
    database's write lock) from its UPDATE to its commit, and the next one waits. As a plain `def` route
    whose session the dependency commits, that span covered two trips to a worker thread and two waits
    for the event loop, and a streamed body cost one more trip per chunk. Committing here ends the lock
    within the first trip; the dependency's own commit then finds nothing to do. The rules are
    `_answer_download`'s, unchanged: the count is committed before any byte is sent."""
    return await run_in_threadpool(_answer_and_commit, request, token, db, desk)


@router.get("/v1/downloads/{token}", response_class=StreamingResponse,
            responses={200: {"description": "The file."}, 206: {"description": "Part of the file (Range)."},
                       404: {"description": "No such link."}, 410: {"description": "Expired, used up or revoked."},
                       416: {"description": "The range lies past the end of the file."}})
async def download(request: Request, db: WriteDbSession, desk: DeskDep, token: str = Path()) -> Response:
    """Streams the file; no login (the link is sent to the customer). Rule R4: a link serves at most
    `download_link_max_downloads` downloads (50) for `download_link_days` days (14), whichever ends first,
    then answers 410.

    **One download** is one GET answered from byte 0: no `Range`, a range starting at 0, or an
    `If-Range` that no longer matches. Resuming from a later byte, HEAD and 304 answers do not count.
    Once used up, expired or revoked, a link refuses resumes too."""
    return await _serve(request, token, db, desk)


@router.head("/v1/downloads/{token}", include_in_schema=False)
async def download_headers(request: Request, db: DbSession, desk: DeskDep, token: str = Path()) -> Response:
    return await _serve(request, token, db, desk)


# --- the operator: files and key pools -------------------------------------------------------------

@router.get("/v1/software/files", response_model=Collection[SoftwareFileOut])
def list_files(product_id: str | None = Query(None, alias="productId"), sku_id: str | None = Query(None, alias="skuId"),
               ctx: RequestContext = allow(Role.operator)) -> Collection[SoftwareFileOut]:
    files = service.list_files(ctx.db, product_id=product_id, sku_id=sku_id)
    return Collection[SoftwareFileOut](total_count=len(files),
                                       items=[SoftwareFileOut.model_validate(row) for row in files])


def _request_chunks(request: Request) -> Iterator[bytes]:
    """The request body, chunk by chunk, for code running in a worker thread (the store writes there)."""
    stream: AsyncIterator[bytes] = request.stream()

    async def next_chunk() -> bytes | None:
        return await anext(stream, None)

    while (chunk := from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


@router.post("/v1/software/files", status_code=201, response_model=SoftwareFileOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_file(
    request: Request,
    product_id: str = Query(alias="productId", min_length=1, max_length=20),
    sku_id: str = Query(alias="skuId", min_length=1, max_length=20),
    version: str = Query(min_length=1, max_length=40),
    language: str = Query(min_length=1, max_length=20),
    file_type: str = Query(alias="fileType", min_length=1, max_length=60),
    file_name: str = Query(alias="fileName", min_length=1, max_length=255),
    ctx: StreamingContext = allow_streaming(Role.operator),
) -> SoftwareFileOut:
    """Stores an installation file sent as the raw body (streamed to the store, never held in memory)."""
    new = service.NewFile(product_id=product_id, sku_id=sku_id, version=version, language=language,
                          file_type=file_type, file_name=file_name,
                          content_type=request.headers.get("content-type") or "application/octet-stream")
    row = await run_in_threadpool(
        service.add_file, ctx.desk.database, open_storage(ctx.desk.settings), new, _request_chunks(request),
        actor=ctx.principal.email, principal=ctx.principal, now=ctx.now)
    return SoftwareFileOut.model_validate(row)


@router.get("/v1/software/keypools", response_model=Collection[KeyPoolOut])
def list_key_pools(product_id: str | None = Query(None, alias="productId"),
                   sku_id: str | None = Query(None, alias="skuId"),
                   ctx: RequestContext = allow(Role.operator)) -> Collection[KeyPoolOut]:
    pools = service.pool_counts(ctx.db, product_id=product_id, sku_id=sku_id)
    return Collection[KeyPoolOut](total_count=len(pools), items=[KeyPoolOut.model_validate(pool) for pool in pools])


@router.post("/v1/software/keypools/{productId}/{skuId}", status_code=201, response_model=KeyImportOut)
def import_keys(body: KeyImportIn, product_id: str = Path(alias="productId"), sku_id: str = Path(alias="skuId"),
                ctx: RequestContext = allow(Role.operator)) -> KeyImportOut:
    """Adds keys to a pool, all or nothing: a malformed or duplicate key refuses the request, naming it."""
    done = service.import_keys(ctx.db, ctx.desk.keyring, product_id=product_id, sku_id=sku_id,
                               version=body.version, lines=body.keys, principal=ctx.principal, now=ctx.now)
    return KeyImportOut.model_validate(done)
