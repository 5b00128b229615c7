"""JSON bodies read by the route itself, for routes that must check the caller before the body.

FastAPI validates a declared body before the route runs, so a caller the route would refuse (403)
would first learn what is wrong with its body (400). Routes that check the caller inside their
own transaction (`Caller.write`) read the raw body, parse it with these after the check, and
declare it in the OpenAPI document with `json_body`, so integrators see the same schema.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def parse_body(model: type[Model], raw: bytes) -> Model:
    """The body as `model`, or the same 400 a declared body gets (errors located under `body`)."""
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as error:
        raise RequestValidationError(
            [{**detail, "loc": ("body", *detail["loc"])} for detail in error.errors(include_url=False)]
        ) from None


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring `model` as the required JSON request body (its schema is a component)."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}
