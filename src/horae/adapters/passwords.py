"""argon2id password hashing."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2PasswordHasher:
    """argon2id with configurable cost (tests lower it; production keeps the library defaults)."""

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536) -> None:
        # argon2 needs at least 8 KiB per lane; tiny test settings use a single lane.
        lanes = max(1, min(4, memory_cost // 8))
        self._hasher = _Argon2(time_cost=time_cost, memory_cost=memory_cost, parallelism=lanes)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError, UnicodeEncodeError):  # a corrupt hash is a failed login
            return False

    def needs_rehash(self, hashed: str) -> bool:
        return self._hasher.check_needs_rehash(hashed)
