"""What the add-on's jobs share inside one app: the clock, the rate limiter (Redis when
``REDIS_URL`` is set) and the clients built from a shop's settings.

Configuration keys (all optional):

- ``AMAZON_CLOCK``: an object with ``time()`` and ``sleep()`` (default: the system clock);
- ``AMAZON_MAX_RATE_WAIT``: seconds a job may wait (for a rate-limit token, a report being
  prepared) before it hands over to a delayed run of itself (default 60 with RQ workers; 5
  with the embedded runner, whose single thread serves every shop and must not sleep);
- ``AMAZON_MAX_RETRIES``: retries of a call answered 429 or 5xx (default 8);
- ``AMAZON_HTTP``: an ``httpx.Client`` to send the calls with (default: the connector kit's
  pool for the shop);
- ``AMAZON_STATS``: a ``client.CallStats`` every client adds its calls to (measurements).
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from .client import SellingPartnerClient
from .clock import Clock, SystemClock
from core.connectors.ratelimit import buckets_for

from .ratelimit import PREFIX, RateLimiter

DEFAULT_MAX_WAIT = 60.0
#: the embedded runner (no Redis) runs every job in one thread: hand over rather than sleep
EMBEDDED_MAX_WAIT = 5.0


def clock() -> Clock:
    ext = current_app.extensions
    if "amazon_clock" not in ext:
        ext["amazon_clock"] = current_app.config.get("AMAZON_CLOCK") or SystemClock()
    return ext["amazon_clock"]


def limiter() -> RateLimiter:
    return buckets_for(current_app, clock(), name="amazon", prefix=PREFIX)


def max_wait() -> float:
    default = EMBEDDED_MAX_WAIT if current_app.config.get("JOBS_MODE") == "thread" else DEFAULT_MAX_WAIT
    return float(current_app.config.get("AMAZON_MAX_RATE_WAIT", default))


def client_from_settings(settings: dict[str, Any], timeout: float | None = None) -> SellingPartnerClient:
    """The shop's SP-API client; ``timeout`` makes it the diagnostic's: that timeout, no wait
    for a quota and no retry."""
    limits: dict[str, Any] = {"max_wait": max_wait(),
                              "max_retries": int(current_app.config.get("AMAZON_MAX_RETRIES", 8))}
    if timeout:
        limits = {"timeout": timeout, "max_wait": 0.0, "max_retries": 0}
    return SellingPartnerClient(client_id=settings.get("lwa_client_id") or "",
                                client_secret=settings.get("lwa_client_secret") or "",
                                refresh_token=settings.get("refresh_token") or "",
                                region=settings.get("region") or "eu",
                                base_url=settings.get("api_base_url") or None,
                                token_url=settings.get("token_url") or None,
                                seller_id=settings.get("selling_partner_id") or "",
                                clock=clock(), limiter=limiter(),
                                http=current_app.config.get("AMAZON_HTTP"),
                                stats=current_app.config.get("AMAZON_STATS"), **limits)


def client_for(shop) -> SellingPartnerClient:
    return client_from_settings(shop.addon_settings("amazon"))


def marketplaces(shop) -> list[str]:
    """The marketplaces the merchant chose for this shop (settings), in their order."""
    return [m for m in (shop.addon_settings("amazon").get("marketplaces") or []) if m]
