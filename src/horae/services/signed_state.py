"""Short-lived signed tokens for links and OAuth `state`: a JSON body and an HMAC-SHA256, URL-safe, with an
expiry, so a link names who started it and cannot be forged or replayed into another account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

from horae.domain import ids
from horae.ports import Clock


class SignedState:
    def __init__(self, key: bytes, clock: Clock, lifetime: timedelta) -> None:
        self._key = key
        self._clock = clock
        self._lifetime = lifetime

    def sign(self, data: dict[str, Any]) -> str:
        body = {**data, "exp": (self._clock.now() + self._lifetime).timestamp(), "n": ids.new_token(8)}
        text = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
        return f"{text}.{self._mac(text)}"

    def read(self, token: str) -> dict[str, Any] | None:
        """The signed data, or None when the token was altered, is malformed or has expired."""
        text, _, mac = token.partition(".")
        if not hmac.compare_digest(self._mac(text), mac):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except ValueError:
            return None
        if not isinstance(data, dict) or float(data.get("exp", 0)) < self._clock.now().timestamp():
            return None
        return data

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
