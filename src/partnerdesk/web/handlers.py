"""Errors on portal pages are shown as pages in the reader's language; the API keeps its JSON errors.

The app's JSON handlers (`core.errors.install_error_handlers`) stay in place: each one is
wrapped so that an error on a portal route, or a browser asking for a page that does not
exist, gets an HTML page, and everything else still goes to the JSON handler.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from partnerdesk.core.errors import DatabaseUnavailable, DeskError, database_unavailable
from partnerdesk.web.errors import PageError, PageForbidden, PageNotFound, SignInRequired
from partnerdesk.web.i18n import DEFAULT_LANGUAGE, N_
from partnerdesk.web.pages import PortalRoute, load_viewer, sign_in_url
from partnerdesk.web.rendering import PAGE_HEADERS, current_viewer, gettext_for, redirect, render, request_language
from partnerdesk.web.session import signed_in_agent_id

log = logging.getLogger("partnerdesk.web")

SERVER_ERROR_TITLE = N_("Something went wrong")
SERVER_ERROR_MESSAGE = N_("The error has been logged. Try again in a moment.")
UNAVAILABLE_TITLE = N_("The desk is briefly unavailable")
UNAVAILABLE_MESSAGE = N_("The database could not be reached, so what you did may not have been saved. "
                         "Check in a moment, then try again.")
METHOD_NOT_ALLOWED_TITLE = N_("This page cannot be used this way")


def is_page_request(request: Request) -> bool:
    """A request to a portal route, or a browser's request for an address no route serves."""
    route = request.scope.get("route")
    if isinstance(route, PortalRoute):
        return True
    if isinstance(route, APIRoute):
        return False
    path = request.url.path
    if path == "/v1" or path.startswith("/v1/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, *, status_code: int, title: str, message: str, detail: str | None = None,
               headers: dict[str, str] | None = None) -> Response:
    try:
        response = render(request, "error.html",
                          {"status_code": status_code, "title": title, "message": message, "detail": detail},
                          status_code=status_code)
    except Exception as error:  # the error page must not fail in turn; keep it plain
        log.error("could not render the error page: %s", type(error).__name__, exc_info=error)
        gettext = gettext_for(request)
        html = f"<!doctype html><title>{escape(gettext(title))}</title><h1>{escape(gettext(title))}</h1>"
        response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    response.headers.update(headers or {})
    return response


def _page_error(request: Request, error: PageError) -> Response:
    return error_page(request, status_code=error.status_code, title=error.title, message=error.message,
                      detail=None if isinstance(error, PageForbidden | PageNotFound) else error.detail)


def _desk_error_page(request: Request, error: DeskError) -> Response:
    if error.status_code == 404:
        return _page_error(request, PageNotFound())
    if error.status_code == 403:
        return _page_error(request, PageForbidden())
    return error_page(request, status_code=error.status_code, title=PageError.title, message=PageError.message,
                      detail=_desk_error_detail(request, error))


ERROR_CODE = N_("Error code %(code)s.")


def _desk_error_detail(request: Request, error: DeskError) -> str:
    """The service's own sentence is English: shown as it is to an English reader; any other reader gets the
    error's stable number in their language, which support can look up (issue 17 item 4)."""
    if request_language(request) == DEFAULT_LANGUAGE:
        return error.description
    return gettext_for(request)(ERROR_CODE) % {"code": error.code}


def _validation_error_page(request: Request, _error: RequestValidationError) -> Response:
    return _page_error(request, PageError())


def _http_error_page(request: Request, error: StarletteHTTPException) -> Response:
    headers = dict(error.headers or {})
    if error.status_code == 404:
        response = _page_error(request, PageNotFound())
    elif error.status_code == 403:
        response = _page_error(request, PageForbidden())
    elif error.status_code == 405:
        response = error_page(request, status_code=405, title=METHOD_NOT_ALLOWED_TITLE, message=PageError.message)
    else:
        response = error_page(request, status_code=error.status_code, title=PageError.title,
                              message=PageError.message)
    response.headers.update(headers)
    return response


def _server_error_page(request: Request, error: Exception) -> Response:
    # Like the API's handler: the type and the traceback, never the request's body or form.
    log.error("unexpected error on a portal page: %s", type(error).__name__, exc_info=error)
    return error_page(request, status_code=500, title=SERVER_ERROR_TITLE, message=SERVER_ERROR_MESSAGE)


def _unavailable_page(request: Request, error: OperationalError) -> Response:
    if not database_unavailable(error):
        return _server_error_page(request, error)
    log.warning("database unavailable on a portal page: %s", type(error.orig).__name__)
    return error_page(request, status_code=DatabaseUnavailable.status_code, title=UNAVAILABLE_TITLE,
                      message=UNAVAILABLE_MESSAGE,
                      headers={"Retry-After": str(DatabaseUnavailable.retry_after_seconds)})


def _read_viewer(request: Request) -> None:
    """Reads the signed-in agent for an error page whose route never did (an address no route serves),
    so the page keeps the agent's header, menu and language instead of looking signed out."""
    try:
        with request.app.state.desk.database.session(write=False) as db:
            load_viewer(request, db)
    except Exception as error:  # the error page is shown anyway, with the signed-out header
        log.warning("could not read the agent for an error page: %s", type(error).__name__)


async def _with_viewer(request: Request, error: Exception) -> None:
    if isinstance(error, OperationalError) or current_viewer(request) is not None:
        return
    if "session" in request.scope and signed_in_agent_id(request) is not None:
        await run_in_threadpool(_read_viewer, request)


def _pages_first(to_page: Callable[[Request, Exception], Response], previous: Callable | None):
    async def handler(request: Request, error: Exception) -> Response:
        if is_page_request(request):
            await _with_viewer(request, error)
            return to_page(request, error)
        if previous is None:
            raise error
        answer = previous(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    return handler


def install_page_error_handlers(app: FastAPI) -> None:
    async def sign_in_first(request: Request, error: SignInRequired) -> Response:
        return redirect(sign_in_url(error.next_path))

    async def page_error(request: Request, error: PageError) -> Response:
        await _with_viewer(request, error)
        return _page_error(request, error)

    app.add_exception_handler(SignInRequired, sign_in_first)
    app.add_exception_handler(PageError, page_error)
    wrapped = (
        (DeskError, _desk_error_page),
        (RequestValidationError, _validation_error_page),
        (StarletteHTTPException, _http_error_page),
        (OperationalError, _unavailable_page),
        (Exception, _server_error_page),
    )
    for error_class, to_page in wrapped:
        app.add_exception_handler(error_class, _pages_first(to_page, app.exception_handlers.get(error_class)))
