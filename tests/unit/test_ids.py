"""Identifier and secret formats: prefixes, lengths, URL safety, and the lookup digest."""

from __future__ import annotations

import hashlib
import re
import string

import pytest

from horae.domain import ids

UNSAFE = set("+/=&#?% ")
URLSAFE = set(string.ascii_letters + string.digits + "-_")


@pytest.mark.parametrize("prefix", ["acc", "pro", "app", "sec", "grt", "per", "apc"])
def test_new_id_is_prefix_and_24_hex_digits(prefix: str) -> None:
    value = ids.new_id(prefix)
    assert re.fullmatch(rf"{prefix}_[0-9a-f]{{24}}", value), value


def test_new_ids_differ() -> None:
    assert len({ids.new_id("acc") for _ in range(200)}) == 200


def test_tokens_are_url_safe_and_long() -> None:
    for _ in range(200):
        token = ids.new_token()
        assert set(token) <= URLSAFE, token
        assert not set(token) & UNSAFE
        assert len(token) >= 43  # 32 bytes of randomness


def test_token_length_follows_the_byte_count() -> None:
    assert len(ids.new_token(6)) == 8
    assert len(ids.new_token(64)) > len(ids.new_token(32))


def test_tokens_differ() -> None:
    assert len({ids.new_token() for _ in range(200)}) == 200


def test_client_id_is_32_alphanumerics() -> None:
    for _ in range(50):
        value = ids.new_client_id()
        assert re.fullmatch(r"[A-Za-z0-9]{32}", value), value


def test_client_secret_has_cronofy_prefix_and_is_url_safe() -> None:
    for _ in range(100):
        secret = ids.new_client_secret()
        assert secret.startswith("CRN_")
        assert set(secret) <= URLSAFE, secret
        assert len(secret) >= 40
    assert ids.new_client_secret() != ids.new_client_secret()


def test_authorization_code_is_32_ascii_characters() -> None:
    codes = [ids.new_authorization_code() for _ in range(100)]
    for code in codes:
        assert len(code) == 32
        assert code.isascii()
        assert set(code) <= URLSAFE
        assert not set(code) & UNSAFE
    assert len(set(codes)) == len(codes)


def test_digest_is_stable_sha256_hex() -> None:
    assert ids.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert ids.digest("secret") == ids.digest("secret")
    assert ids.digest("secret") == hashlib.sha256(b"secret").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", ids.digest(ids.new_token()))


def test_digest_distinguishes_inputs_and_hides_them() -> None:
    token = ids.new_token()
    assert ids.digest(token) != ids.digest(token + "x")
    assert token not in ids.digest(token)


def test_digest_handles_non_ascii() -> None:
    assert ids.digest("café") == hashlib.sha256("café".encode()).hexdigest()
