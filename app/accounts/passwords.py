"""Password hashing (Argon2id) and strength checks (zxcvbn, which knows the common passwords)."""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.errors import WeakPassword

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_ZXCVBN_SCORE = 3


class Passwords:
    def __init__(self, memory_cost_kib: int = 65536, time_cost: int = 3) -> None:
        self._hasher = PasswordHasher(memory_cost=memory_cost_kib, time_cost=time_cost, parallelism=1)
        # Verified when the email is unknown, so both paths cost the same time.
        self._decoy_hash = self._hasher.hash("decoy password that never matches")

    # Argon2 and zxcvbn take tens of milliseconds of CPU: they run in a worker thread so that one
    # sign-in does not stall every other request of the process.
    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await anyio.to_thread.run_sync(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy_hash, password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    @staticmethod
    async def check_strength(password: str, *, user_inputs: list[str]) -> None:
        await anyio.to_thread.run_sync(lambda: _check_strength(password, user_inputs))


def _check_strength(password: str, user_inputs: list[str]) -> None:
    # Imported on first use: zxcvbn's dictionaries hold ~12 MiB per process, for registrations and
    # password changes only.
    from zxcvbn import zxcvbn

    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    verdict = zxcvbn(password[:100], user_inputs=user_inputs)
    if verdict["score"] < MIN_ZXCVBN_SCORE:
        feedback = verdict["feedback"]
        hints = " ".join([feedback.get("warning") or "", *feedback.get("suggestions", [])]).strip()
        raise WeakPassword(hints or "This password is too easy to guess.")
