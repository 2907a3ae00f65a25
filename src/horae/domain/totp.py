"""Time-based one-time passwords (RFC 6238: 6 digits, 30-second steps, SHA-1), the kind every
authenticator app reads from a QR code."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "Horae"
DRIFT_STEPS = 1  # a code from the step before or after is accepted too: phone clocks drift, people type slowly


def new_secret() -> str:
    """A random 160-bit secret in base32, the form apps take."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://totp/...` address that the QR code holds."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step whose code this is (within the allowed drift), or None. Steps at or before `after`
    (the last accepted one) never match, so a code cannot be used twice."""
    typed = code.replace(" ", "")
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(now)
    found = None
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        # Every candidate is compared, in constant time, so timing says nothing about which one matched.
        if hmac.compare_digest(totp.generate_otp(step).encode(), typed.encode()) and (after is None or step > after):
            found = step
    return found
