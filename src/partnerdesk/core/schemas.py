"""The shapes every API resource shares: camelCase models, collections and links.

Request bodies are lenient in names and strict in values, as Partner Center (ASP.NET) reads them:
a field name matches in any letter case (`CompanyProfile.Domain` is `companyProfile.domain`), the
fields the server itself writes (`id`, `links`, `attributes`, timestamps...) are dropped when a client
sends back what it read, and a name nobody knows is ignored and listed in the response header
`Partner-Desk-Ignored-Fields`, so a typo stays visible. Values keep their types and checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any, ClassVar, Generic, TypeVar, Union, get_args, get_origin
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

IGNORED_FIELDS_HEADER = "Partner-Desk-Ignored-Fields"
# Written by the server on every resource it returns; a client that sends them back changes nothing.
READ_ONLY_EVERYWHERE = ("links", "attributes")
# What the header lists at most: a body of ten thousand unknown names must not make a header as long.
MAX_IGNORED_LISTED = 50
MAX_IGNORED_NAME = 100

# The unknown field names of the request being served, in the order met (a dict: each kept once, in
# constant time however many a body holds); None outside a request (CLI, portal forms).
_ignored_fields: ContextVar[dict[str, None] | None] = ContextVar("partnerdesk_ignored_fields", default=None)


@contextmanager
def collecting_ignored_fields() -> Iterator[dict[str, None]]:
    """Collects the unknown field names the request models meet in this context (the dict's keys, in order)."""
    names: dict[str, None] = {}
    token = _ignored_fields.set(names)
    try:
        yield names
    finally:
        _ignored_fields.reset(token)


def _note_ignored(path: str) -> None:
    names = _ignored_fields.get()
    if names is not None:
        names[path] = None


@dataclass(frozen=True)
class _FieldShape:
    key: str  # the name the model validates by (its camelCase alias)
    nested: type[CamelModel] | None  # the request model of the value, or of each item of a list
    is_list: bool


@dataclass(frozen=True)
class _ModelShape:
    fields: dict[str, _FieldShape]  # by case-folded name and alias
    read_only: frozenset[str]  # case-folded


_shapes: dict[type, _ModelShape] = {}


def _nested_model(annotation: Any) -> tuple[type[CamelModel] | None, bool]:
    """The request model inside `annotation` (`M`, `M | None`, `list[M]`, `list[M] | None`), and whether in a list."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        options = [arg for arg in get_args(annotation) if arg is not NoneType]
        return _nested_model(options[0]) if len(options) == 1 else (None, False)
    if origin is list:
        args = get_args(annotation)
        model, _ = _nested_model(args[0]) if args else (None, False)
        return model, model is not None
    if isinstance(annotation, type) and issubclass(annotation, CamelModel):
        return annotation, False
    return None, False


def _shape_of(model: type[CamelModel]) -> _ModelShape:
    shape = _shapes.get(model)
    if shape is not None:
        return shape
    fields: dict[str, _FieldShape] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        nested, is_list = _nested_model(info.annotation)
        fields[name.casefold()] = fields[key.casefold()] = _FieldShape(key, nested, is_list)
    read_only = {name.casefold() for name in (*READ_ONLY_EVERYWHERE, *model.read_only_fields)}
    if model.read_only_from is not None:
        for name, info in model.read_only_from.model_fields.items():
            read_only.add((info.alias or to_camel(name)).casefold())
    shape = _shapes[model] = _ModelShape(fields, frozenset(read_only - fields.keys()))
    return shape


def _normalised(model: type[CamelModel], data: dict[Any, Any], prefix: str) -> dict[str, Any]:
    """`data` with each key in the model's own spelling, read-only and unknown fields dropped (the unknown
    ones noted under their path), nested request models done the same way."""
    shape = _shape_of(model)
    result: dict[str, Any] = {}
    for key, value in data.items():
        folded = str(key).casefold()
        known = shape.fields.get(folded)
        if known is None:
            if folded not in shape.read_only:
                _note_ignored(f"{prefix}{key}")
            continue
        if known.key in result:
            raise PydanticCustomError(
                "duplicate_field", "{field} is given more than once, in different letter cases",
                {"field": f"{prefix}{known.key}"},
            )
        result[known.key] = _nested_value(known, value, f"{prefix}{known.key}")
    return result


def _nested_value(known: _FieldShape, value: Any, path: str) -> Any:
    if known.nested is None:
        return value
    if known.is_list and isinstance(value, list):
        return [_normalised(known.nested, item, f"{path}[{index}].") if isinstance(item, dict) else item
                for index, item in enumerate(value)]
    if not known.is_list and isinstance(value, dict):
        return _normalised(known.nested, value, f"{path}.")
    return value


class CamelModel(BaseModel):
    """Base for request bodies: camelCase on the wire, snake_case in Python, names in any letter case.

    `read_only_fields` and `read_only_from` (the response shape a client may send back) name what the
    server writes itself: dropped without a word. Any other unknown name is dropped and listed in the
    `Partner-Desk-Ignored-Fields` header.
    """

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True,
                              extra="ignore")

    read_only_fields: ClassVar[tuple[str, ...]] = ()
    read_only_from: ClassVar[type[BaseModel] | None] = None

    @model_validator(mode="before")
    @classmethod
    def _names_in_any_case(cls, value: Any) -> Any:
        return _normalised(cls, value, "") if isinstance(value, dict) else value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value


def ignored_fields_header(names: list[str]) -> bytes:
    """The header's value: the names comma-separated, percent-encoded where not plain printable ASCII."""
    shown = [quote(name[:MAX_IGNORED_NAME], safe="[].-_~!$&'()*+;=:@") for name in names[:MAX_IGNORED_LISTED]]
    if len(names) > MAX_IGNORED_LISTED:
        shown.append(f"...{len(names) - MAX_IGNORED_LISTED} more")
    return ", ".join(shown).encode("ascii")


