"""The OpenAPI document as integrators need it: our error shape, 400 instead of FastAPI's 422."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


WRITE_METHODS = ("post", "put", "patch", "delete")


def _document_error_statuses(path: str, method: str, operation: dict[str, Any], *, secured: bool) -> None:
    """The refusals any /v1 operation may answer, from what the code under every route can raise, so that
    each status a client can get is in the document (a route's own `responses=` keeps its wording):

    - 404 (`NotFound` and kin) wherever the path or a query parameter (`customerId`) names a resource:
      unknown, or not the caller's;
    - 409 (`Conflict`, `IdempotencyKeyReused`) on writes: the state forbids it, or an MS-RequestId reused;
    - 413 (`BodySizeLimitMiddleware`) wherever a body is read;
    - 429 (`accounts.auth`'s request rates) wherever a token is read;
    - 503 (`DatabaseUnavailable`, `core.errors`) everywhere: the database went away, retry later.
    """
    if not path.startswith("/v1/"):
        return
    responses = operation["responses"]
    names_a_resource = "{" in path or any(parameter.get("in") == "query" and parameter["name"].endswith("Id")
                                          for parameter in operation.get("parameters", []))
    if names_a_resource:
        responses.setdefault("404", _error_response("No such resource, or not one the caller may see."))
    if method in WRITE_METHODS:
        responses.setdefault("409", _error_response(
            "The resource's state forbids this now, or the MS-RequestId was used for another request."))
    if "requestBody" in operation:
        responses.setdefault("413", _error_response("The request body is larger than the server accepts."))
    if secured:
        responses.setdefault("429", {**_error_response("Too many requests for now; retry after Retry-After seconds."),
                                     "headers": {"Retry-After": RETRY_AFTER_HEADER}})
    responses.setdefault("503", {**_error_response("The database is unavailable for the moment; retry later."),
                                 "headers": {"Retry-After": RETRY_AFTER_HEADER}})


RETRY_AFTER_HEADER = {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}
_PARAMETER = re.compile(r"\{([^}]+)\}")


def _merge_identical_templates(paths: dict[str, dict[str, Any]]) -> None:
    """Paths that differ only in their parameters' names are one path to OpenAPI (and to the router:
    `POST /v1/servicerequests/{agentLocale}` and `GET /v1/servicerequests/{requestId}` share every URL).
    They become one path item, named as the one with the most operations; an operation moved there keeps
    its parameter's meaning in the description, under the path's parameter name."""
    by_shape: dict[str, list[str]] = {}
    for path in paths:
        by_shape.setdefault(_PARAMETER.sub("{}", path), []).append(path)
    for same in by_shape.values():
        if len(same) < 2:
            continue
        kept, *moved = sorted(same, key=lambda path: -len(paths[path]))
        for path in moved:
            renamed = dict(zip(_PARAMETER.findall(path), _PARAMETER.findall(kept), strict=True))
            for method, operation in paths.pop(path).items():
                for parameter in operation.get("parameters", []):
                    name = parameter["name"]
                    if parameter.get("in") == "path" and renamed.get(name, name) != name:
                        parameter["name"] = renamed[name]
                        parameter["description"] = (f"For {method.upper()}: the {name}. "
                                                     + parameter.get("description", "")).strip()
                paths[kept][method] = operation


@dataclass(frozen=True)
class DocumentedPath:
    pattern: re.Pattern[str]
    segments: tuple[str | None, ...]  # None for each {parameter}
    methods: frozenset[str]

    def narrower_than(self, other: DocumentedPath) -> bool:
        """Whether this path spells out a segment `other` leaves open, and matches nothing `other` does not."""
        return len(self.segments) == len(other.segments) and self.segments != other.segments and all(
            mine == theirs or theirs is None for mine, theirs in zip(self.segments, other.segments, strict=True))


def documented_paths(document: dict[str, Any]) -> list[DocumentedPath]:
    table = []
    for path, item in document.get("paths", {}).items():
        segments = tuple(None if _PARAMETER.fullmatch(part) else part for part in path.strip("/").split("/"))
        pattern = re.compile("/" + "/".join("[^/]+" if part is None else re.escape(part) for part in segments) + "$")
        table.append(DocumentedPath(pattern, segments, frozenset(method.upper() for method in item)))
    return table


def documented_methods(app: FastAPI, path: str) -> tuple[frozenset[str], bool]:
    """The methods the document gives `path`, and whether a concrete path of the document won over a
    template that matches too (`/v1/webhooks/eventtypes` over `/v1/webhooks/{webhookId}`), as OpenAPI
    reads paths."""
    table = getattr(app.state, "documented_paths", None)
    if table is None:
        table = app.state.documented_paths = documented_paths(app.openapi())
    matching = [entry for entry in table if entry.pattern.match(path)]
    kept = [entry for entry in matching if not any(other.narrower_than(entry) for other in matching)]
    return frozenset().union(*(entry.methods for entry in kept)), len(kept) < len(matching)


# Pydantic writes the bounds of an annotated type that has a validator before them (`core.wire_types`'s
# StrictInteger with `Field(ge=1)`) under their Python names; JSON Schema only knows its own.
_BOUND_NAMES = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_schema_bounds(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for python_name, schema_name in _BOUND_NAMES.items():
                if python_name in node:
                    node[schema_name] = node.pop(python_name)
        for value in node.values():
            _json_schema_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _json_schema_bounds(value)


# No text the API reads may hold a NUL character (`core.middleware.NulCharacterMiddleware` for the URL,
# `core.schemas.CamelModel` for bodies: PostgreSQL cannot store one): every free-text string says so.
NO_NUL_PATTERN = "^[^\\x00]*$"
_SHAPED_STRING = ("enum", "const", "format", "pattern", "contentMediaType")


def _strings_without_nul(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and not any(key in node for key in _SHAPED_STRING):
            node["pattern"] = NO_NUL_PATTERN
        if node.get("type") == "string" and node.get("contentMediaType") == "application/octet-stream":
            node.setdefault("format", "binary")  # a file part of a multipart body, as OpenAPI 3.0 tools read it
        for value in node.values():
            _strings_without_nul(value)
    elif isinstance(node, list):
        for value in node:
            _strings_without_nul(value)


# OpenAPI links: what a created resource's answer feeds into (a client's next calls; schemathesis follows
# them in its stateful phase). (method, path, status) of the answer -> (name, method, path, parameters).
CUSTOMER = {"customerId": "$request.path.customerId"}
LINKS: dict[tuple[str, str, str], list[tuple[str, str, str, dict[str, str]]]] = {
    ("post", "/v1/customers", "201"): [
        ("GetCustomer", "get", "/v1/customers/{customerId}", {"customerId": "$response.body#/id"}),
        ("CreateCart", "post", "/v1/customers/{customerId}/carts", {"customerId": "$response.body#/id"}),
        ("ListOrders", "get", "/v1/customers/{customerId}/orders", {"customerId": "$response.body#/id"}),
        ("ListSubscriptions", "get", "/v1/customers/{customerId}/subscriptions", {"customerId": "$response.body#/id"}),
        ("CreateAzurePlan", "post", "/v1/customers/{customerId}/subscriptions/azureplan",
         {"customerId": "$response.body#/id"}),
        ("ListServiceRequests", "get", "/v1/customers/{customerId}/servicerequests",
         {"customerId": "$response.body#/id"}),
    ],
    ("post", "/v1/customers/{customerId}/carts", "201"): [
        ("GetCart", "get", "/v1/customers/{customerId}/carts/{cartId}", {**CUSTOMER, "cartId": "$response.body#/id"}),
        ("UpdateCart", "put", "/v1/customers/{customerId}/carts/{cartId}",
         {**CUSTOMER, "cartId": "$response.body#/id"}),
        ("Checkout", "post", "/v1/customers/{customerId}/carts/{cartId}/checkout",
         {**CUSTOMER, "cartId": "$response.body#/id"}),
    ],
    ("post", "/v1/customers/{customerId}/carts/{cartId}/checkout", "201"): [
        ("GetOrder", "get", "/v1/customers/{customerId}/orders/{orderId}",
         {**CUSTOMER, "orderId": "$response.body#/orders/0/id"}),
        ("CancelOrder", "patch", "/v1/customers/{customerId}/orders/{orderId}",
         {**CUSTOMER, "orderId": "$response.body#/orders/0/id"}),
        ("GetSubscription", "get", "/v1/customers/{customerId}/subscriptions/{subscriptionId}",
         {**CUSTOMER, "subscriptionId": "$response.body#/orders/0/lineItems/0/subscriptionId"}),
        ("UpdateSubscription", "patch", "/v1/customers/{customerId}/subscriptions/{subscriptionId}",
         {**CUSTOMER, "subscriptionId": "$response.body#/orders/0/lineItems/0/subscriptionId"}),
    ],
    ("post", "/v1/customers/{customerId}/subscriptions/azureplan", "201"): [
        ("GetSubscription", "get", "/v1/customers/{customerId}/subscriptions/{subscriptionId}",
         {**CUSTOMER, "subscriptionId": "$response.body#/id"}),
        ("UpdateSubscription", "patch", "/v1/customers/{customerId}/subscriptions/{subscriptionId}",
         {**CUSTOMER, "subscriptionId": "$response.body#/id"}),
        ("Register", "post", "/v1/customers/{customerId}/subscriptions/{subscriptionId}/registrations",
         {**CUSTOMER, "subscriptionId": "$response.body#/id"}),
    ],
    # Filing a service request (POST /v1/servicerequests/{agentLocale}, one path item with its GET).
    ("post", "/v1/servicerequests/{requestId}", "201"): [
        ("GetServiceRequest", "get", "/v1/servicerequests/{requestId}", {"requestId": "$response.body#/id"}),
        ("UpdateServiceRequest", "patch", "/v1/servicerequests/{requestId}", {"requestId": "$response.body#/id"}),
        ("ListAttachments", "get", "/v1/servicerequests/{requestId}/attachments", {"requestId": "$response.body#/id"}),
    ],
}


def _add_links(paths: dict[str, dict[str, Any]]) -> None:
    for (method, path, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        for name, target_method, target_path, parameters in links:
            target = paths.get(target_path, {}).get(target_method)
            if target is not None:
                response.setdefault("links", {})[name] = {"operationId": target["operationId"],
                                                          "parameters": parameters}


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
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["400"] = _error_response("Invalid input; the description names the field.")
                if "requestBody" in operation:
                    _describe_lenient_body(operation)
                secured = not path.startswith("/v1/downloads")
                if secured:
                    operation["security"] = [{"bearer": []}]
                    responses["401"] = _error_response("No valid API token.")
                    responses["403"] = _error_response("The caller's role may not do this.")
                _document_error_statuses(path, method, operation, secured=secured)
        _merge_identical_templates(document.get("paths", {}))
        _json_schema_bounds(document)
        _add_links(document.get("paths", {}))
        _strings_without_nul(document["components"]["schemas"])
        for item in document.get("paths", {}).values():
            for operation in item.values():
                _strings_without_nul(operation.get("parameters", []))
        app.openapi_schema = document
        return document

    app.openapi = openapi
