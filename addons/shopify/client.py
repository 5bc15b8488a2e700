"""A client for the Shopify Admin GraphQL API that respects Shopify's limits.

``POST {base}/admin/api/{version}/graphql.json`` with the ``X-Shopify-Access-Token`` header;
``base`` is ``https://{shop_domain}``. An override (the emulator, a proxy) is honoured only
on an installation running the emulators (``OMS_SANDBOXES=1``) or for a host the operator
allows (``OMS_OUTBOUND_ALLOW``): the merchant's token never goes to another host. The
connections are core's connector kit's (one pool per shop, redacted logs); the retry loop
below stays Shopify's own, as it reads Shopify's cost-based throttle.

Limits and faults (shopify.dev, "GraphQL Admin API rate limits"):

* cost-based leaky bucket: every answer carries ``extensions.cost.throttleStatus``; before a
  call the client waits until the bucket has refilled enough for that query's last known
  cost, and a ``THROTTLED`` answer (HTTP 200 or 429) is retried after the time the restore
  rate needs;
* HTTP 429 (honouring ``Retry-After``), 5xx and network errors are retried with exponential
  backoff;
* a 401 asks the token source for a fresh token once (expiring offline tokens), then fails
  with :class:`ShopifyAuthError`.

``sleep`` and ``monotonic`` are injectable so tests drive the waits with a fake clock.
"""
from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from core.connectors import NO_RETRY, HttpClient, OutboundRefused, Remote, RemoteError, TransportError
from core.i18n import _

DEFAULT_API_VERSION = "2026-10"
TIMEOUT = 10.0
MAX_ATTEMPTS = 6
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
#: a conservative guess for a query never sent before (Shopify caps one query at 1000 points)
DEFAULT_COST_ESTIMATE = 50

SHOP_QUERY = "{ shop { name myshopifyDomain currencyCode plan { publicDisplayName } } }"


_SSL: ssl.SSLContext | None = None


def ssl_context() -> ssl.SSLContext:
    """One verified TLS context for every client (building one reads the CA bundle: slow)."""
    global _SSL
    if _SSL is None:
        _SSL = ssl.create_default_context()
    return _SSL


class ShopifyError(RemoteError):
    """A failed Shopify call, with a message for the merchant (French)."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = False, **kw: Any) -> None:
        super().__init__(message, status=status, retryable=retryable, **kw)


class ShopifyAuthError(ShopifyError):
    """Shopify refused the token (401): revoked, expired without refresh, app uninstalled."""


class ShopifyUserErrors(ShopifyError):
    """A mutation answered with ``userErrors``."""

    def __init__(self, operation: str, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        self.codes = {str(e.get("code")) for e in errors if e.get("code")}
        detail = "; ".join(str(e.get("message", "")) for e in errors)
        super().__init__(_("Shopify a refusé %(operation)s : %(detail)s", operation=operation, detail=detail))


class TokenSource(Protocol):
    """Where the client takes its access token from, and how it gets a new one."""

    def token(self) -> str: ...

    def refresh(self) -> bool:
        """Obtain a new token after a 401; False when that is not possible."""
        ...


@dataclass
class StaticToken:
    """A token that never changes (custom app token, emulator's pre-issued token)."""

    value: str

    def token(self) -> str:
        return self.value

    def refresh(self) -> bool:
        return False


@dataclass(frozen=True)
class ShopInfo:
    name: str
    domain: str
    currency: str
    plan: str


@dataclass
class ThrottleState:
    maximum: float = 0.0
    available: float = 0.0
    restore_rate: float = 0.0
    at: float = 0.0

    def expected(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.at) * self.restore_rate)


def normalize_domain(value: str) -> str:
    return (value or "").strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")


def check_domain(value: str) -> str:
    """The shop's ``*.myshopify.com`` domain, or ShopifyError (no request is ever made to
    another host with the merchant's token)."""
    domain = normalize_domain(value)
    if not SHOP_DOMAIN.match(domain):
        raise ShopifyError(_("« %(value)s » n'est pas un domaine Shopify valide : indiquez l'adresse en "
                             ".myshopify.com de la boutique (par exemple ma-boutique.myshopify.com).", value=value))
    return domain


def remote(domain: str) -> Remote:
    """Shopify as one shop sees it: its own ``*.myshopify.com`` host and no other."""
    return Remote("shopify", "Shopify", (domain,))


def api_base(domain: str, override: str | None = None) -> str:
    """``https://{domain}``, or the override where the installation allows it; else
    ShopifyError."""
    try:
        return remote(domain).base_url(override, f"https://{domain}").rstrip("/")
    except OutboundRefused as exc:
        raise ShopifyError(exc.message, message_en=exc.message_en) from None


