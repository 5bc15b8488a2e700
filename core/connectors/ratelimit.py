"""Client-side token buckets, one per (remote, account or shop, operation).

Remotes limit each operation with a token bucket (rate per second, burst). Every worker of
the OMS draws from the same buckets, through a pluggable store:

* :class:`RedisBuckets` when ``REDIS_URL`` is set (one atomic Lua script per acquire);
* PostgreSQL otherwise (:class:`core.ratelimit.DbRateLimiter`, a compare-and-set per
  acquire in a short transaction of its own), so that every process of an installation
  without Redis shares one bucket;
* :class:`LocalBuckets` on SQLite, the one-machine default: SQLite has one writer at a time,
  so a bucket write beside a caller's open write transaction would wait for it. The embedded
  job runner holds a lease (one runner per installation), so the jobs that call remotes draw
  from one process's buckets anyway;
* any object with the :class:`BucketStore` methods, set as ``app.config["RATE_BUCKETS"]``.

``acquire`` takes a token now or *reserves* the next one and says how long to wait for it, so
concurrent workers queue up instead of all firing when the bucket refills. The time comes
from an injectable clock (anything with ``time()``) and is passed to Redis, so a simulated
clock drives the Redis buckets too.
"""
from __future__ import annotations

import threading
import time
from typing import Protocol

from flask import Flask

from core.extensions import db
from core.ratelimit import DbRateLimiter

#: buckets idle for this long are forgotten (they are full again by then)
IDLE_TTL = 24 * 3600


class TimeSource(Protocol):
    def time(self) -> float: ...


class SystemTime:
    def time(self) -> float:
        return time.time()


def bucket_key(remote: str, account: str | int, operation: str) -> str:
    """``remote:account:operation``: the account is whatever the remote counts per (a shop,
    a seller id with its application)."""
    return f"{remote}:{account}:{operation}"


class BucketStore(Protocol):
    def acquire(self, key: str, rate: float, burst: int, max_wait: float) -> float:
        """Take one token. Returns 0 when one is available now, else the wait (seconds)
        before the reserved token may be used. A wait above ``max_wait`` is returned
        without reserving anything."""

    def set_rate(self, key: str, rate: float) -> None:
        """Use ``rate`` (announced by the remote) from now on."""

    def rate(self, key: str, default: float) -> float:
        """The rate in force for ``key``."""

    def available(self, key: str, rate: float, burst: int) -> float:
        """Tokens in the bucket now (negative when waits are reserved), without taking any."""

    def drain(self, key: str) -> None:
        """The remote answered 429: its bucket is empty, so ours is too."""


class LocalBuckets:
    """Buckets of this process (no Redis configured)."""

    def __init__(self, clock: TimeSource | None = None) -> None:
        self.clock = clock or SystemTime()
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._rates: dict[str, float] = {}
        self._shapes: dict[str, tuple[float, int]] = {}  # key -> (documented rate, burst)

    def _refill(self, key: str, rate: float, burst: int, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(burst), now))
        if now > at:
            tokens = min(float(burst), tokens + (now - at) * rate)
        return tokens

    def acquire(self, key: str, rate: float, burst: int, max_wait: float) -> float:
        with self._lock:
            now = self.clock.time()
            self._shapes[key] = (rate, burst)
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
            now = self.clock.time()
            tokens, at = self._buckets.get(key, (0.0, now))
            if key in self._shapes:  # what refilled since the last call, then emptied
                rate, burst = self._shapes[key]
                tokens = self._refill(key, self._rates.get(key, rate), burst, now)
            self._buckets[key] = (min(tokens, 0.0), max(at, now))


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
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at), 'burst', tostring(burst),
           'base', tostring(ARGV[1]))
redis.call('EXPIRE', key, ttl)
if take == 1 then return tostring(wait) end
return tostring(tokens)
"""

_DRAIN = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local state = redis.call('HMGET', key, 'tokens', 'at', 'rate', 'base', 'burst')
local tokens = tonumber(state[1] or '0')
local at = tonumber(state[2] or ARGV[1])
local rate = tonumber(state[3] or state[4] or '0')
if state[5] and now > at then tokens = math.min(tonumber(state[5]), tokens + (now - at) * rate) end
if tokens > 0 then tokens = 0 end
if now > at then at = now end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('EXPIRE', key, tonumber(ARGV[2]))
return 1
"""


class RedisBuckets:
    """Buckets shared by every worker through Redis; each acquire is one atomic script."""

    def __init__(self, redis, clock: TimeSource | None = None, prefix: str = "oms:rl:") -> None:
        self.redis = redis
        self.clock = clock or SystemTime()
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


def buckets_for(app: Flask, clock: TimeSource | None = None, *, name: str = "default",
                prefix: str = "oms:rl:") -> BucketStore:
    """The app's bucket store for ``name`` (one per clock user): ``RATE_BUCKETS`` when the
    operator plugs one in, Redis when ``REDIS_URL`` is set, else PostgreSQL's
    (:class:`core.ratelimit.DbRateLimiter`), so that every process of an installation without
    Redis draws from the same buckets; on SQLite, this process's (see the module's notes)."""
    ext = app.extensions.setdefault("oms_rate_buckets", {})
    if name not in ext:
        configured = app.config.get("RATE_BUCKETS")
        if configured is not None:
            ext[name] = configured(clock) if callable(configured) and not hasattr(configured, "acquire") \
                else configured
        elif app.config.get("REDIS_URL"):
            from redis import Redis

            ext[name] = RedisBuckets(Redis.from_url(app.config["REDIS_URL"]), clock, prefix)
        elif db.engine.dialect.name == "postgresql":
            ext[name] = DbRateLimiter(clock)
        else:
            ext[name] = LocalBuckets(clock)
    return ext[name]
