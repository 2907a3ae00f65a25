"""The `Cronofy-HMAC-SHA256` signature on callbacks: pure functions, no I/O.

The header value is the standard (padded) base64 of HMAC-SHA256 over the raw body bytes, keyed by a
client secret's UTF-8 bytes. During a secret rotation every active secret signs, and the values are
joined with a comma and no spaces (the SDKs split on "," and do not trim).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

HEADER = "Cronofy-HMAC-SHA256"


def sign(body: bytes, secret: str) -> str:
    """One signature: base64(HMAC-SHA256(key=secret, message=body))."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def header_value(body: bytes, secrets: Sequence[str]) -> str:
    """The header value: one signature per secret, in the order given, comma-separated."""
    return ",".join(sign(body, secret) for secret in secrets)


def verify(value: str, body: bytes, secret: str) -> bool:
    """Whether any of the header's values is the signature of body with secret (constant-time compare)."""
    expected = sign(body, secret).encode()
    return any(hmac.compare_digest(part.encode(), expected) for part in value.split(",") if part)
