"""Element tokens without a database: origins as browsers send them, and tokens that are read only when genuine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest

from horae.errors import InvalidRequest, PermissionDenied
from horae.ports import UnitOfWorkFactory
from horae.services.element_tokens import ElementTokenService, normalize_origin
from tests.fakes import FakeClock

NO_DATABASE = cast(UnitOfWorkFactory, None)  # tokens without subs never need one


def service(clock: FakeClock, key: bytes = b"k" * 32) -> ElementTokenService:
    return ElementTokenService(NO_DATABASE, clock, key)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Example.COM", "https://example.com"),
        ("http://localhost:80", "http://localhost"),
        ("https://a.example:8443/", "https://a.example:8443"),
        ("http://[::1]", "http://[::1]"),
        ("https://a.example/path", None),
        ("https://a.example/?", None),
        ("https://a.example#top", None),
        ("https://u@a.example", None),
        ("https://a.example:99999", None),
        ("javascript:alert(1)", None),
        ("https://", None),
        (" https://a.example", None),
        ("null", None),
    ],
)
def test_origins(given: str, expected: str | None) -> None:
    assert normalize_origin(given) == expected


def test_a_token_says_what_it_was_issued_for() -> None:
    clock = FakeClock()
    tokens = service(clock)
    issued = tokens.issue("app_1", "1", ["managed_availability", "agenda"], [], "http://127.0.0.1:5000")
    assert issued.permissions == ("agenda", "managed_availability") and issued.expires_in == 64800
    read = tokens.read(issued.token)
    assert read is not None
    assert (read.application_id, read.subs, read.origin) == ("app_1", (), "http://127.0.0.1:5000")
    assert read.expires_at == clock.now() + timedelta(seconds=64800)
    read.require(frozenset({"agenda"}))
    with pytest.raises(PermissionDenied):
        read.require(frozenset({"availability"}))


def test_altered_foreign_and_stale_tokens_are_not_read() -> None:
    clock = FakeClock()
    tokens = service(clock)
    token = tokens.issue("app_1", "1", ["agenda"], [], "http://127.0.0.1:5000").token
    body, _, mac = token.partition(".")
    altered = body[:-1] + ("A" if body[-1] != "A" else "B")
    assert tokens.read(f"{altered}.{mac}") is None
    assert service(clock, b"x" * 32).read(token) is None  # another server's (or another purpose's) key
    assert tokens.read("") is None and tokens.read("no-dot") is None
    clock.advance(hours=18)
    assert tokens.read(token) is not None  # expired, yet its origin is known (authenticate refuses it)
    clock.advance(days=8)
    assert tokens.read(token) is None


def test_bad_requests_name_each_field() -> None:
    with pytest.raises(InvalidRequest) as raised:
        service(FakeClock()).issue("app_1", "2", ["nope"], [], "http://127.0.0.1:5000/page")
    errors: dict[str, Any] = raised.value.errors
    assert set(errors) == {"version", "permissions", "origin"}
