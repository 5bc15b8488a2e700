"""Client-side token buckets, one per (application, seller, operation).

Amazon limits each operation per selling-partner account and application with a token
bucket (rate, burst). The buckets are core's connector kit's (``core.connectors.ratelimit``):
in Redis when ``REDIS_URL`` is set, in the process otherwise; this module keeps the names the
add-on uses and Amazon's key prefix.
"""
from __future__ import annotations

from core.connectors.ratelimit import IDLE_TTL, BucketStore, LocalBuckets, RedisBuckets

from .clock import Clock

RateLimiter = BucketStore
LocalRateLimiter = LocalBuckets
PREFIX = "oms:amazon:rl:"

__all__ = ["IDLE_TTL", "LocalRateLimiter", "PREFIX", "RateLimiter", "RedisRateLimiter"]


class RedisRateLimiter(RedisBuckets):
    """Buckets shared by every worker through Redis, under Amazon's prefix."""

    def __init__(self, redis, clock: Clock, prefix: str = PREFIX) -> None:
        super().__init__(redis, clock, prefix)
