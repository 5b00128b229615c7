"""The OpenAPI document as integrators need it: our error shape, 400 instead of FastAPI's 422."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["code", "description", "data", "source"],
    "properties": {
        "code": {"type": "integer", "description": "Stable numeric error code."},
        "description": {"type": "string", "description": "What went wrong, in a sentence."},
        "data": {"type": "array", "items": {}, "description": "The fields or values concerned."},
        "source": {"type": "string", "description": "Which service answered: always PartnerDesk."},
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


IGNORED_FIELDS_HEADER_SCHEMA = {
    "description": "Field names of the request body that no request model knows, comma-separated: they "
    "were ignored (field names match in any letter case; fields the server writes itself, such as id, "
    "links and attributes, are dropped without being listed).",
    "schema": {"type": "string"},
}


def _describe_lenient_body(operation: dict[str, Any]) -> None:
    """Request bodies are read as Partner Center reads them (`core.schemas.CamelModel`): say so."""
    operation["description"] = (operation.get("description") or "") + (
        "\n\nField names of the body match in any letter case; unknown fields are ignored and listed in "
        "the Partner-Desk-Ignored-Fields response header.")
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            response.setdefault("headers", {})["Partner-Desk-Ignored-Fields"] = IGNORED_FIELDS_HEADER_SCHEMA


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
                if "requestBody" in operation:
                    _describe_lenient_body(operation)
                if path.startswith("/v1/downloads"):
                    continue
                operation["security"] = [{"bearer": []}]
                responses["401"] = _error_response("No valid API token.")
                responses["403"] = _error_response("The caller's role may not do this.")
        app.openapi_schema = document
        return document

    app.openapi = openapi
