"""The `Cronofy-HMAC-SHA256` signature: the published vectors, rotation, and the SDKs' own checks."""

from __future__ import annotations

import base64

import pycronofy  # type: ignore[import-untyped]

from horae.domain.hmac import HEADER, header_value, sign, verify

BODY = b'{"example":"well-known"}'
FIRST = "CRN_NggYusqPGLxwjw5FHOJYOqSrTPNXy8WQf14OID"
SECOND = "CRN_nGlYDFXwfSXgB9rvGNBJyfE454GGPtWIbNuPwr"
FIRST_SIGNATURE = "5DxentQi5YSXODEzTVv06sRwJ3pULIz1KrYv20qxEK0="
SECOND_SIGNATURE = "BmQmWVuZ70ILWjr1CAt5oC7YOolgnku4WZtlrKfx/6k="


def test_the_first_published_vector() -> None:
    assert sign(BODY, FIRST) == FIRST_SIGNATURE


def test_the_second_published_vector() -> None:
    assert sign(BODY, SECOND) == SECOND_SIGNATURE


def test_the_header_name() -> None:
    assert HEADER == "Cronofy-HMAC-SHA256"


def test_during_rotation_the_header_carries_one_value_per_secret_comma_separated_without_spaces() -> None:
    value = header_value(BODY, [FIRST, SECOND])
    assert value == f"{FIRST_SIGNATURE},{SECOND_SIGNATURE}"
    assert " " not in value
    assert verify(value, BODY, FIRST) and verify(value, BODY, SECOND)
    assert header_value(BODY, [FIRST]) == FIRST_SIGNATURE


def test_signatures_are_standard_padded_base64_of_32_bytes() -> None:
    # This body's digest has bytes that base64url would write differently ("/" and "+" appear).
    value = sign(BODY, SECOND)
    assert "/" in value and value.endswith("=")
    assert len(base64.b64decode(value, validate=True)) == 32


def test_verify_refuses_other_secrets_bodies_and_empty_headers() -> None:
    value = header_value(BODY, [FIRST])
    assert not verify(value, BODY, SECOND)
    assert not verify(value, BODY + b" ", FIRST)
    assert not verify("", BODY, FIRST)
    assert not verify(f" {FIRST_SIGNATURE}", BODY, FIRST)  # no trimming, as in the SDKs


def test_pycronofy_hmac_valid_accepts_horae_headers() -> None:
    for secret in (FIRST, SECOND):
        client = pycronofy.Client(client_id="id", client_secret=secret)
        assert client.hmac_valid(header_value(BODY, [FIRST, SECOND]), BODY.decode())
        assert client.hmac_valid(header_value(BODY, [secret]), BODY.decode())
    outsider = pycronofy.Client(client_id="id", client_secret="CRN_other")
    assert not outsider.hmac_valid(header_value(BODY, [FIRST, SECOND]), BODY.decode())


def test_a_non_ascii_body_is_signed_as_its_utf8_bytes() -> None:
    body = '{"callback_url":"https://exämple.test/ü"}'.encode()
    client = pycronofy.Client(client_id="id", client_secret=FIRST)
    assert client.hmac_valid(sign(body, FIRST), body.decode())
