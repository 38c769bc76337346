"""Rate limiting for the sensitive auth routes, keyed on the real client address."""

from __future__ import annotations

from collections.abc import Callable
from time import time

from litestar import Request
from litestar.middleware.rate_limit import CacheObject, RateLimitConfig, RateLimitMiddleware

from app.core.client_address import client_address_resolver, rate_limit_key
from app.settings import Settings

STORE_NAME = "rate_limit"


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
    )
