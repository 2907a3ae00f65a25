"""`POST /v1/batch`: the request envelope, its checking, its documented schema, and the 207 answer.

The envelope is checked by hand rather than by a model so that every problem is named the way a client
can find it (`batch`, `batch.3.method`, `batch.3.relative_url`, `batch.3.data`), and so that nothing inside
an entry's `data` is judged here: each entry's data is validated by the call it is dispatched to, exactly
as the single call would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from horae.errors import FieldError, InvalidRequest

MAX_ENTRIES = 50
MAX_RELATIVE_URL = 2048
METHODS = ("POST", "DELETE")
# No control characters anywhere in a relative_url (nor, once percent-decoded, in its path parameters).
CONTROL = "\\x00-\\x1f\\x7f"


class BatchEntryResult(BaseModel):
    """What one entry's single call would have answered: its status, and its body when it has one."""

    status: int = Field(description="202 on success, otherwise the single call's error status")
    data: dict[str, Any] | None = Field(None, description="The single call's error body (absent on success)")


class BatchResponse(BaseModel):
    """One result per entry, in the order of the request."""

    batch: list[BatchEntryResult]


@dataclass(frozen=True)
class Entry:
    """A batch entry whose envelope is sound: its position, method, relative_url and data."""

    index: int
    method: str
    relative_url: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """How 422 answers name this entry: `batch.{index}`."""
        return f"batch.{self.index}"


def read_entries(raw: dict[str, Any]) -> tuple[list[Entry], dict[str, list[FieldError]]]:
    """The sound entries of a batch body and the problems of the others, by field (`batch.3.method`);
    InvalidRequest at once when `batch` itself is missing, not an array, empty or too long."""
    items = raw.get("batch")
    if items is None:
        raise InvalidRequest.single("batch", "errors.required", "batch must be specified")
    if not isinstance(items, list):
        raise InvalidRequest.single("batch", "errors.invalid", "batch must be an array of requests")
    if not items:
        raise InvalidRequest.single("batch", "errors.required", "batch must contain at least one request")
    if len(items) > MAX_ENTRIES:
        raise InvalidRequest.single(
            "batch", "errors.too_many", f"batch may contain at most {MAX_ENTRIES} requests, not {len(items)}"
        )
    problems: dict[str, list[FieldError]] = {}
    entries = []
    for index, item in enumerate(items):
        found = _entry(index, item)
        if isinstance(found, Entry):
            entries.append(found)
        else:
            problems.update(found)
    return entries, problems


def _entry(index: int, item: object) -> Entry | dict[str, list[FieldError]]:
    name = f"batch.{index}"
    if not isinstance(item, dict):
        return {name: [FieldError("errors.invalid", f"{name} must be an object with method and relative_url")]}
    problems: dict[str, list[FieldError]] = {}
    method, url, data = item.get("method"), item.get("relative_url"), item.get("data")
    if method is None:
        problems[f"{name}.method"] = [FieldError("errors.required", f"{name}.method must be specified")]
    elif method not in METHODS:
        problems[f"{name}.method"] = [FieldError("errors.invalid", f"{name}.method must be POST or DELETE")]
    if url is None or url == "":
        problems[f"{name}.relative_url"] = [FieldError("errors.required", f"{name}.relative_url must be specified")]
    elif not isinstance(url, str) or len(url) > MAX_RELATIVE_URL:
        problems[f"{name}.relative_url"] = [
            FieldError("errors.invalid", f"{name}.relative_url must be a path of at most {MAX_RELATIVE_URL} characters")
        ]
    elif any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        problems[f"{name}.relative_url"] = [
            FieldError("errors.invalid_characters", f"{name}.relative_url must not contain control characters")
        ]
    if data is not None and not isinstance(data, dict):
        problems[f"{name}.data"] = [FieldError("errors.invalid", f"{name}.data must be an object")]
    if problems:
        return problems
    assert isinstance(method, str) and isinstance(url, str)
    return Entry(index, method, url, data or {})


def request_schema(calls: list[tuple[list[str], str, str]]) -> dict[str, Any]:
    """`openapi_extra` for the batch body, from the calls allowed in it: (methods, relative_url pattern,
    template) each. The patterns are the ones the server matches, so the document accepts what it does."""
    entries = [
        {
            "type": "object",
            "title": f"{' | '.join(methods)} {template}",
            "properties": {
                "method": {"enum": methods, "description": "The single call's HTTP method"},
                "relative_url": {
                    "type": "string",
                    "pattern": pattern,
                    "maxLength": MAX_RELATIVE_URL,
                    "description": f"`{template}`, as the single call's path (and query string)",
                },
                "data": {"type": ["object", "null"], "description": "The single call's body"},
            },
            "required": ["method", "relative_url"],
        }
        for methods, pattern, template in calls
    ]
    schema = {
        "title": "BatchRequest",
        "type": "object",
        "properties": {
            "batch": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ENTRIES,
                "items": {"anyOf": entries},
                "description": f"1 to {MAX_ENTRIES} calls, run in order",
            }
        },
        "required": ["batch"],
    }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