class IgnoredFieldsMiddleware:
    """Lists the unknown request-body field names the request models ignored in `Partner-Desk-Ignored-Fields`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        with collecting_ignored_fields() as names:

            async def send_with_ignored(message: Message) -> None:
                if message["type"] == "http.response.start" and names:
                    header = (IGNORED_FIELDS_HEADER.lower().encode(), ignored_fields_header(list(names)))
                    message["headers"] = [*message.get("headers", []), header]
                await send(message)

            await self.app(scope, receive, send_with_ignored)


_TRAILING_COMMA = re.compile(rb",\s*[}\]]")
_SPACES = re.compile(r"\s*")


def _closes(text: str, start: int) -> bool:
    """Whether the first character from `start` that is not whitespace closes an object or array."""
    after = _SPACES.match(text, start).end()
    return text[after:after + 1] in ("}", "]")


def without_trailing_commas(text: str) -> str:
    """`text` with each comma that closes an object or array dropped (outside strings)."""
    kept: list[str] = []
    in_string = escaped = False
    previous = ""  # the last character outside whitespace: a comma after "{", "[" or "," closes nothing
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "," and previous not in ("{", "[", ",") and _closes(text, index + 1):
            continue
        kept.append(char)
        if not char.isspace():
            previous = char
    return "".join(kept)


class TrailingCommasMiddleware:
    """Reads a JSON body whose objects or arrays end with a comma as ASP.NET (Partner Center) does: Partner
    Center's own printed examples have them. Any other malformed body is left as it came, to be refused."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH") or not any(
                name == b"content-type" and value.split(b";")[0].strip().lower() == b"application/json"
                for name, value in scope["headers"]):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replayed([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        repaired = _repaired(body)
        if repaired is not None:
            body = repaired
            scope = {**scope, "headers": [(name, str(len(body)).encode() if name == b"content-length" else value)
                                          for name, value in scope["headers"]]}
        await self.app(scope, _replayed([{"type": "http.request", "body": body, "more_body": False}], receive), send)


# Repairs are for hand-written bodies such as Partner Center's examples; a larger body is left as it came,
# so a crafted one cannot hold the event loop (the repair is a Python loop over the characters).
MAX_REPAIRED_BODY = 32 * 1024


def _repaired(body: bytes) -> bytes | None:
    if len(body) > MAX_REPAIRED_BODY or not _TRAILING_COMMA.search(body):
        return None
    try:
        json.loads(body)
        return None
    except (ValueError, RecursionError):
        pass
    try:
        fixed = without_trailing_commas(body.decode("utf-8")).encode("utf-8")
        json.loads(fixed)
    except (ValueError, RecursionError):
        return None
    return fixed


def _replayed(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def query_names_of(openapi: dict[str, Any]) -> dict[str, str]:
    """Every query parameter of the API by its case-folded name, in its declared spelling; a name declared
    in two spellings is left out (no single answer is right for it)."""
    spellings: dict[str, set[str]] = {}
    for item in openapi.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query":
                    spellings.setdefault(parameter["name"].casefold(), set()).add(parameter["name"])
    return {folded: names.pop() for folded, names in spellings.items() if len(names) == 1}


class QueryNamesMiddleware:
    """Query parameter names in any letter case, as Partner Center reads them (`entitlementtype` is
    `entitlementType`): a name the API declares in another case is passed on in its declared spelling."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._names: dict[bytes, bytes] | None = None

    def _declared(self, scope: Scope) -> dict[bytes, bytes]:
        if self._names is None:
            names = query_names_of(scope["app"].openapi())
            self._names = {folded.encode(): name.encode() for folded, name in names.items()}
        return self._names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if query and scope.get("path", "").startswith("/v1/"):
            declared = self._declared(scope)
            pairs = query.split(b"&")
            renamed = []
            for pair in pairs:
                name, equals, value = pair.partition(b"=")
                spelled = declared.get(name.lower())
                renamed.append(spelled + equals + value if spelled is not None and spelled != name else pair)
            if renamed != pairs:
                scope = {**scope, "query_string": b"&".join(renamed)}
        await self.app(scope, receive, send)


class ResponseModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, from_attributes=True
    )


class Link(ResponseModel):
    uri: str
    method: str = "GET"
    headers: list[dict[str, str]] = Field(default_factory=list)


class Collection(ResponseModel, Generic[T]):
    total_count: int
    items: list[T]
    links: dict[str, Link] = Field(default_factory=dict)
    # Partner Center's seek paging: the token of the next page, when there is one (`core.pagination`).
    continuation_token: str | None = None
    attributes: dict[str, Any] = Field(default_factory=lambda: {"objectType": "Collection"})
