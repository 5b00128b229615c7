"""Business errors: one class per kind, each with its HTTP status and a stable numeric code.

Routes never build error responses by hand; they raise these, and `install_error_handlers`
maps every one (and FastAPI's own validation errors) to `{"code", "description", "data", "source"}`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("partnerdesk.errors")

# A write that must outlive the rollback of the request that failed (an alert for the operator).
KeptWrite = Callable[["Session"], None]

# Partner Center's error bodies always say which service answered (`source`); so do ours.
ERROR_SOURCE = "PartnerDesk"


def error_body(code: int, description: str, data: list[Any] | None = None) -> dict[str, Any]:
    """An error in Partner Center's shape: `{"code", "description", "data", "source"}`."""
    return {"code": code, "description": description, "data": data or [], "source": ERROR_SOURCE}


class DeskError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[int] = 1000

    def __init__(self, description: str, data: list[Any] | None = None, *, kept: Sequence[KeptWrite] = ()) -> None:
        super().__init__(description)
        self.description = description
        self.data = data or []
        # Run in a transaction of their own once the request's own work is rolled back (`write_kept`).
        self.kept_writes = list(kept)

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.description, self.data)


class InvalidInput(DeskError):
    status_code = 400
    code = 1000


class MalformedJson(DeskError):
    status_code = 400
    code = 1001


class PayloadTooLarge(DeskError):
    status_code = 413
    code = 1002


class InvalidRequestId(DeskError):
    status_code = 400
    code = 1003


class AuthenticationRequired(DeskError):
    status_code = 401
    code = 1100


class Forbidden(DeskError):
    status_code = 403
    code = 1101


class NotFound(DeskError):
    status_code = 404
    code = 1200


class MethodNotAllowed(DeskError):
    status_code = 405
    code = 1201


class Conflict(DeskError):
    status_code = 409
    code = 1300


class IdempotencyKeyReused(DeskError):
    status_code = 409
    code = 1301


class SandboxDisabled(DeskError):
    status_code = 404
    code = 1400


# Customers: 15xx
class DomainTaken(DeskError):
    status_code = 409
    code = 1500


class InvalidDomain(DeskError):
    status_code = 400
    code = 1501


class UnknownCountry(DeskError):
    status_code = 400
    code = 1502


# The database itself: 16xx
class DatabaseUnavailable(DeskError):
    """The database could not be reached or gave up on the transaction (lost connection, lock timeout, deadlock)."""

    status_code = 503
    code = 1600
    retry_after_seconds = 1
    DESCRIPTION = (
        "The database is unavailable for the moment, so the request may not have been saved. Retry it in a "
        "moment; a purchase retried with the same MS-RequestId answers what happened the first time."
    )


# SQLite reports a mistake in a statement (no such table, a syntax error) as an OperationalError too:
# only these say the database is unavailable for now rather than that the code is wrong.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "disk i/o error",
                       "unable to open database file", "database or disk is full")


def database_unavailable(error: OperationalError) -> bool:
    """Whether the database went away or gave up (retry later), not a defect of the statement."""
    if isinstance(error.orig, sqlite3.Error):
        message = str(error.orig).lower()
        return any(sign in message for sign in _SQLITE_UNAVAILABLE)
    return True  # psycopg: lost connections, shutdowns, deadlocks, lock and statement timeouts


def _validation_description(errors: list[dict[str, Any]]) -> tuple[str, list[str]]:
    sentences: list[str] = []
    fields: list[str] = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
        field = ".".join(location) or "request"
        fields.append(field)
        message = error.get("msg", "is invalid")
        sentences.append(f"{field}: {message}")
    return "Invalid request. " + "; ".join(sentences) + ".", fields


def write_kept(session: Session, error: BaseException) -> None:
    """After `session` was rolled back because of `error`: the writes the error asks to keep, committed."""
    kept = error.kept_writes if isinstance(error, DeskError) else []
    if not kept:
        return
    try:
        for write in kept:
            write(session)
        session.commit()
    except Exception as failure:  # the caller still gets its own clear error; the lost record is logged
        session.rollback()
        log.warning("a record kept after a refusal could not be written: %s", type(failure).__name__)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DeskError)
    async def _desk_error(_request: Request, exc: DeskError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(error.get("type") == "json_invalid" for error in errors):
            error = MalformedJson("The request body is not valid JSON.")
        else:
            description, fields = _validation_description(errors)
            error = InvalidInput(description, fields)
        return JSONResponse(error.body(), status_code=error.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: NotFound.code, 405: MethodNotAllowed.code, 401: AuthenticationRequired.code,
                 403: Forbidden.code}
        description = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404 and description == "Not Found":
            description = "No such resource."
        if exc.status_code == 405 and request.url.path.startswith("/v1/"):
            # The router's own Allow names the methods of the first route it met on the path; the document
            # knows them all (and which concrete path wins over a template).
            from partnerdesk.core.openapi import documented_methods  # core.openapi is built on these errors' shape

            allowed = ", ".join(sorted(documented_methods(request.app, request.url.path)[0]))
            headers["Allow"] = allowed
            description = f"{request.method} is not a method of {request.url.path}; it answers {allowed}."
        body = error_body(codes.get(exc.status_code, 1000), description)
        return JSONResponse(body, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(OperationalError)
    async def _database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        # Not a defect of ours: the database went away or refused. The caller may retry; the type goes
        # to the log, never the statement or its parameters.
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        error = DatabaseUnavailable(DatabaseUnavailable.DESCRIPTION)
        return JSONResponse(error.body(), status_code=error.status_code,
                            headers={"Retry-After": str(DatabaseUnavailable.retry_after_seconds)})

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # A 5xx is always a defect: log the type and place, never request bodies (they may hold secrets).
        log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
        body = error_body(9000, "Internal error; it has been logged.")
        return JSONResponse(body, status_code=500)
