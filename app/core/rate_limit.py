"""Rate limits on the auth routes that stop guessing without locking a room out.

Owns three limits, kept in the "rate_limit" store (PostgreSQL, or Redis when configured, so every
process shares them):

* per address, every auth request but sign-in, refresh and sign-out (Litestar's middleware): a
  ceiling on registrations, resets and verifications from one address;
* sign-in failures: per account (the normalised address typed, whether or not it exists), a few
  free failures then an exponential backoff, whatever the addresses they come from; and per client
  address, a ceiling on failures high enough that a venue's members behind one Wi-Fi address stay
  under it (successful sign-ins never count);
* refresh per session: a runaway client rotating its tokens in a loop is slowed, nobody else.

Sign-out is never limited. Never decides whether credentials are right: the accounts service does,
and tells this module the outcome. Counters are read and written without a lock: two processes
racing may both let one extra attempt through, which the backoff absorbs.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from time import time
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import CacheObject, RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store

from app.core.client_address import client_address_resolver, rate_limit_key
from app.core.errors import AppError
from app.settings import Settings

STORE_NAME = "rate_limit"
# Handlers with this key in their `opt` are left to the limits below instead of the address ceiling.
OWN_LIMITS = "own_rate_limits"


class RateLimited(AppError):
    status_code = 429
    slug = "rate-limited"
    title = "Too many requests: slow down"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class RetryAfterRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's middleware, plus the standard Retry-After header when the limit is reached."""

    def create_response_headers(self, cache_object: CacheObject) -> dict[str, str]:
        headers = super().create_response_headers(cache_object)
        if len(cache_object.history) >= self.max_requests:
            headers["Retry-After"] = str(max(1, cache_object.reset - int(time())))
        return headers


def _limited_identity(resolve: Callable[[Request], str]) -> Callable[[Request], str]:
    return lambda request: rate_limit_key(resolve(request))


def auth_rate_limit(settings: Settings) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", settings.auth_rate_limit_per_minute),
        store=STORE_NAME,
        identifier_for_request=_limited_identity(client_address_resolver(settings.trusted_proxies)),
        middleware_class=RetryAfterRateLimitMiddleware,
        exclude_opt_key=OWN_LIMITS,
    )


@dataclass
class _Window:
    """A count of events since `started`, and for accounts the time before which tries are refused."""

    count: int = 0
    started: float = 0.0
    blocked_until: float = 0.0

    @classmethod
    def load(cls, raw: bytes | None) -> _Window:
        if not raw:
            return cls()
        data: dict[str, Any] = json.loads(raw)
        return cls(float(data.get("c", 0)), float(data.get("s", 0)), float(data.get("b", 0)))  # type: ignore[arg-type]

    def dump(self) -> str:
        return json.dumps({"c": self.count, "s": self.started, "b": self.blocked_until})


def _hashed(value: str) -> str:
    # Addresses typed at sign-in are personal data: the store keeps a digest, not the address.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class AuthLimits:
    """The sign-in and refresh limits; `store` is looked up at each call (the app registers it at startup)."""

    def __init__(self, settings: Settings, store: Callable[[], Store], *, clock: Callable[[], float] = time) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._resolve = client_address_resolver(settings.trusted_proxies)

    def address(self, request: Request[Any, Any, Any]) -> str:
        return rate_limit_key(self._resolve(request))

    async def _get(self, key: str) -> _Window:
        return _Window.load(await self._store().get(key))

    async def _put(self, key: str, window: _Window, ttl: int) -> None:
        await self._store().set(key, window.dump(), expires_in=max(1, ttl))

    # sign-in

    async def check_sign_in(self, account_key: str, address: str) -> None:
        """Refuse before the password is even checked when the account is backing off or the address
        has failed too often."""
        now = self._clock()
        account = await self._get(f"account:{_hashed(account_key)}")
        if account.blocked_until > now:
            raise RateLimited(
                "Too many wrong passwords for this account: wait before trying again.",
                retry_after=math.ceil(account.blocked_until - now),
            )
        window = self._settings.sign_in_address_window_seconds
        by_address = await self._get(f"address-failures:{address}")
        if by_address.started + window > now and by_address.count >= self._settings.sign_in_address_failures:
            raise RateLimited(
                "Too many failed sign-ins from your network: wait before trying again.",
                retry_after=math.ceil(by_address.started + window - now),
            )

    async def sign_in_failed(self, account_key: str, address: str) -> None:
        now = self._clock()
        settings = self._settings
        key = f"account:{_hashed(account_key)}"
        account = await self._get(key)
        if account.started + settings.sign_in_account_window_seconds <= now:
            account = _Window(started=now)
        account.count += 1
        over = account.count - settings.sign_in_free_failures
        if over >= 0:
            # 1 s, 2 s, 4 s... up to the cap: guessing slows to a crawl, the owner waits seconds.
            account.blocked_until = now + min(2.0**over, settings.sign_in_max_backoff_seconds)
        await self._put(key, account, settings.sign_in_account_window_seconds + settings.sign_in_max_backoff_seconds)

        address_key = f"address-failures:{address}"
        by_address = await self._get(address_key)
        if by_address.started + settings.sign_in_address_window_seconds <= now:
            by_address = _Window(started=now)
        by_address.count += 1
        await self._put(address_key, by_address, settings.sign_in_address_window_seconds)

    async def sign_in_succeeded(self, account_key: str) -> None:
        await self._store().delete(f"account:{_hashed(account_key)}")

    # refresh

    async def refreshed(self, session_key: str) -> None:
        now = self._clock()
        key = f"refresh:{session_key}"
        window = await self._get(key)
        if window.started + 60 <= now:
            window = _Window(started=now)
        if window.count >= self._settings.refresh_per_session_per_minute:
            raise RateLimited(
                "This session refreshes too often: wait before refreshing again.",
                retry_after=math.ceil(window.started + 60 - now),
            )
        window.count += 1
        await self._put(key, window, 60)
