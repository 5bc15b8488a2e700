"""The connector kit's HTTP client: one pooled connection set per (shop, remote), timeouts,
retries with backoff, redacted logs.

Retries use tenacity (a maintained library whose wait, stop and sleep are pluggable, so an
add-on's simulated clock drives them in tests):

* retried: network errors, and the statuses of :attr:`RetryPolicy.statuses` (429 and 5xx);
* the wait is the remote's ``Retry-After`` when it sends one, else an exponential backoff
  with jitter (``base`` doubling, capped at ``cap``);
* a request whose method is not idempotent (``POST``, ``PATCH``) is sent again only when
  the caller says it is safe: ``idempotent=True`` or an ``Idempotency-Key`` header. A
  connection that could not even be opened is retried for every method (nothing was sent);
* the total time slept for one request is bounded by ``max_wait``: a job hands back to the
  queue with a retryable :class:`RemoteError` rather than sleeping minutes in a worker.

Every exchange is logged on the ``oms.connectors.<remote>`` logger: method, URL (secret
query parameters masked), status and time at INFO, headers and body excerpts (secrets
masked) at DEBUG, each retry at WARNING.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, retry_if_result, stop_after_attempt

from . import redact
from .errors import RemoteError
from .outbound import Remote
from ..i18n import _

TIMEOUT = 10.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: clients kept open at once; the least recently used one is closed beyond that
MAX_POOLED = 256


@dataclass(frozen=True)
class RetryPolicy:
    """How one request is retried (see the module docstring)."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_wait: float = 60.0
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 500, 502, 503, 504}))


#: one try, no retry (a caller with its own retry loop, such as Shopify's cost throttling)
NO_RETRY = RetryPolicy(attempts=1, max_wait=0.0)


class TransportError(RemoteError):
    """No usable answer: the remote did not answer in time, or could not be reached."""

    def __init__(self, message: str, message_en: str, *, timeout: bool, url: str, raw: str = "") -> None:
        super().__init__(message, message_en=message_en, raw=raw, retryable=True)
        self.timeout = timeout
        self.url = url


