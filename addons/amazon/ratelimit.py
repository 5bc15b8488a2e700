"""Client-side token buckets, one per (application, seller, operation).

Amazon limits each operation per selling-partner account and application with a token
bucket (rate, burst). Every worker of the OMS draws from the same buckets: in Redis (an
atomic Lua script) when ``REDIS_URL`` is set, in the process otherwise. ``acquire`` takes a
token now or *reserves* the next one and says how long to wait for it, so concurrent
workers queue up instead of all firing when the bucket refills. The time comes from an
injectable clock and is passed to Redis, so a simulated clock drives the Redis buckets too.
"""
from __future__ import annotations

import threading
from typing import Protocol

from .clock import Clock

#: buckets idle for this long are forgotten (they are full again by then)
IDLE_TTL = 24 * 3600


class RateLimiter(Protocol):
    def acquire(self, key: str, rate: float, burst: int, max_wait: float) -> float:
        """Take one token. Returns 0 when one is available now, else the wait (seconds)
        before the reserved token may be used. A wait above ``max_wait`` is returned
        without reserving anything."""

    def set_rate(self, key: str, rate: float) -> None:
        """Use ``rate`` (announced by Amazon in ``x-amzn-RateLimit-Limit``) from now on."""

    def rate(self, key: str, default: float) -> float:
        """The rate in force for ``key``."""

    def available(self, key: str, rate: float, burst: int) -> float:
        """Tokens in the bucket now (negative when waits are reserved), without taking any."""

    def drain(self, key: str) -> None:
        """Amazon answered 429: its bucket is empty, so ours is too."""


class LocalRateLimiter:
    """Buckets of this process (no Redis configured)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._rates: dict[str, float] = {}

    def _refill(self, key: str, rate: float, burst: int, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(burst), now))
        if now > at:
            tokens = min(float(burst), tokens + (now - at) * rate)
        return tokens

    def acquire(self, key: str, rate: float, burst: int, max_wait: float) -> float:
        with self._lock:
            now = self.clock.time()
            rate = self._rates.get(key, rate)
            tokens = self._refill(key, rate, burst, now)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            if wait > max_wait:
                self._buckets[key] = (tokens, now)
                return wait
            self._buckets[key] = (tokens - 1, now)
            return wait

    def set_rate(self, key: str, rate: float) -> None:
        if rate > 0:
            with self._lock:
                self._rates[key] = rate

    def rate(self, key: str, default: float) -> float:
        return self._rates.get(key, default)

    def available(self, key: str, rate: float, burst: int) -> float:
        with self._lock:
            return self._refill(key, self._rates.get(key, rate), burst, self.clock.time())

    def drain(self, key: str) -> None:
        with self._lock:
            tokens, at = self._buckets.get(key, (0.0, self.clock.time()))
            self._buckets[key] = (min(tokens, 0.0), max(at, self.clock.time()))


_ACQUIRE = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local take = tonumber(ARGV[6])
local state = redis.call('HMGET', key, 'tokens', 'at', 'rate')
if state[3] then rate = tonumber(state[3]) end
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then tokens = burst; at = now end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
  at = now
end
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate end
if take == 1 and wait <= max_wait then tokens = tokens - 1 end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('EXPIRE', key, ttl)
if take == 1 then return tostring(wait) end
return tostring(tokens)
"""

_DRAIN = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local tokens = tonumber(redis.call('HGET', key, 'tokens') or '0')
local at = tonumber(redis.call('HGET', key, 'at') or ARGV[1])
if tokens > 0 then tokens = 0 end
if now > at then at = now end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('EXPIRE', key, tonumber(ARGV[2]))
return 1
"""


class RedisRateLimiter:
    """Buckets shared by every worker through Redis; each acquire is one atomic script."""

    def __init__(self, redis, clock: Clock, prefix: str = "oms:amazon:rl:") -> None:
        self.redis = redis
        self.clock = clock
        self.prefix = prefix
        self._script = redis.register_script(_ACQUIRE)
        self._drain = redis.register_script(_DRAIN)

    def _run(self, key: str, rate: float, burst: int, max_wait: float, take: bool) -> float:
        out = self._script(keys=[self.prefix + key],
                           args=[repr(float(rate)), burst, repr(self.clock.time()), repr(float(max_wait)),
                                 IDLE_TTL, 1 if take else 0])
        return float(out.decode() if isinstance(out, bytes) else out)

    def acquire(self, key: str, rate: float, burst: int, max_wait: float) -> float:
        return self._run(key, rate, burst, max_wait, take=True)

    def set_rate(self, key: str, rate: float) -> None:
        if rate > 0:
            self.redis.hset(self.prefix + key, "rate", repr(float(rate)))
            self.redis.expire(self.prefix + key, IDLE_TTL)

    def rate(self, key: str, default: float) -> float:
        raw = self.redis.hget(self.prefix + key, "rate")
        return float(raw) if raw else default

    def available(self, key: str, rate: float, burst: int) -> float:
        return self._run(key, rate, burst, 0.0, take=False)

    def drain(self, key: str) -> None:
        self._drain(keys=[self.prefix + key], args=[repr(self.clock.time()), IDLE_TTL])
