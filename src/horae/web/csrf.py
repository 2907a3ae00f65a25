"""CSRF protection for every form: a per-session token in a hidden field, compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request


def token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    value = request.session.get("csrf")
    if not isinstance(value, str):
        value = secrets.token_urlsafe(32)
        request.session["csrf"] = value
    return value


def valid(request: Request, submitted: str) -> bool:
    """Whether a form carries this session's token (a missing or foreign one fails)."""
    expected = request.session.get("csrf")
    return isinstance(expected, str) and hmac.compare_digest(expected.encode(), (submitted or "").encode())