def retry_after(res: httpx.Response) -> float | None:
    """Seconds the remote asks to wait (``Retry-After``: seconds or an HTTP date)."""
    value = (res.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# ----------------------------------------------------------------------------- pools
_pools: OrderedDict[tuple, httpx.Client] = OrderedDict()
_pools_lock = threading.Lock()


def pooled(key: tuple, factory: Callable[[], httpx.Client]) -> httpx.Client:
    """The open httpx client for ``key`` (remote, shop, ...), built once by ``factory``."""
    with _pools_lock:
        client = _pools.get(key)
        if client is not None and not client.is_closed:
            _pools.move_to_end(key)
            return client
        client = factory()
        _pools[key] = client
        while len(_pools) > MAX_POOLED:
            _old_key, old = _pools.popitem(last=False)
            old.close()
        return client


def close_pools() -> None:
    """Close every pooled client (process exit, tests)."""
    with _pools_lock:
        while _pools:
            _key, client = _pools.popitem()
            client.close()


# ----------------------------------------------------------------------------- client
class HttpClient:
    """Requests to one remote for one shop.

    ``base_url`` prefixes relative paths. ``auth`` and ``headers`` are added to every request
    and never logged in clear. ``http`` replaces the pooled client (a test's transport, a
    benchmark's client). ``sleep`` and ``rng`` drive the waits and the jitter (tests).
    ``on_retry(response_or_None, wait)`` is told of every retry (statistics).
    """

    def __init__(self, remote: Remote, base_url: str = "", *, shop_id: int | str | None = None,
                 timeout: float = TIMEOUT, retry: RetryPolicy | None = None, auth: Any = None,
                 headers: dict[str, str] | None = None, http: httpx.Client | None = None,
                 transport: httpx.BaseTransport | None = None, verify: Any = True,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
                 on_retry: Callable[[httpx.Response | None, float], None] | None = None) -> None:
        self.remote = remote
        self.base_url = base_url.rstrip("/")
        self.shop_id = shop_id
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.auth = auth
        self.headers = dict(headers or {})
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.on_retry = on_retry
        self.log = logging.getLogger(f"oms.connectors.{remote.name}")
        if http is not None:
            self.http = http
        elif transport is not None:
            self.http = httpx.Client(timeout=timeout, transport=transport, verify=verify)
        else:
            self.http = pooled((remote.name, shop_id, self.base_url, timeout),
                               lambda: httpx.Client(timeout=timeout, verify=verify,
                                                    limits=httpx.Limits(max_connections=10,
                                                                        max_keepalive_connections=5)))

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(self, method: str, path: str, *, idempotent: bool | None = None,
                retry: RetryPolicy | None = None, **kwargs: Any) -> httpx.Response:
        """Send one request with retries; return the final response, whatever its status
        (the add-on maps statuses to its sentences). Network failures that outlast the
        retries raise :class:`TransportError`."""
        method = method.upper()
        url = self.url(path)
        policy = retry or self.retry
        headers = {**self.headers, **(kwargs.pop("headers", None) or {})}
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS or any(k.lower() == "idempotency-key" for k in headers)

        def retry_exception(exc: BaseException) -> bool:
            if not isinstance(exc, httpx.HTTPError):
                return False
            return idempotent or isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))

        def retry_result(res: httpx.Response) -> bool:
            return idempotent and res.status_code in policy.statuses

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            res = None if outcome is None or outcome.failed else outcome.result()
            asked = retry_after(res) if res is not None else None
            if asked is not None:
                return asked
            backoff = min(policy.cap, policy.base * 2 ** (state.attempt_number - 1))
            return backoff / 2 + self.rng.uniform(0, backoff / 2)

        def over_budget(state: RetryCallState) -> bool:
            return state.idle_for + (state.upcoming_sleep or 0.0) > policy.max_wait

        def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            res = None if outcome is None or outcome.failed else outcome.result()
            what = res.status_code if res is not None else type(outcome.exception()).__name__
            self.log.warning("%s %s: %s, retry %d in %.2f s", method, redact.url(url), what,
                             state.attempt_number, state.upcoming_sleep, extra={"shop_id": self.shop_id})
            if self.on_retry is not None:
                self.on_retry(res, state.upcoming_sleep)

        retrying = Retrying(
            retry=retry_if_exception(retry_exception) | retry_if_result(retry_result),
            wait=wait, stop=stop_after_attempt(max(1, policy.attempts)) | over_budget,
            sleep=self.sleep, before_sleep=before_sleep,
            retry_error_callback=lambda state: state.outcome.result(), reraise=True)
        try:
            return retrying(self._send, method, url, headers, kwargs)
        except httpx.TimeoutException as exc:
            raise TransportError(_("%(label)s n'a pas répondu en %(timeout)s s.",
                                   label=self.remote.label, timeout=format(self.timeout, 'g')),
                                 f"{self.remote.label} did not answer within {self.timeout:g} s.",
                                 timeout=True, url=url, raw=str(exc)) from None
        except httpx.HTTPError as exc:
            raise TransportError(_("Impossible de joindre %(label)s : %(exc)s.",
                                   label=self.remote.label, exc=_reason(exc)),
                                 f"Could not reach {self.remote.label}: {_reason(exc, 'en')}.",
                                 timeout=False, url=url, raw=redact.text(str(exc))) from None

    def _send(self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> httpx.Response:
        started = time.monotonic()
        extra = {"shop_id": self.shop_id, "remote": self.remote.name}
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("→ %s %s headers=%s", method, redact.url(url), redact.headers(headers), extra=extra)
        try:
            res = self.http.request(method, url, headers=headers, auth=self.auth, timeout=self.timeout, **kwargs)
        except httpx.HTTPError as exc:
            self.log.info("%s %s failed after %.0f ms: %s", method, redact.url(url),
                          (time.monotonic() - started) * 1000, type(exc).__name__, extra=extra)
            raise
        self.log.info("%s %s → %s in %.0f ms", method, redact.url(url), res.status_code,
                      (time.monotonic() - started) * 1000, extra=extra)
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("← %s %s", res.status_code, redact.text(res.content), extra=extra)
        return res

    def close(self) -> None:
        self.http.close()


def _reason(exc: httpx.HTTPError, lang: str = "fr") -> str:
    """A short, plain reason for a network failure (never a stack or an exception name)."""
    if isinstance(exc, httpx.ConnectError):
        return "connexion impossible" if lang == "fr" else "connection failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "réponse interrompue" if lang == "fr" else "answer cut short"
    return "erreur réseau" if lang == "fr" else "network error"


def error_from(res: httpx.Response, message: str, message_en: str, *, cls: type[RemoteError] = RemoteError,
               **kw: Any) -> RemoteError:
    """A RemoteError (or the add-on's subclass ``cls``) for an answer: the status, the raw
    answer (redacted) and its ``Retry-After``."""
    return cls(message, message_en=message_en, status=res.status_code, raw=redact.text(res.text),
               retry_after=retry_after(res), **kw)
