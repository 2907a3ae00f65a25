"""Identifier and secret formats: Cronofy-style prefixed ids and URL-safe random tokens."""

from __future__ import annotations

import hashlib
import secrets
import string

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A new public id such as `acc_5ba21743f408617d1269ea1e` (24 hex digits after the prefix)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def new_token(nbytes: int = 32) -> str:
    """A bearer token: URL-safe (no `+ / = & #`) so it can travel unencoded in a query string."""
    return secrets.token_urlsafe(nbytes)


def new_client_id() -> str:
    """A 32-character alphanumeric OAuth client id."""
    return "".join(secrets.choice(_ALNUM) for _ in range(32))


def new_client_secret() -> str:
    """A client secret in Cronofy's `CRN_...` form; URL-safe."""
    return f"CRN_{secrets.token_urlsafe(30)}"


def new_authorization_code() -> str:
    """A single-use authorization code of 32 ASCII characters, as Cronofy documents."""
    return "".join(secrets.choice(_ALNUM) for _ in range(32))


def digest(token: str) -> str:
    """The SHA-256 hex digest under which a bearer secret is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()
