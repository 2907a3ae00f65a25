"""Request bodies as Cronofy clients send them: JSON or form-encoded, read into a dict and validated into a
model, with every problem reported per field in Cronofy's terms."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request

from horae.api import body
from horae.errors import FieldError, InvalidRequest

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def request_with(raw: bytes, content_type: str | None = JSON, headers: dict[str, str] | None = None) -> Request:
    pairs = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if content_type is not None:
        pairs.append((b"content-type", content_type.encode()))
    scope = {"type": "http", "method": "POST", "path": "/v1/x", "headers": pairs, "query_string": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    return Request(scope, receive)


def read(raw: bytes, content_type: str | None = JSON, **headers: str) -> dict[str, Any]:
    return asyncio.run(body.read_body(request_with(raw, content_type, headers)))


def refused(raw: bytes, content_type: str | None = JSON, **headers: str) -> dict[str, list[FieldError]]:
    with pytest.raises(InvalidRequest) as caught:
        read(raw, content_type, **headers)
    return caught.value.errors


# --- JSON -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [JSON, "application/json; charset=utf-8", "APPLICATION/JSON", None])
def test_a_json_object_is_read_as_is(content_type: str | None) -> None:
    raw = b'{"summary": "Caf\\u00e9", "n": 2, "tags": ["a"], "start": {"time": "2026-01-01T09:00:00Z"}}'
    assert read(raw, content_type) == {
        "summary": "Café",
        "n": 2,
        "tags": ["a"],
        "start": {"time": "2026-01-01T09:00:00Z"},
    }


@pytest.mark.parametrize(
    "raw",
    [b'{"a": ', b"{'a': 1}", b'["a"]', b'"a"', b"1", b"null", b"true", b"[" * 100_000, b'{"a": "\xff"}'],
    ids=["truncated", "single-quotes", "array", "string", "number", "null", "bool", "deep", "not-utf8"],
)
def test_anything_but_a_json_object_is_invalid_json(raw: bytes) -> None:
    problems = refused(raw)
    assert list(problems) == ["request"]
    assert [p.key for p in problems["request"]] == ["errors.invalid_json"]


def test_other_content_types_are_read_as_json() -> None:
    assert read(b'{"a": 1}', "text/plain") == {"a": 1}
    assert refused(b"a=1", "text/plain")["request"][0].key == "errors.invalid_json"


# --- forms --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a=1&b=two", {"a": "1", "b": "two"}),
        (b"summary=caf%C3%A9+au+lait&x=%26%3D", {"summary": "café au lait", "x": "&="}),
        (b"calendar_ids[]=cal_1&calendar_ids[]=cal_2", {"calendar_ids": ["cal_1", "cal_2"]}),
        (b"calendar_ids%5B%5D=cal_1", {"calendar_ids": ["cal_1"]}),
        (b"a=1&a=2", {"a": "2"}),
        (b"a=1&a[]=2&a=3", {"a": ["1", "2", "3"]}),
        (b"a[]=1&a=2", {"a": ["1", "2"]}),
        (b"a=&b[]=", {"a": "", "b": [""]}),
        (b"flag", {"flag": ""}),
    ],
    ids=["plain", "escapes", "brackets", "escaped-brackets", "repeated", "mixed", "mixed-late", "blank", "bare"],
)
def test_form_fields(raw: bytes, expected: dict[str, Any]) -> None:
    assert read(raw, FORM) == expected
    assert read(raw, "Application/X-WWW-Form-Urlencoded; charset=UTF-8") == expected


@pytest.mark.parametrize("raw", [b"a=\xff", b"a=%FF", b"%C3=1"], ids=["raw-byte", "escaped-byte", "escaped-key"])
def test_form_that_is_not_utf8_is_refused(raw: bytes) -> None:
    assert [p.key for p in refused(raw, FORM)["request"]] == ["errors.invalid_encoding"]


# --- empty and huge -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"  \r\n\t "])
@pytest.mark.parametrize("content_type", [JSON, FORM, None])
def test_an_empty_body_is_an_empty_dict(raw: bytes, content_type: str | None) -> None:
    assert read(raw, content_type) == {}


def test_a_body_over_the_limit_is_refused() -> None:
    assert read(b" " * (body.MAX_BODY - 2) + b"{}") == {}
    assert refused(b" " * body.MAX_BODY + b"{}")["request"][0].key == "errors.too_large"


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/x",
        "headers": [(b"content-length", str(body.MAX_BODY + 1).encode()), (b"content-type", JSON.encode())],
        "query_string": b"",
    }

    async def never() -> dict[str, Any]:
        raise AssertionError("the body was read")

    with pytest.raises(InvalidRequest) as caught:
        asyncio.run(body.read_body(Request(scope, never)))
    assert caught.value.errors["request"][0].key == "errors.too_large"


# --- validation -------------------------------------------------------------------------------------------------


class Start(BaseModel):
    time: str
    tzid: str = "Etc/UTC"


class Event(BaseModel):
    event_id: str
    summary: str
    attendees: list[str] = []
    start: Start | None = None
    count: int = 0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def keys_by_field(exc: InvalidRequest) -> dict[str, list[str]]:
    return {field: [d.key for d in details] for field, details in exc.errors.items()}


def test_a_valid_body_becomes_the_model_and_unknown_fields_are_ignored() -> None:
    event = body.validate(Event, {"event_id": "e1", "summary": "Lunch", "colour": "red", "x": {"y": "\x00"}})
    assert event == Event(event_id="e1", summary="Lunch")


def test_each_bad_field_gets_its_own_cronofy_error() -> None:
    with pytest.raises(InvalidRequest) as caught:
        body.validate(Event, {"summary": 5, "attendees": ["a", 7], "start": {"tzid": "Europe/London"}, "count": "x"})
    assert keys_by_field(caught.value) == {
        "event_id": ["errors.required"],
        "summary": ["errors.string_type"],
        "attendees.1": ["errors.string_type"],
        "start.time": ["errors.required"],
        "count": ["errors.int_parsing"],
    }
    for field, details in caught.value.errors.items():
        assert all(d.description.startswith(f"{field}: ") for d in details)


def test_forbidden_extra_fields_are_reported_by_name() -> None:
    with pytest.raises(InvalidRequest) as caught:
        body.validate(Strict, {"name": "x", "colour": "red"})
    assert keys_by_field(caught.value) == {"colour": ["errors.extra_forbidden"]}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"event_id": "e\x00", "summary": "s"}, "event_id"),
        ({"event_id": "e", "summary": "s", "attendees": ["ok", "a\x00"]}, "attendees.1"),
        ({"event_id": "e", "summary": "s", "start": {"time": "\x00"}}, "start.time"),
    ],
)
def test_a_nul_in_an_accepted_field_is_refused_by_name(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        body.validate(Event, data)
    assert keys_by_field(caught.value) == {field: ["errors.invalid_characters"]}


def test_parse_reads_and_validates_form_bodies_too() -> None:
    raw = b"event_id=e1&summary=Lunch&attendees[]=a%40example.com&attendees[]=b%40example.com&count=3"
    event = asyncio.run(body.parse(request_with(raw, FORM), Event))
    assert event == Event(event_id="e1", summary="Lunch", attendees=["a@example.com", "b@example.com"], count=3)


def test_an_empty_form_field_is_a_value_not_a_missing_one() -> None:
    # python-multipart's Form() calls `email=` missing; Cronofy bodies keep it as "".
    event = asyncio.run(body.parse(request_with(b"event_id=e1&summary=", FORM), Event))
    assert event.summary == ""


def test_openapi_body_documents_json_and_form() -> None:
    extra = body.openapi_body(Event)
    content = extra["requestBody"]["content"]
    assert set(content) == {JSON, FORM}
    schema = content[JSON]["schema"]
    assert content[FORM]["schema"] == schema
    assert schema["required"] == ["event_id", "summary"]
    assert extra["requestBody"]["required"] is True
    assert body.openapi_body(Event, required=False)["requestBody"]["required"] is False
    # Nested models go to components (openapi.install moves them there), not to a local $defs.
    assert "$defs" not in schema
    assert schema["properties"]["start"]["anyOf"][0] == {"$ref": "#/components/schemas/Start"}
    assert extra[body.COMPONENTS_KEY]["Start"]["required"] == ["time"]


class Loose(BaseModel):
    name: str = ""
    kind: str = ""
    count: int = 0


def test_openapi_body_documents_fields_the_handler_requires() -> None:
    either = {"anyOf": [{"required": ["name"]}, {"required": ["kind"]}]}
    schema = body.openapi_body(Loose, require=["name", "count"], schema_extra=either)["requestBody"]["content"][JSON]
    documented = schema["schema"]
    assert documented["required"] == ["name", "count"]
    assert documented["properties"]["name"]["minLength"] == 1
    assert documented["properties"]["name"]["pattern"] == body.NUL_FREE
    assert "minLength" not in documented["properties"]["count"]
    assert "minLength" not in documented["properties"]["kind"]
    assert documented["anyOf"] == either["anyOf"]
