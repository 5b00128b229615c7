"""The OpenAPI document as integrators need it: our error shape, 400 instead of FastAPI's 422."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["code", "description", "data"],
    "properties": {
        "code": {"type": "integer", "description": "Stable numeric error code."},
        "description": {"type": "string", "description": "What went wrong, in a sentence."},
        "data": {"type": "array", "items": {}, "description": "The fields or values concerned."},
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for schemas in ("HTTPValidationError", "ValidationError"):
            document["components"]["schemas"].pop(schemas, None)
        document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        for path, item in document.get("paths", {}).items():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["400"] = _error_response("Invalid input; the description names the field.")
                if path.startswith("/v1/downloads"):
                    continue
                operation["security"] = [{"bearer": []}]
                responses["401"] = _error_response("No valid API token.")
                responses["403"] = _error_response("The caller's role may not do this.")
        app.openapi_schema = document
        return document

    app.openapi = openapi