def gid(kind: str, ident: str | int) -> str:
    """``gid://shopify/<kind>/<id>`` from a numeric id (or a gid, returned as is)."""
    text = str(ident)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def numeric_id(value: str | int | None) -> str | None:
    """The numeric part of a gid (``gid://shopify/Order/123`` → ``"123"``)."""
    if value is None or value == "":
        return None
    return str(value).rsplit("/", 1)[-1]


class ShopifyClient:
    def __init__(self, shop_domain: str, access_token: str | None = None, api_version: str = DEFAULT_API_VERSION,
                 base_url: str | None = None, timeout: float = TIMEOUT, *, token_source: TokenSource | None = None,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 max_attempts: int = MAX_ATTEMPTS, transport: httpx.BaseTransport | None = None) -> None:
        self.shop_domain = check_domain(shop_domain)
        if token_source is None:
            if not access_token:
                raise ShopifyError(_("Le jeton d'accès Shopify n'est pas renseigné."))
            token_source = StaticToken(access_token)
        version = (api_version or DEFAULT_API_VERSION).strip()
        if not API_VERSION.match(version):
            raise ShopifyError(_("Version d'API « %(version)s » invalide : attendu AAAA-MM (par exemple "
                                 "%(default_api_version)s).",
                                 version=version, default_api_version=DEFAULT_API_VERSION))
        self.api_version = version
        self.base_url = api_base(self.shop_domain, base_url)
        self.tokens = token_source
        self.timeout = timeout
        self.sleep = sleep
        self.monotonic = monotonic
        self.max_attempts = max_attempts
        self.throttle = ThrottleState()
        self.costs: dict[str, int] = {}
        self.waited = 0.0  # seconds spent waiting for the bucket or backing off (reported by jobs)
        self._lock = threading.Lock()
        self._own_transport = transport is not None
        self._http = HttpClient(remote(self.shop_domain), self.base_url, shop_id=self.shop_domain, timeout=timeout,
                                retry=NO_RETRY, transport=transport, verify=ssl_context())

    def close(self) -> None:
        if self._own_transport:  # a pooled connection set stays open for the shop's next client
            self._http.close()

    def __enter__(self) -> "ShopifyClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/admin/api/{self.api_version}/graphql.json"

    # ----------------------------------------------------------------- GraphQL
    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one GraphQL operation; return its ``data`` (waits and retries as needed)."""
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            self._pace(query)
            res = self._post(body, attempt)
            if res is None:  # network error, already backed off
                continue
            if res.status_code == 401:
                if not refreshed and self.tokens.refresh():
                    refreshed = True
                    continue
                self._raise_for_status(res)
            if res.status_code == 429 or res.status_code >= 500:
                payload = _json(res)
                if payload is not None and _throttled(payload):
                    self._wait_throttled(query, payload, attempt)
                else:
                    self._backoff(attempt, res)
                continue
            self._raise_for_status(res)
            payload = _json(res)
            if payload is None:
                raise ShopifyError(_("Réponse illisible de Shopify (JSON attendu)."), res.status_code)
            self._note_cost(query, payload)
            errors = payload.get("errors")
            if errors:
                if _throttled(payload):
                    self._wait_throttled(query, payload, attempt)
                    continue
                raise ShopifyError(_graphql_error(errors), res.status_code)
            return payload.get("data") or {}

    def mutate(self, query: str, variables: dict[str, Any], field: str) -> dict[str, Any]:
        """Run a mutation and return its payload ``data[field]``; ``userErrors`` raise
        :class:`ShopifyUserErrors`."""
        result = (self.graphql(query, variables).get(field)) or {}
        errors = result.get("userErrors") or []
        if errors:
            raise ShopifyUserErrors(field, errors)
        return result

    def paginate(self, query: str, variables: dict[str, Any], path: str,
                 page_size: int = 50) -> Iterator[list[dict[str, Any]]]:
        """Yield the ``nodes`` of a Relay connection page by page (``first``/``after``,
        ``pageInfo { hasNextPage endCursor }``). ``path`` is the connection's field name."""
        after: str | None = None
        while True:
            data = self.graphql(query, {**variables, "first": page_size, "after": after})
            conn = data.get(path) or {}
            yield list(conn.get("nodes") or [])
            info = conn.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    def shop_info(self) -> ShopInfo:
        shop = self.graphql(SHOP_QUERY).get("shop") or {}
        return ShopInfo(name=shop.get("name", ""), domain=shop.get("myshopifyDomain", ""),
                        currency=shop.get("currencyCode", ""),
                        plan=(shop.get("plan") or {}).get("publicDisplayName", ""))

    # ----------------------------------------------------------------- transport
    def _post(self, body: dict[str, Any], attempt: int) -> httpx.Response | None:
        headers = {"X-Shopify-Access-Token": self.tokens.token(), "Accept": "application/json"}
        try:
            return self._http.request("POST", self.endpoint, json=body, headers=headers, idempotent=True)
        except TransportError as exc:
            if attempt >= self.max_attempts:
                if exc.timeout:
                    raise ShopifyError(_("Shopify n'a pas répondu en %(timeout)s s (%(shop_domain)s).",
                                         timeout=format(self.timeout, 'g'), shop_domain=self.shop_domain),
                                       retryable=True, raw=exc.raw) from None
                raise ShopifyError(exc.message, retryable=True, raw=exc.raw, message_en=exc.message_en) from None
        self._wait(min(0.5 * 2 ** (attempt - 1), 30.0))
        return None

    def _backoff(self, attempt: int, res: httpx.Response) -> None:
        if attempt >= self.max_attempts:
            self._raise_for_status(res)
        retry_after = res.headers.get("Retry-After")
        try:
            delay = float(retry_after) if retry_after else 0.5 * 2 ** (attempt - 1)
        except ValueError:
            delay = 0.5 * 2 ** (attempt - 1)
        self._wait(min(delay, 60.0))

    # ----------------------------------------------------------------- throttling
    def _pace(self, query: str) -> None:
        """Wait until the bucket should hold this query's cost."""
        with self._lock:
            state = self.throttle
            if not state.restore_rate:
                return
            need = min(self.costs.get(query, DEFAULT_COST_ESTIMATE), state.maximum)
            missing = need - state.expected(self.monotonic())
        if missing > 0:
            self._wait(missing / state.restore_rate)

    def _note_cost(self, query: str, payload: dict[str, Any]) -> None:
        cost = (payload.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        with self._lock:
            if cost.get("requestedQueryCost") is not None:
                self.costs[query] = int(cost["requestedQueryCost"])
            if status:
                self.throttle = ThrottleState(maximum=float(status.get("maximumAvailable") or 0),
                                              available=float(status.get("currentlyAvailable") or 0),
                                              restore_rate=float(status.get("restoreRate") or 0),
                                              at=self.monotonic())

    def _wait_throttled(self, query: str, payload: dict[str, Any], attempt: int) -> None:
        if attempt >= self.max_attempts:
            raise ShopifyError(_graphql_error(payload.get("errors") or "THROTTLED"), 429, retryable=True)
        self._note_cost(query, payload)
        cost = (payload.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        requested = float(cost.get("requestedQueryCost") or self.costs.get(query, DEFAULT_COST_ESTIMATE))
        available = float(status.get("currentlyAvailable") or 0)
        rate = float(status.get("restoreRate") or 0)
        delay = (requested - available) / rate if rate else 1.0
        self._wait(max(delay, 0.05))

    def _wait(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)

    # ----------------------------------------------------------------- errors
    def _raise_for_status(self, res: httpx.Response) -> None:
        code = res.status_code
        if code < 400:
            return
        if code == 401:
            raise ShopifyAuthError(_("Jeton d'accès refusé par Shopify (401) : l'application a été désinstallée "
                                     "ou son accès révoqué. Réinstallez l'application sur la boutique (bouton « "
                                     "Installer sur Shopify »)."), code)
        if code == 402:
            msg = "La boutique Shopify est gelée (402) : son abonnement Shopify n'est pas réglé."
        elif code == 403:
            msg = ("Accès refusé par Shopify (403) : le jeton n'a pas les autorisations (scopes) "
                   "nécessaires.")
        elif code == 404:
            msg = (f"Boutique ou version d'API introuvable (404) : vérifiez le domaine "
                   f"{self.shop_domain} et la version {self.api_version}.")
        elif code == 423:
            msg = "La boutique Shopify est verrouillée (423) : contactez le support Shopify."
        elif code == 429:
            raise ShopifyError(_("Trop de requêtes vers Shopify (429) : réessayez dans quelques secondes."), code,
                               retryable=True)
        elif code >= 500:
            raise ShopifyError(_("Shopify est indisponible (%(code)s) : réessayez plus tard.", code=code), code, retryable=True)
        else:
            msg = f"Réponse inattendue de Shopify ({code})."
        raise ShopifyError(msg, code)


def _json(res: httpx.Response) -> dict[str, Any] | None:
    try:
        payload = res.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _throttled(payload: dict[str, Any]) -> bool:
    errors = payload.get("errors")
    if not isinstance(errors, list):
        return False
    return any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


def _graphql_error(errors: Any) -> str:
    if isinstance(errors, str):
        return f"Erreur Shopify : {errors}"
    first = errors[0] if isinstance(errors, list) and errors else {}
    code = (first.get("extensions") or {}).get("code") if isinstance(first, dict) else None
    if code == "THROTTLED":
        return _("Shopify limite le débit (THROTTLED) : réessayez dans quelques secondes.")
    message = first.get("message") if isinstance(first, dict) else str(first)
    return f"Erreur GraphQL Shopify : {message}"
