"""The shapes every API resource shares: camelCase models, collections and links."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class CamelModel(BaseModel):
    """Base for API shapes: camelCase on the wire, snake_case in Python, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value


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
    attributes: dict[str, Any] = Field(default_factory=lambda: {"objectType": "Collection"})
