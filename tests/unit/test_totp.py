"""TOTP codes (RFC 6238) as Horae checks them: the current step and one either side, never a step at or
before the last one accepted; recovery codes as people type them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from horae.domain import totp
from horae.domain.security import looks_like_totp, new_recovery_code, recovery_digest

NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


def _code(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def test_rfc_6238_reference_value() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the last 6 are what a 6-digit app shows.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.matching_step(secret, "287082", datetime.fromtimestamp(59, UTC), None) == 1


def test_the_current_code_and_its_neighbours_match_and_name_their_step() -> None:
    secret = totp.new_secret()
    step = pyotp.TOTP(secret).timecode(NOW)
    assert totp.matching_step(secret, _code(secret, NOW), NOW, None) == step
    assert totp.matching_step(secret, _code(secret, NOW - timedelta(seconds=30)), NOW, None) == step - 1
    assert totp.matching_step(secret, _code(secret, NOW + timedelta(seconds=30)), NOW, None) == step + 1
    assert totp.matching_step(secret, _code(secret, NOW - timedelta(seconds=60)), NOW, None) is None
    assert totp.matching_step(secret, _code(secret, NOW + timedelta(seconds=60)), NOW, None) is None


def test_a_code_at_or_before_the_last_accepted_step_is_refused() -> None:
    secret = totp.new_secret()
    step = pyotp.TOTP(secret).timecode(NOW)
    code = _code(secret, NOW)
    assert totp.matching_step(secret, code, NOW, after=step) is None
    assert totp.matching_step(secret, code, NOW, after=step - 1) == step
    older = _code(secret, NOW - timedelta(seconds=30))
    assert totp.matching_step(secret, older, NOW, after=step - 1) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６", "12 34 5"])
def test_anything_but_six_digits_never_matches(typed: str) -> None:
    secret = totp.new_secret()
    assert totp.matching_step(secret, typed, NOW, None) is None


def test_six_digits_may_carry_spaces_as_apps_show_them() -> None:
    secret = totp.new_secret()
    code = _code(secret, NOW)
    assert looks_like_totp(f"{code[:3]} {code[3:]}")
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", NOW, None) is not None
    assert not looks_like_totp("１２３４５６") and not looks_like_totp("abc123")


def test_the_qr_address_names_horae_and_the_person() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "ada@example.com")
    assert uri.startswith("otpauth://totp/Horae:ada%40example.com?")
    assert f"secret={secret}" in uri and "issuer=Horae" in uri
    assert len(base64.b32decode(secret)) * 8 == 160


def test_recovery_codes_are_random_readable_and_typed_loosely() -> None:
    codes = {new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        assert not set(code) & set("01ilo")
    code = codes.pop()
    digest = recovery_digest("per_1", code)
    assert recovery_digest("per_1", code.upper().replace("-", " ")) == digest
    assert recovery_digest("per_2", code) != digest  # bound to the person
    assert code not in digest
