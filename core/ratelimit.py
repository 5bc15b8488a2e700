"""Token buckets shared by every process through the database, for installations without
Redis (the Redis buckets of a connector stay the choice when ``REDIS_URL`` is set).

:class:`DbRateLimiter` has the interface of the connectors' limiters: ``acquire`` takes a
token now or *reserves* the next one and says how long to wait for it (a wait above
``max_wait`` is returned without reserving anything), ``set_rate`` records the rate a
remote announced, ``drain`` empties a bucket after a 429. Each change is a compare-and-set
``UPDATE`` on the bucket's row in a short transaction of its own (never the caller's), so
concurrent processes and threads draw from one bucket and never lose a token; time comes
from an injectable clock (``clock.time()``), so a simulated clock drives these buckets too.
"""
from __future__ import annotations

import time
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .extensions import db
from .models import RateBucket


class Clock(Protocol):
    def time(self) -> float: ...


class WallClock:
    def time(self) -> float:
        return time.time()


class DbRateLimiter:
    """Buckets in the ``rate_bucket`` table, keyed like the Redis ones."""

    def __init__(self, clock: Clock | None = None, engine=None, attempts: int = 50) -> None:
        self.clock = clock or WallClock()
        self._engine = engine
        self.attempts = attempts

    @property
    def engine(self):
        return self._engine or db.engine

    def _session(self) -> Session:
        return Session(self.engine)

    def _row(self, s: Session, key: str, burst: float, now: float) -> RateBucket:
        row = s.get(RateBucket, key, populate_existing=True)
        if row is None:
            ins = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
            s.execute(ins(RateBucket).values(key=key, tokens=float(burst), at=now, rate=None)
                      .on_conflict_do_nothing(index_elements=["key"]))
            s.commit()
            row = s.get(RateBucket, key, populate_existing=True)
        return row

    def _swap(self, key: str, burst: float, change) -> float:
        """Read the bucket, compute (tokens, at, answer) with ``change``, write it only if
        nobody wrote in between; again until it sticks."""
        with self._session() as s:
            for _ in range(self.attempts):
                now = self.clock.time()
                row = self._row(s, key, burst, now)
                old_tokens, old_at, rate = row.tokens, row.at, row.rate
                tokens, at, answer = change(old_tokens, old_at, rate, now)
                done = s.execute(update(RateBucket).where(
                    RateBucket.key == key, RateBucket.tokens == old_tokens, RateBucket.at == old_at)
                    .values(tokens=tokens, at=at).execution_options(synchronize_session=False)).rowcount
                s.commit()
                if done:
                    return answer
            raise RuntimeError(f"rate bucket {key}: too much contention")

    @staticmethod
    def _refill(tokens: float, at: float, rate: float, burst: float, now: float) -> tuple[float, float]:
        if now > at:
            return min(float(burst), tokens + (now - at) * rate), now
        return tokens, at

    def acquire(self, key: str, rate: float, burst: int, max_wait: float) -> float:
        def change(tokens, at, stored_rate, now):
            r = stored_rate or rate
            tokens, at = self._refill(tokens, at, r, burst, now)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / r
            if wait > max_wait:
                return tokens, at, wait
            return tokens - 1, at, wait

        return self._swap(key, burst, change)

    def set_rate(self, key: str, rate: float) -> None:
        if rate <= 0:
            return
        with self._session() as s:
            self._row(s, key, 1, self.clock.time())
            s.execute(update(RateBucket).where(RateBucket.key == key).values(rate=rate))
            s.commit()

    def rate(self, key: str, default: float) -> float:
        with self._session() as s:
            stored = s.scalar(select(RateBucket.rate).where(RateBucket.key == key))
        return stored or default

    def available(self, key: str, rate: float, burst: int) -> float:
        with self._session() as s:
            row = s.get(RateBucket, key)
            if row is None:
                return float(burst)
            return self._refill(row.tokens, row.at, row.rate or rate, burst, self.clock.time())[0]

    def drain(self, key: str) -> None:
        def change(tokens, at, stored_rate, now):
            return min(tokens, 0.0), max(at, now), None

        self._swap(key, 0, change)
