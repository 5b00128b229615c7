"""The ASGI app factory: `partnerdesk.app:create_app` (uvicorn --factory)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from partnerdesk import __version__
from partnerdesk.config import Settings
from partnerdesk.core.clock import Clock
from partnerdesk.core.desk import Desk
from partnerdesk.core.errors import install_error_handlers
from partnerdesk.core.logging import redact_server_logs
from partnerdesk.core.middleware import (
    BodySizeLimitMiddleware,
    ConcretePathsMiddleware,
    NulCharacterMiddleware,
    RequestIdMiddleware,
)
from partnerdesk.core.openapi import install_openapi
from partnerdesk.core.schemas import IgnoredFieldsMiddleware, QueryNamesMiddleware, TrailingCommasMiddleware
from partnerdesk.core.throttling import install_throttling, new_throttle
from partnerdesk.ops.api import install_operations
from partnerdesk.ops.backup import serving
from partnerdesk.sandbox import service as sandbox_service

# The operator's streamed upload of installation files (`software.api`): its own, larger, body limit.
UPLOAD_PATH = "/v1/software/files"
# Files attached to a service request (`support.api`, and the portal's forms), several in one multipart body.
ATTACHMENTS_PATH = r"/v1/servicerequests/[^/]+/attachments|/support/new|/support/[^/]+/attachments"

log = logging.getLogger("partnerdesk")


def _include_routers(app: FastAPI, settings: Settings) -> None:
    from partnerdesk.audit.api import router as audit_router
    from partnerdesk.customers.api import router as customers_router
    from partnerdesk.web import install_portal

    # FastAPI tries routes in the order they were added, at a cost per route tried: the domains'
    # routers come first, in the order `domains.API_MODULES` gives (the purchase path first).
    routers = [*_optional_domain_routers(), customers_router, audit_router]
    if settings.sandbox:
        from partnerdesk.sandbox.api import router as sandbox_router

        routers.append(sandbox_router)
    for router in routers:
        app.include_router(router)
    # Kept so the role matrix can be read back from the routes' declarations.
    app.state.api_routers = routers
    install_portal(app)


def _optional_domain_routers() -> list:
    """Routers of the domains beyond the foundation, each registered in `partnerdesk.domains`."""
    from partnerdesk.domains import api_routers

    return api_routers()


def _lifespan(desk: Desk):
    """Runs the job worker in a background thread while the app serves, when the settings ask for it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with serving(desk.settings):  # `partnerdesk restore` refuses to run under a serving process
            if not desk.settings.run_worker:
                yield
                return
            from partnerdesk.jobs.worker import background_worker

            with background_worker(desk, poll_seconds=desk.settings.worker_poll_seconds):
                yield

    return lifespan


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, desk: Desk | None = None) -> FastAPI:
    settings = settings or (desk.settings if desk else Settings())
    desk = desk or Desk.from_settings(settings, clock=clock)
    app = FastAPI(
        title="Partner Desk",
        version=__version__,
        description="Partner Center-compatible REST API for selling software and reserved capacity through resellers.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=_lifespan(desk),
    )
    app.state.desk = desk
    redact_server_logs()
    app.state.clock_source = sandbox_service.clock_source(desk.clock, sandbox=settings.sandbox)
    install_error_handlers(app)
    install_throttling(app, new_throttle(desk.database, desk.clock, settings.throttle_storage))
    _include_routers(app, settings)
    install_openapi(app)
    install_operations(app)  # /healthz, /readyz, /metrics; its middleware must be the innermost
    app.add_middleware(ConcretePathsMiddleware)
    app.add_middleware(IgnoredFieldsMiddleware)
    app.add_middleware(QueryNamesMiddleware)
    app.add_middleware(TrailingCommasMiddleware)
    app.add_middleware(NulCharacterMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes,
                       larger={UPLOAD_PATH: settings.max_upload_bytes,
                               ATTACHMENTS_PATH: settings.max_attachment_body_bytes})
    return app


# A served process makes many short-lived objects per request. With CPython's default thresholds
# (700, 10, 10) the collector ran every few requests, and its passes over the long-lived objects
# (routes, compiled statements, caches) held the event loop: on the checkout bench, 20,000 took
# p99 from about 100 ms to 30 ms and throughput up 5-20%, on SQLite and PostgreSQL alike.
SERVED_GC_THRESHOLDS = (20_000, 20, 20)


def tune_garbage_collector() -> None:
    """For a long-running server process: what exists at startup is never scanned again, and young
    objects are collected in larger, rarer batches. Cyclic garbage is still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVED_GC_THRESHOLDS)


def serve_app() -> FastAPI:
    """The app as `partnerdesk serve` (and the benchmarks) run it: one per server process."""
    app = create_app()
    tune_garbage_collector()
    return app
