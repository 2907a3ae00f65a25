"""Sealing credentials at rest: AES-256-GCM round trips, fresh nonces, tamper and wrong-key failure."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from horae.adapters.secretbox import AesGcmSecretBox, load_or_create_key

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def _flip(sealed: str, index: int) -> str:
    """The sealed text with one bit of the decoded payload flipped."""
    version, _, body = sealed.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[index] ^= 0x01
    return f"{version}.{base64.urlsafe_b64encode(bytes(raw)).decode()}"


@pytest.mark.parametrize("plain", ["CRN_abc123", "", "pässwörd ✓", "x" * 10_000])
def test_round_trip(plain: str) -> None:
    box = AesGcmSecretBox(KEY)
    sealed = box.seal(plain)
    assert box.open(sealed) == plain


def test_sealed_text_does_not_contain_the_plain_text() -> None:
    box = AesGcmSecretBox(KEY)
    plain = "CRN_a-very-recognisable-secret"
    sealed = box.seal(plain)
    assert plain not in sealed
    assert sealed.startswith("v1.")
    assert sealed.isascii()


def test_a_new_nonce_each_time() -> None:
    box = AesGcmSecretBox(KEY)
    sealed = [box.seal("same secret") for _ in range(50)]
    assert len(set(sealed)) == 50
    nonces = {base64.urlsafe_b64decode(s.partition(".")[2])[:12] for s in sealed}
    assert len(nonces) == 50
    assert {box.open(s) for s in sealed} == {"same secret"}


def test_another_box_with_the_same_key_opens_it() -> None:
    assert AesGcmSecretBox(bytes(KEY)).open(AesGcmSecretBox(KEY).seal("shared")) == "shared"


def test_wrong_key_fails() -> None:
    sealed = AesGcmSecretBox(KEY).seal("secret")
    with pytest.raises(InvalidTag):
        AesGcmSecretBox(OTHER_KEY).open(sealed)


@pytest.mark.parametrize("index", [0, 11, 12, -1])
def test_tampering_fails(index: int) -> None:
    box = AesGcmSecretBox(KEY)
    sealed = box.seal("secret")
    with pytest.raises(InvalidTag):
        box.open(_flip(sealed, index))


def test_truncated_text_fails() -> None:
    box = AesGcmSecretBox(KEY)
    sealed = box.seal("secret")
    version, _, body = sealed.partition(".")
    raw = base64.urlsafe_b64decode(body)[:-4]
    with pytest.raises(InvalidTag):
        box.open(f"{version}.{base64.urlsafe_b64encode(raw).decode()}")


def test_unknown_version_is_refused() -> None:
    box = AesGcmSecretBox(KEY)
    body = box.seal("secret").partition(".")[2]
    with pytest.raises(ValueError, match="version"):
        box.open(f"v2.{body}")
    with pytest.raises(ValueError, match="version"):
        box.open("not sealed at all")


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        AesGcmSecretBox(b"k" * size)


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "master.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text().strip()) == key
    assert load_or_create_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The reused key opens what the first one sealed.
    sealed = AesGcmSecretBox(key).seal("kept across restarts")
    assert AesGcmSecretBox(load_or_create_key(path)).open(sealed) == "kept across restarts"


def test_separate_data_dirs_get_separate_keys(tmp_path: Path) -> None:
    assert load_or_create_key(tmp_path / "a" / "master.key") != load_or_create_key(tmp_path / "b" / "master.key")


def test_an_existing_key_file_is_read_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(base64.b64encode(KEY).decode() + "\n")
    assert load_or_create_key(path) == KEY
    assert base64.b64decode(path.read_text()) == KEY
