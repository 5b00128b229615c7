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


# OpenAPI links: what an answer feeds into (a client's next calls; schemathesis follows them in its stateful
# phase, tests/test_api_stateful.py). A purchase's whole life is linked: customer -> cart -> checkout -> order,
# subscription, software -> keys and downloads -> the download link; the order -> its cancellation, or a refund
# request filed on it -> the operator's decision; a webhook endpoint -> its reads, changes, tests and deletion.


@dataclass(frozen=True)
class FollowUp:
    """One link of an answer: the operation it leads to, and the runtime expressions (OpenAPI 3.0, "Link
    Object") that give that operation its parameters and, for some, the fields of its body."""

    name: str
    method: str
    path: str
    parameters: dict[str, str]
    body: dict[str, Any] | None = None


CUSTOMER = {"customerId": "$request.path.customerId"}
NEW_CUSTOMER = {"customerId": "$response.body#/id"}
PLACED_ORDER = {**CUSTOMER, "orderId": "$response.body#/orders/0/id"}
PLACED_SUBSCRIPTION = {**CUSTOMER, "subscriptionId": "$response.body#/orders/0/lineItems/0/subscriptionId"}
SOFTWARE = "/v1/customers/{customerId}/software"
KEYS_AND_DOWNLOADS = "/v1/customers/{customerId}/software/{softwareId}/keysanddownloads"
ORDER = "/v1/customers/{customerId}/orders/{orderId}"
SUBSCRIPTION = "/v1/customers/{customerId}/subscriptions/{subscriptionId}"
SERVICE_REQUEST = "/v1/servicerequests/{requestId}"
WEBHOOK = "/v1/webhooks/{webhookId}"
# The first purchase of a software list, with the first version, language and file type it offers.
FIRST_SOFTWARE = {**CUSTOMER, "softwareId": "$response.body#/items/0/id"}
FIRST_CHOICE = {"version": "$response.body#/items/0/versions/0", "language": "$response.body#/items/0/languages/0",
                "fileType": "$response.body#/items/0/fileTypes/0"}
