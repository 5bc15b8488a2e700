"""Clocks: the system clock in production, a simulated one for the emulator, the tests and
the benchmark. Everything in the add-on that waits or reads the time goes through one."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""


class SystemClock:
    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class SimulatedClock:
    """A clock that only moves when told: ``sleep`` advances it at once, so rate-limit
    waits of hours cost no real time."""

    def __init__(self, start: float | datetime) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._lock = threading.Lock()
        self.slept = 0.0

    def time(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._now += seconds
                self.slept += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, when: float | datetime) -> None:
        value = when.timestamp() if isinstance(when, datetime) else float(when)
        with self._lock:
            self._now = max(self._now, value)


def as_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def iso(value: float | datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second, as the SP-API writes dates."""
    dt = as_datetime(value) if isinstance(value, (int, float)) else value.astimezone(timezone.utc)
    return dt.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)
