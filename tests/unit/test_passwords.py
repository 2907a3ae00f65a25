"""argon2id password hashing: the hash format, verification, and never raising on a bad hash."""

from __future__ import annotations

import pytest

from horae.adapters.passwords import Argon2PasswordHasher


@pytest.fixture(scope="module")
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=1, memory_cost=8)


def test_hash_is_argon2id_and_hides_the_password(hasher: Argon2PasswordHasher) -> None:
    hashed = hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse battery" not in hashed


def test_hash_is_salted(hasher: Argon2PasswordHasher) -> None:
    assert hasher.hash("same password") != hasher.hash("same password")


def test_verify_right_and_wrong(hasher: Argon2PasswordHasher) -> None:
    hashed = hasher.hash("correct horse battery")
    assert hasher.verify(hashed, "correct horse battery") is True
    assert hasher.verify(hashed, "correct horse batterY") is False
    assert hasher.verify(hashed, "") is False


def test_verify_unicode_password(hasher: Argon2PasswordHasher) -> None:
    hashed = hasher.hash("pässwörd ✓")
    assert hasher.verify(hashed, "pässwörd ✓") is True
    assert hasher.verify(hashed, "passwort ✓") is False


def test_the_configured_cost_is_in_the_hash() -> None:
    hashed = Argon2PasswordHasher(time_cost=2, memory_cost=16).hash("x")
    assert "m=16" in hashed and "t=2" in hashed


def test_default_cost_is_production_strength() -> None:
    hashed = Argon2PasswordHasher().hash("x")
    assert hashed.startswith("$argon2id$")
    assert "m=65536" in hashed and "t=3" in hashed


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$$",
        "$argon2id$v=19$m=abc,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$2b$12$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
        "\x00",
        "$argon2id$v=19$m=8,t=1,p=1$sälz$häsh",  # non-ASCII: argon2 would raise UnicodeEncodeError
    ],
)
def test_garbage_hash_returns_false_and_never_raises(hasher: Argon2PasswordHasher, garbage: str) -> None:
    assert hasher.verify(garbage, "anything") is False


def test_truncated_or_altered_hash_returns_false(hasher: Argon2PasswordHasher) -> None:
    hashed = hasher.hash("pw")
    assert hasher.verify(hashed[:-6], "pw") is False
    assert hasher.verify(hashed.replace("argon2id", "argon2i"), "pw") is False
    assert hasher.verify(hashed[:-4] + ("AAAA" if not hashed.endswith("AAAA") else "BBBB"), "pw") is False


def test_needs_rehash_when_the_cost_changes(hasher: Argon2PasswordHasher) -> None:
    cheap = hasher.hash("pw")
    assert hasher.needs_rehash(cheap) is False
    assert Argon2PasswordHasher(time_cost=2, memory_cost=16).needs_rehash(cheap) is True
