"""The emulator base every ``addons/<name>/sandbox.py`` stands on.

An add-on's emulator is a Flask app that speaks its remote's wire format. What every
emulator needs besides is here, the same for all:

* **mounting** under ``/sandbox/<name>`` (:func:`mount_path`, used by
  :mod:`core.sandboxes` with ``OMS_SANDBOXES=1``);
* an **injectable clock** (:class:`ManualClock` in tests: ``sleep`` advances it instead of
  waiting; :class:`SystemClock` otherwise);
* **request recording** for tests: ``kit.calls`` (method, path) and ``kit.requests``
  (method, path, JSON body) of every request but the control ones;
* **misbehaviour on demand**, so every emulator can be told to fail the same way:
  ``kit.fail_next(429, times=2, retry_after=3)``, ``kit.fail_next(500)``,
  ``kit.fail_next("timeout", hang=2)`` (the answer is held ``hang`` seconds, then a 504: a
  client with a shorter read timeout sees a timeout), optionally for paths starting with a
  prefix; ``kit.limit(rate, burst)`` enforces a rate limit (429 with ``Retry-After`` once
  the bucket is empty). Over HTTP too: ``POST /_emulator/faults`` with
  ``{"status": 429, "times": 2, "path": "/x", "retry_after": 3, "hang": 2}``, ``DELETE``
  to clear, ``GET /_emulator/calls`` for the recorded calls.

The error body of a fault is the remote's own (``error_body(status)``, given by the
add-on), so a client meets the same shape it meets in production.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request

MOUNT_PREFIX = "/sandbox"
CONTROL_PREFIX = "/_emulator/"


def mount_path(name: str) -> str:
    """Where the demo mounts an add-on's emulator."""
    return f"{MOUNT_PREFIX}/{name}"


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ManualClock:
    """A clock tests move by hand: ``sleep`` advances it instead of waiting."""

    def __init__(self, start: float | None = None) -> None:
        self.now = start if start is not None else time.time()
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self.now

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@dataclass
class Fault:
    """One misbehaviour waiting for a request: ``status`` an HTTP status or ``"timeout"``."""

    status: int | str
    times: int = 1
    path: str = ""
    after: int = 0
    retry_after: float | None = None
    hang: float = 2.0


def default_error_body(status: int) -> dict[str, Any]:
    return {"error": {429: "too_many_requests", 504: "gateway_timeout"}.get(status, "server_error"),
            "status": status}


class EmulatorKit:
    """What an emulator shares with the others; :meth:`attach` it to the emulator's app."""

    def __init__(self, name: str, *, clock: Any = None,
                 error_body: Callable[[int], Any] = default_error_body,
                 calls: list[tuple[str, str]] | None = None,
                 requests: list[tuple[str, str, Any]] | None = None) -> None:
        self.name = name
        self.clock = clock or SystemClock()
        self.error_body = error_body
        self.calls: list[tuple[str, str]] = calls if calls is not None else []
        self.requests: list[tuple[str, str, Any]] = requests if requests is not None else []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self._bucket: tuple[float, float, str] | None = None  # rate, burst, path
        self._tokens = 0.0
        self._stamp = 0.0
        self._released = threading.Event()

    # ------------------------------------------------------------------ telling it to misbehave
    def fail_next(self, status: int | str, *, times: int = 1, path: str = "", after: int = 0,
                  retry_after: float | None = None, hang: float = 2.0) -> None:
        """The next ``times`` requests (under ``path``, after ``after`` normal answers)
        answer ``status``: 429 (with ``Retry-After``), a 5xx, or ``"timeout"``."""
        if status != "timeout" and not (isinstance(status, int) and 400 <= status <= 599):
            raise ValueError(f"unsupported fault: {status!r}")
        with self.lock:
            self.faults.append(Fault(status, times, path, after, retry_after, hang))
            self._released.clear()

    def limit(self, rate: float, burst: int, *, path: str = "") -> None:
        """A token bucket of ``burst`` requests refilled at ``rate`` per second (on the clock)."""
        with self.lock:
            self._bucket = (rate, float(burst), path)
            self._tokens, self._stamp = float(burst), self.clock.monotonic()

    def reset(self) -> None:
        """Behave again: faults and limit cleared, held requests released."""
        with self.lock:
            self.faults.clear()
            self._bucket = None
        self._released.set()

    # ------------------------------------------------------------------ the request path
    def _due_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not path.startswith(fault.path):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _throttled(self, path: str) -> float | None:
        """Seconds to wait when the rate limit refuses this request, else None."""
        with self.lock:
            if self._bucket is None or not path.startswith(self._bucket[2]):
                return None
            rate, burst, _path = self._bucket
            now = self.clock.monotonic()
            self._tokens = min(burst, self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            return (1 - self._tokens) / rate if rate > 0 else 60.0

    def _answer(self, status: int, retry_after: float | None = None) -> Response:
        response = jsonify(self.error_body(status))
        response.status_code = status
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(retry_after)))
        return response

    def before_request(self) -> Response | None:
        path = request.path
        if path.startswith(CONTROL_PREFIX):
            return None
        self.calls.append((request.method, path))
        self.requests.append((request.method, path, request.get_json(silent=True)))
        fault = self._due_fault(path)
        if fault is not None:
            if fault.status == "timeout":
                self._released.wait(fault.hang)
                return self._answer(504)
            assert isinstance(fault.status, int)
            return self._answer(fault.status, fault.retry_after if fault.status == 429 else None)
        wait = self._throttled(path)
        if wait is not None:
            return self._answer(429, wait)
        return None

    # ------------------------------------------------------------------ wiring
    def attach(self, app: Flask) -> Flask:
        """Record every request of ``app``, misbehave on demand, and serve the control
        routes; runs before the emulator's own request hooks."""
        app.before_request_funcs.setdefault(None, []).insert(0, self.before_request)
        app.extensions["emulator"] = self

        def faults() -> Any:
            if request.method == "DELETE":
                self.reset()
                return "", 204
            spec = request.get_json(silent=True) or {}
            try:
                self.fail_next(spec.get("status", 500), times=int(spec.get("times", 1)), path=str(spec.get("path", "")),
                               after=int(spec.get("after", 0)), retry_after=spec.get("retry_after"),
                               hang=float(spec.get("hang", 2.0)))
            except (TypeError, ValueError) as exc:
                return jsonify({"error": str(exc)}), 400
            return "", 204

        def calls() -> Any:
            return jsonify({"calls": [list(c) for c in self.calls]})

        app.add_url_rule(f"{CONTROL_PREFIX}faults", "emulator_faults", faults, methods=["POST", "DELETE"])
        app.add_url_rule(f"{CONTROL_PREFIX}calls", "emulator_calls", calls, methods=["GET"])
        return app


def kit_of(app: Any) -> EmulatorKit:
    """The kit attached to an emulator's Flask app."""
    return app.extensions["emulator"]
