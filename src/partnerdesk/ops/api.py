"""`GET /healthz`, `GET /readyz` and `GET /metrics`, and the middleware that feeds the metrics and logs.

The probes are public (a load balancer has no token) and say nothing an outsider could use: no
revision, no address, no error text. `/metrics` is the operator's (its bearer token) unless the
operator makes it public with `PARTNERDESK_METRICS_PUBLIC=1` (a scraper inside a private network).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from partnerdesk.accounts.auth import RoleGuard
from partnerdesk.accounts.models import Role
from partnerdesk.core.deps import DbSession, DeskDep
from partnerdesk.ops import health, metrics
from partnerdesk.ops.docs import DOCS_PATHS, DocsSecurityHeadersMiddleware
from partnerdesk.ops.logs import use_json_logs
from partnerdesk.ops.middleware import OperationsMiddleware

router = APIRouter(tags=["operations"])
OPERATOR_ONLY = RoleGuard(Role.operator)
PUBLIC_PROBES = ("/healthz", "/readyz")


class Liveness(BaseModel):
    status: str


def _readiness_schema() -> dict[str, Any]:
    return {"description": "Not ready: the database is unreachable or its schema is not at the code's head.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}}


@router.get("/healthz", response_model=Liveness, summary="Liveness: the process answers (no database call)")
async def healthz() -> Liveness:
    return Liveness(status="ok")


@router.get("/readyz", summary="Readiness: the database answers and its schema is at head",
            responses={200: {"description": "Ready to serve.",
                             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}},
                       503: _readiness_schema()},
            response_class=JSONResponse)
def readyz(desk: DeskDep) -> JSONResponse:
    state = health.readiness(desk)
    body = {"status": "ready" if state.ready else "unavailable", "database": state.database, "schema": state.schema}
    return JSONResponse(body, status_code=200 if state.ready else 503, headers={"Cache-Control": "no-store"})


@router.get("/metrics", response_class=Response, summary="Prometheus metrics (the operator's token)",
            responses={200: {"description": "Prometheus text format 0.0.4.",
                             "content": {"text/plain": {"schema": {"type": "string"}}}}})
def prometheus_metrics(request: Request, desk: DeskDep, db: DbSession) -> Response:
    if not desk.settings.metrics_public:
        OPERATOR_ONLY(request, db, desk)  # 401 without a valid token, 403 for another role
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def install_operations(app: FastAPI) -> None:
    """Adds the probes and `/metrics`, the metrics and access-log middleware (innermost: call it before
    any other `add_middleware`), and JSON logs when `PARTNERDESK_LOG_FORMAT=json`."""
    settings = app.state.desk.settings
    app.include_router(router)
    json_logs = settings.log_format == "json"
    if json_logs:
        use_json_logs()
    app.add_middleware(OperationsMiddleware, access_log=json_logs)
    app.add_middleware(DocsSecurityHeadersMiddleware, paths=DOCS_PATHS)
    _document(app)


def _document(app: FastAPI) -> None:
    """The probes are public in the OpenAPI document; /metrics is public when the operator made it so."""
    build = app.openapi
    public = PUBLIC_PROBES + (("/metrics",) if app.state.desk.settings.metrics_public else ())

    def openapi() -> dict[str, Any]:
        document = build()
        document["components"]["schemas"]["Readiness"] = {
            "type": "object", "required": ["status", "database", "schema"],
            "properties": {"status": {"type": "string", "enum": ["ready", "unavailable"]},
                           "database": {"type": "string", "enum": ["ok", "unreachable"]},
                           "schema": {"type": "string", "enum": ["at head", "behind head", "unknown"]}}}
        for path in public:
            for operation in document["paths"].get(path, {}).values():
                operation.pop("security", None)
                for status in ("400", "401", "403"):
                    operation["responses"].pop(status, None)
        for operation in document["paths"].get("/healthz", {}).values():
            operation["responses"].pop("400", None)
        return document

    app.openapi = openapi