# A download link's token is the last segment of its URI (schemathesis' regex extractor; any client can do the same).
DOWNLOAD_TOKEN = "$response.body#/downloads/0/uri#regex:/v1/downloads/([^/?]+)$"
# A refund request (rule R6) for the whole of a placed order.
# Filing is POST /v1/servicerequests/{agentLocale}: the language the agent reads the answers in.
AGENT_LOCALE = "en-US"
REFUND_OF_PLACED_ORDER = {
    "supportTopicId": 1001,
    "customerId": "$request.path.customerId",
    "refundRequest": {"customerTenantId": "$request.path.customerId", "orderId": "$response.body#/orders/0/id",
                      "reason": "purchased_by_mistake", "amount": "$response.body#/orders/0/totalPrice",
                      "currency": "$response.body#/orders/0/currencyCode"},
}
ORDER_FOLLOW_UPS = [
    FollowUp("GetOrder", "get", ORDER, {**CUSTOMER, "orderId": "$response.body#/id"}),
    FollowUp("GetSubscription", "get", SUBSCRIPTION,
             {**CUSTOMER, "subscriptionId": "$response.body#/lineItems/0/subscriptionId"}),
    FollowUp("ListSoftware", "get", SOFTWARE, CUSTOMER),
    FollowUp("ListEntitlements", "get", "/v1/customers/{customerId}/entitlements", CUSTOMER),
]
WEBHOOK_FOLLOW_UPS = [
    FollowUp("GetWebhook", "get", WEBHOOK, {"webhookId": "$response.body#/id"}),
    FollowUp("UpdateWebhook", "patch", WEBHOOK, {"webhookId": "$response.body#/id"}),
    FollowUp("DeleteWebhook", "delete", WEBHOOK, {"webhookId": "$response.body#/id"}),
    FollowUp("RotateWebhookSecret", "post", WEBHOOK + "/rotate-secret", {"webhookId": "$response.body#/id"}),
    FollowUp("SendTestEvent", "post", WEBHOOK + "/test", {"webhookId": "$response.body#/id"}),
    FollowUp("ListDeliveries", "get", WEBHOOK + "/deliveries", {"webhookId": "$response.body#/id"}),
]
SERVICE_REQUEST_FOLLOW_UPS = [
    FollowUp("GetServiceRequest", "get", SERVICE_REQUEST, {"requestId": "$response.body#/id"}),
    FollowUp("ApproveRefund", "post", SERVICE_REQUEST + "/refundrequest/approve", {"requestId": "$response.body#/id"}),
    FollowUp("RejectRefund", "post", SERVICE_REQUEST + "/refundrequest/reject", {"requestId": "$response.body#/id"}),
    FollowUp("UpdateServiceRequest", "patch", SERVICE_REQUEST, {"requestId": "$response.body#/id"}),
    FollowUp("ListAttachments", "get", SERVICE_REQUEST + "/attachments", {"requestId": "$response.body#/id"}),
]
# (method, path, status) of the answer -> its links.
LINKS: dict[tuple[str, str, str], list[FollowUp]] = {
    ("post", "/v1/customers", "201"): [
        FollowUp("GetCustomer", "get", "/v1/customers/{customerId}", NEW_CUSTOMER),
        FollowUp("CreateCart", "post", "/v1/customers/{customerId}/carts", NEW_CUSTOMER),
        FollowUp("ListOrders", "get", "/v1/customers/{customerId}/orders", NEW_CUSTOMER),
        FollowUp("ListSubscriptions", "get", "/v1/customers/{customerId}/subscriptions", NEW_CUSTOMER),
        FollowUp("CreateAzurePlan", "post", "/v1/customers/{customerId}/subscriptions/azureplan", NEW_CUSTOMER),
        FollowUp("ListServiceRequests", "get", "/v1/customers/{customerId}/servicerequests", NEW_CUSTOMER),
    ],
    ("post", "/v1/customers/{customerId}/carts", "201"): [
        FollowUp("GetCart", "get", "/v1/customers/{customerId}/carts/{cartId}",
                 {**CUSTOMER, "cartId": "$response.body#/id"}),
        FollowUp("UpdateCart", "put", "/v1/customers/{customerId}/carts/{cartId}",
                 {**CUSTOMER, "cartId": "$response.body#/id"}),
        FollowUp("Checkout", "post", "/v1/customers/{customerId}/carts/{cartId}/checkout",
                 {**CUSTOMER, "cartId": "$response.body#/id"}),
    ],
    ("put", "/v1/customers/{customerId}/carts/{cartId}", "200"): [
        FollowUp("Checkout", "post", "/v1/customers/{customerId}/carts/{cartId}/checkout",
                 {**CUSTOMER, "cartId": "$request.path.cartId"}),
    ],
    ("post", "/v1/customers/{customerId}/carts/{cartId}/checkout", "201"): [
        FollowUp("GetOrder", "get", ORDER, PLACED_ORDER),
        FollowUp("GetSubscription", "get", SUBSCRIPTION, PLACED_SUBSCRIPTION),
        FollowUp("ListSoftware", "get", SOFTWARE, CUSTOMER),
        FollowUp("RequestRefund", "post", SERVICE_REQUEST, {"requestId": AGENT_LOCALE}, REFUND_OF_PLACED_ORDER),
    ],
    ("get", ORDER, "200"): ORDER_FOLLOW_UPS[1:],
    ("patch", ORDER, "200"): ORDER_FOLLOW_UPS[:2],
    ("get", SOFTWARE, "200"): [
        FollowUp("GetKeysAndDownloads", "post", KEYS_AND_DOWNLOADS, FIRST_SOFTWARE, FIRST_CHOICE),
        FollowUp("GetSoftware", "get", SOFTWARE + "/{softwareId}", FIRST_SOFTWARE),
    ],
    ("get", SOFTWARE + "/{softwareId}", "200"): [
        # The purchase is one line of an order: cancelling it cancels that line (rule R5).
        FollowUp("CancelPurchase", "patch", ORDER, {**CUSTOMER, "orderId": "$response.body#/orderId"},
                 {"status": "cancelled", "lineItems": [{"lineItemNumber": "$response.body#/lineItemNumber"}]}),
        FollowUp("GetKeysAndDownloads", "post", KEYS_AND_DOWNLOADS,
                 {**CUSTOMER, "softwareId": "$response.body#/id"},
                 {"version": "$response.body#/versions/0", "language": "$response.body#/languages/0",
                  "fileType": "$response.body#/fileTypes/0"}),
    ],
    ("post", KEYS_AND_DOWNLOADS, "200"): [
        FollowUp("Download", "get", "/v1/downloads/{token}", {"token": DOWNLOAD_TOKEN}),
    ],
    # A subscription is bought with an order: cancelling that order ends it (rule R5).
    ("get", SUBSCRIPTION, "200"): [
        FollowUp("UpdateSubscription", "patch", SUBSCRIPTION, {**CUSTOMER, "subscriptionId": "$response.body#/id"}),
        FollowUp("CancelOrder", "patch", ORDER, {**CUSTOMER, "orderId": "$response.body#/orderId"},
                 {"status": "cancelled"}),
    ],
    ("post", "/v1/customers/{customerId}/subscriptions/azureplan", "201"): [
        FollowUp("GetSubscription", "get", SUBSCRIPTION, {**CUSTOMER, "subscriptionId": "$response.body#/id"}),
        FollowUp("UpdateSubscription", "patch", SUBSCRIPTION, {**CUSTOMER, "subscriptionId": "$response.body#/id"}),
        FollowUp("Register", "post", SUBSCRIPTION + "/registrations",
                 {**CUSTOMER, "subscriptionId": "$response.body#/id"}),
    ],
    ("post", SUBSCRIPTION + "/registrations", "202"): [
        FollowUp("GetRegistrationStatus", "get", SUBSCRIPTION + "/registrationstatus",
                 {**CUSTOMER, "subscriptionId": "$request.path.subscriptionId"}),
    ],
    # Filing a service request (POST /v1/servicerequests/{agentLocale}, one path item with its GET).
    ("post", SERVICE_REQUEST, "201"): SERVICE_REQUEST_FOLLOW_UPS[1:3],
    ("get", SERVICE_REQUEST, "200"): SERVICE_REQUEST_FOLLOW_UPS[3:],
    ("patch", SERVICE_REQUEST, "200"): SERVICE_REQUEST_FOLLOW_UPS[:1],
    ("post", SERVICE_REQUEST + "/refundrequest/approve", "200"): [
        FollowUp("GetServiceRequest", "get", SERVICE_REQUEST, {"requestId": "$request.path.requestId"}),
    ],
    ("post", SERVICE_REQUEST + "/refundrequest/reject", "200"): [
        FollowUp("GetServiceRequest", "get", SERVICE_REQUEST, {"requestId": "$request.path.requestId"}),
    ],
    ("post", "/v1/webhooks", "201"): WEBHOOK_FOLLOW_UPS,
    ("patch", WEBHOOK, "200"): WEBHOOK_FOLLOW_UPS[:1] + WEBHOOK_FOLLOW_UPS[2:3],
    ("post", WEBHOOK + "/rotate-secret", "200"): [
        FollowUp("GetWebhook", "get", WEBHOOK, {"webhookId": "$request.path.webhookId"}),
    ],
    ("post", WEBHOOK + "/test", "202"): [
        FollowUp("ListDeliveries", "get", WEBHOOK + "/deliveries", {"webhookId": "$request.path.webhookId"}),
    ],
    ("delete", WEBHOOK, "204"): [
        FollowUp("GetWebhook", "get", WEBHOOK, {"webhookId": "$request.path.webhookId"}),
    ],
}


def linked_operations() -> set[str]:
    """"METHOD /path" of every operation a link starts from or leads to."""
    return {f"{method.upper()} {path}" for method, path, _status in LINKS} | {
        f"{follow_up.method.upper()} {follow_up.path}" for follow_ups in LINKS.values() for follow_up in follow_ups}


def _add_links(paths: dict[str, dict[str, Any]]) -> None:
    for (method, path, status), follow_ups in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            raise RuntimeError(f"core.openapi.LINKS: {method.upper()} {path} has no {status} answer to link from.")
        for follow_up in follow_ups:
            target = paths.get(follow_up.path, {}).get(follow_up.method)
            if target is None:
                raise RuntimeError(f"core.openapi.LINKS: {follow_up.name} leads to "
                                   f"{follow_up.method.upper()} {follow_up.path}, which the document lacks.")
            link: dict[str, Any] = {"operationId": target["operationId"], "parameters": follow_up.parameters}
            if follow_up.body is not None:
                link["requestBody"] = follow_up.body
            response.setdefault("links", {})[follow_up.name] = link


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
