"""A thin client for the Amazon Selling Partner API (SP-API).

Authentication is Login with Amazon (LWA) only: the refresh token of the seller account is
exchanged for a one-hour access token (``POST https://api.amazon.com/auth/o2/token``), sent
as ``x-amz-access-token`` on every call; no AWS signature is needed since 2023. Access tokens
are cached in memory per (token endpoint, client id, refresh token or scope) and renewed 60
seconds before they expire. Grantless operations (Notifications destinations) use a
``client_credentials`` token with the notifications scope.

Every call goes through :meth:`SellingPartnerClient.call`: it takes a token from the
operation's bucket (shared by all workers, see ``ratelimit``) and follows the rate Amazon
announces in ``x-amzn-RateLimit-Limit``. A 429 empties the bucket and waits for its next
token (the operation's rate); a wait longer than ``max_wait`` raises :class:`RateLimitWait` so
a job hands over to a delayed run instead of holding a worker. A 5xx is not a quota: it is
retried with a short jittered exponential backoff, and when Amazon stays down the call
raises a retryable :class:`AmazonError` that the job layer reschedules.

The HTTP side is core's connector kit: one connection pool per seller account, network
errors retried, exchanges logged with tokens and presigned-URL signatures masked. The hosts
are Amazon's (three regional SP-API hosts, ``api.amazon.com`` for LWA); an override from the
settings is honoured only with the emulators on or for a host the operator allows.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, redact

from .clock import Clock, SystemClock
from .operations import NOTIFICATIONS_SCOPE, OPERATIONS, Operation
from .ratelimit import LocalRateLimiter, RateLimiter
from core.i18n import _

TIMEOUT = 10.0
TOKEN_URL = "https://api.amazon.com/auth/o2/token"
REGIONS = {
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "na": "https://sellingpartnerapi-na.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
#: Amazon's own hosts: the merchant's credentials go nowhere else
REMOTE = Remote("amazon", "Amazon", tuple(url.removeprefix("https://") for url in REGIONS.values())
                + ("api.amazon.com",))
#: the transport retries only what never reached Amazon or got no answer; statuses are the
#: call loop's (429 is a quota, 5xx a backoff)
TRANSPORT_RETRY = RetryPolicy(attempts=3, base=0.5, cap=4.0, max_wait=10.0, statuses=frozenset())
#: the longest backoff after a 5xx before the call gives up with a retryable error
SERVER_ERROR_CAP = 30.0
EARLY_REFRESH = 60  # seconds before expiry when a cached access token is renewed
USER_AGENT = "OMS/1.0 (Language=Python)"


@dataclass(frozen=True)
class Marketplace:
    id: str
    country_code: str  # ISO 3166-1 alpha-2, as getMarketplaceParticipations returns it
    country: str  # French name
    name: str
    currency: str
    language: str
    domain: str


#: The EU-region marketplaces a European merchant sells on (Amazon "Marketplace IDs" page).
EU_MARKETPLACES = (
    Marketplace("A13V1IB3VIYZZH", "FR", "France", "Amazon.fr", "EUR", "fr_FR", "www.amazon.fr"),
    Marketplace("A1PA6795UKMFR9", "DE", "Allemagne", "Amazon.de", "EUR", "de_DE", "www.amazon.de"),
    Marketplace("A1RKKUPIHCS9HS", "ES", "Espagne", "Amazon.es", "EUR", "es_ES", "www.amazon.es"),
    Marketplace("APJ6JRA9NG5V4", "IT", "Italie", "Amazon.it", "EUR", "it_IT", "www.amazon.it"),
    Marketplace("A1F83G8C2ARO7P", "GB", "Royaume-Uni", "Amazon.co.uk", "GBP", "en_GB", "www.amazon.co.uk"),
    Marketplace("A1805IZSGTT6HS", "NL", "Pays-Bas", "Amazon.nl", "EUR", "nl_NL", "www.amazon.nl"),
    Marketplace("AMEN7PMS3EDWL", "BE", "Belgique", "Amazon.com.be", "EUR", "fr_BE", "www.amazon.com.be"),
    Marketplace("A1C3SOZRARQ6R3", "PL", "Pologne", "Amazon.pl", "PLN", "pl_PL", "www.amazon.pl"),
    Marketplace("A2NODRKZP88ZB9", "SE", "Suède", "Amazon.se", "SEK", "sv_SE", "www.amazon.se"),
    Marketplace("A28R8C7NBKEWEA", "IE", "Irlande", "Amazon.ie", "EUR", "en_IE", "www.amazon.ie"),
)

_LWA_ERRORS = {
    "invalid_grant": _("le refresh token a été refusé (invalid_grant) : autorisez à nouveau l'application "
                     "dans Seller Central et enregistrez le nouveau refresh token."),
    "invalid_client": _("l'identifiant client ou le secret client LWA a été refusé (invalid_client) : "
                      "recopiez-les depuis Seller Central (Développer des applications › Identifiants LWA)."),
    "unauthorized_client": _("l'application n'est pas autorisée à utiliser ce type de jeton "
                           "(unauthorized_client)."),
    "invalid_request": _("la demande de jeton est incomplète (invalid_request)"),
    "access_denied": _("l'accès a été refusé par le titulaire du compte (access_denied)."),
}


#: LWA errors that only the merchant can fix (new authorisation or credentials)
CREDENTIAL_ERRORS = {"invalid_grant", "invalid_client", "unauthorized_client", "access_denied"}
RETRY_STATUSES = {429, 500, 502, 503, 504}
#: added to every rate-limit wait: clocks and networks are never exact
WAIT_MARGIN = 0.05


class AmazonError(RemoteError):
    """A failed Amazon call, with a message for the merchant (French)."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None,
                 body: dict[str, Any] | None = None, **kw: Any) -> None:
        kw.setdefault("retryable", status == 429 or (status or 0) >= 500)
        super().__init__(message, status=status, **kw)
        self.code = code
        self.body = body or {}

    @property
    def credentials(self) -> bool:
        """True when the merchant must act (refresh token revoked, client secret wrong)."""
        return self.code in CREDENTIAL_ERRORS


class RateLimitWait(AmazonError):
    """The operation's bucket is empty for longer than the caller accepts to wait."""

    def __init__(self, operation: str, wait: float) -> None:
        super().__init__(_("Quota Amazon de %(operation)s épuisé : prochain appel possible dans %(wait)s s.",
                           operation=operation, wait=format(wait, '.0f')),
                         429, "QuotaExceeded")
        self.operation = operation
        self.wait = wait


@dataclass
class CallStats:
    """What a client sent: calls per operation, 429s received, retries made."""

    calls: Counter = field(default_factory=Counter)
    throttled: Counter = field(default_factory=Counter)
    server_errors: int = 0
    waited: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@dataclass
class ApiResponse:
    status: int
    body: dict[str, Any]
    headers: httpx.Headers


@dataclass(frozen=True)
class Participation:
    marketplace_id: str
    country_code: str
    name: str
    currency: str
    language: str
    domain: str
    participating: bool
    suspended_listings: bool
    store_name: str = ""


class TokenCache:
    """LWA access tokens of this process, keyed by (token URL, client id, refresh token or
    grantless scope)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: tuple[str, str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: tuple[str, str, str], now: float | None = None) -> str | None:
        entry = self._tokens.get(key)
        if entry is None or (self.clock() if now is None else now) >= entry[1] - EARLY_REFRESH:
            return None
        return entry[0]

    def put(self, key: tuple[str, str, str], token: str, expires_in: float, now: float | None = None) -> None:
        self._tokens[key] = (token, (self.clock() if now is None else now) + expires_in)

    def drop(self, key: tuple[str, str, str]) -> None:
        self._tokens.pop(key, None)

    def clear(self) -> None:
        self._tokens.clear()


token_cache = TokenCache()


class SellingPartnerClient:
    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str, region: str = "eu",
                 base_url: str | None = None, token_url: str | None = None, timeout: float = TIMEOUT,
                 cache: TokenCache | None = None, seller_id: str = "", clock: Clock | None = None,
                 limiter: RateLimiter | None = None, max_wait: float = 60.0, max_retries: int = 8,
                 http: httpx.Client | None = None, rng: random.Random | None = None,
                 stats: CallStats | None = None) -> None:
        missing = [label for label, value in (("identifiant client LWA", client_id),
                                              ("secret client LWA", client_secret),
                                              ("refresh token", refresh_token)) if not value]
        if missing:
            raise AmazonError(_("Paramètres Amazon incomplets : renseignez %(items)s.", items=', '.join(missing)))
        if not base_url and region not in REGIONS:
            raise AmazonError(_("Région Amazon inconnue « %(region)s » : choisissez eu, na ou fe.", region=region))
        try:
            self.base_url = REMOTE.base_url(base_url, REGIONS.get(region, ""), what="l'API SP-API",
                                            what_en="SP-API").rstrip("/")
            self.token_url = REMOTE.base_url(token_url, TOKEN_URL, what="l'authentification LWA",
                                             what_en="LWA authentication")
        except OutboundRefused as exc:
            raise AmazonError(exc.message, message_en=exc.message_en, retryable=False) from None
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.seller_id = seller_id
        self.timeout = timeout
        self.cache = cache or token_cache
        self.clock: Clock = clock or SystemClock()
        self.limiter: RateLimiter = limiter or LocalRateLimiter(self.clock)
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.transport = HttpClient(REMOTE, shop_id=f"{client_id}:{seller_id or refresh_token[-12:]}",
                                    timeout=timeout, retry=TRANSPORT_RETRY, http=http, sleep=self.clock.sleep)
        self.rng = rng or random.Random()
        self.stats = stats if stats is not None else CallStats()

    # ------------------------------------------------------------------ LWA
    def _key(self, scope: str | None = None) -> tuple[str, str, str]:
        return (self.token_url, self.client_id, f"scope:{scope}" if scope else self.refresh_token)

    def access_token(self, scope: str | None = None) -> tuple[str, bool]:
        """The cached access token, or a new one; the flag tells whether it was just fetched.
        With ``scope``, a grantless (client_credentials) token for that scope."""
        key = self._key(scope)
        token = self.cache.get(key, self._now())
        if token:
            return token, False
        with self.cache.lock(key):
            token = self.cache.get(key, self._now())
            if token:
                return token, False
            token, expires_in = self._fetch_token(scope)
            self.cache.put(key, token, expires_in, self._now())
            return token, True

    def _now(self) -> float | None:
        """The client's clock for token expiry; None (the cache's own clock) on the system clock."""
        return None if isinstance(self.clock, SystemClock) else self.clock.time()

    def _fetch_token(self, scope: str | None = None) -> tuple[str, float]:
        if scope:
            form = {"grant_type": "client_credentials", "scope": scope,
                    "client_id": self.client_id, "client_secret": self.client_secret}
        else:
            form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token,
                    "client_id": self.client_id, "client_secret": self.client_secret}
        res = self._http("POST", self.token_url, data=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"})
        body = _json(res)
        if res.status_code >= 500:
            raise AmazonError(_("Le service d'authentification Amazon est indisponible (%(status_code)s) : "
                                "réessayez plus tard.", status_code=res.status_code), res.status_code)
        if res.status_code != 200 or "access_token" not in body:
            error = str(body.get("error") or "")
            text = _LWA_ERRORS.get(error)
            if error == "invalid_request":
                text = f"{text} : {body.get('error_description', '')}"
            raise AmazonError(_("Échec de l'authentification Amazon (%(status_code)s) : %(value)s",
                                status_code=res.status_code, value=text or body.get('error_description') or 'réponse inattendue'),
                              res.status_code, error or None)
        return str(body["access_token"]), float(body.get("expires_in") or 3600)

    # ------------------------------------------------------------------ SP-API
    def bucket_key(self, operation: str) -> str:
        return f"{self.client_id}:{self.seller_id or self.refresh_token[-12:]}:{operation}"

    def rate(self, operation: str) -> float:
        """The rate in force for ``operation`` (announced by Amazon, else documented)."""
        op = OPERATIONS[operation]
        return self.limiter.rate(self.bucket_key(operation), op.rate)

    def tokens(self, operation: str) -> float:
        op = OPERATIONS[operation]
        return self.limiter.available(self.bucket_key(operation), op.rate, op.burst)

    def call(self, operation: str, *, path: dict[str, str] | None = None, params: dict[str, Any] | None = None,
             json: dict[str, Any] | None = None, max_wait: float | None = None) -> ApiResponse:
        """Call one SP-API operation within its rate limit; retries 429 and 5xx."""
        op = OPERATIONS[operation]
        url = self.base_url + op.url_path(**(path or {}))
        query = _query(params or {})
        limit = self.max_wait if max_wait is None else max_wait
        key = self.bucket_key(operation)
        scope = NOTIFICATIONS_SCOPE if op.grantless else None
        refreshed = False
        attempt = 0
        while True:
            wait = self.limiter.acquire(key, op.rate, op.burst, limit)
            if wait > limit:
                raise RateLimitWait(operation, wait)
            if wait > 0:
                wait += WAIT_MARGIN
                self.stats.waited += wait
                self.clock.sleep(wait)
            token, fresh = self.access_token(scope)
            res = self._send(op, url, token, query, json)
            self.stats.calls[operation] += 1
            announced = res.headers.get("x-amzn-RateLimit-Limit")
            if announced:
                try:
                    self.limiter.set_rate(key, float(announced))
                except ValueError:
                    pass
            if res.status_code in (401, 403) and not fresh and not refreshed:
                # a cached token can be revoked before its time: retry once with a new one
                self.cache.drop(self._key(scope))
                refreshed = True
                continue
            if res.status_code in RETRY_STATUSES and attempt < self.max_retries:
                attempt += 1
                if res.status_code == 429:
                    self.stats.throttled[operation] += 1
                    self.limiter.drain(key)
                    backoff = self._backoff(operation, attempt)
                    if backoff > limit:
                        raise RateLimitWait(operation, backoff)
                else:
                    self.stats.server_errors += 1
                    backoff = self._server_backoff(attempt)
                    if backoff > limit:  # Amazon is down, not a quota: the job layer retries later
                        _raise_for_status(res)
                self.stats.waited += backoff
                self.clock.sleep(backoff)
                continue
            if res.status_code == 429:
                self.stats.throttled[operation] += 1
            if res.status_code in (401, 403):
                self.cache.drop(self._key(scope))
            _raise_for_status(res)
            return ApiResponse(res.status_code, _json(res), res.headers)

    def _backoff(self, operation: str, attempt: int) -> float:
        """After a 429: the time of one token of the operation, plus jittered exponential
        backoff."""
        floor = 1.0 / self.rate(operation)
        spread = min(120.0, 0.5 * 2 ** attempt)
        return floor + self.rng.uniform(0, spread)

    def _server_backoff(self, attempt: int) -> float:
        """After a 5xx: jittered exponential backoff from half a second, whatever the
        operation's quota."""
        step = min(SERVER_ERROR_CAP, 0.5 * 2 ** (attempt - 1))
        return step / 2 + self.rng.uniform(0, step / 2)

    def _send(self, op: Operation, url: str, token: str, query: dict[str, str],
              body: dict[str, Any] | None) -> httpx.Response:
        headers = {"x-amz-access-token": token, "Accept": "application/json", "User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self._http(op.method, url, params=query, headers=headers, json=body)

    # ------------------------------------------------------------------ documents (presigned URLs)
    def upload(self, url: str, content: bytes, content_type: str) -> None:
        """PUT a feed document to the presigned URL ``createFeedDocument`` returned."""
        res = self._http("PUT", url, content=content, headers={"Content-Type": content_type})
        if res.status_code >= 300:
            raise AmazonError(_("Dépôt du document refusé par Amazon (%(status_code)s).",
                                status_code=res.status_code), res.status_code)

    def download(self, url: str, compression: str | None = None) -> bytes:
        """GET a report or feed-result document from its presigned URL (GZIP undone)."""
        import gzip

        res = self._http("GET", url)
        if res.status_code >= 300:
            raise AmazonError(_("Téléchargement du document refusé par Amazon (%(status_code)s).",
                                status_code=res.status_code),
                              res.status_code)
        data = res.content
        return gzip.decompress(data) if (compression or "").upper() == "GZIP" else data

    # ------------------------------------------------------------------ operations
    def marketplace_participations(self) -> list[Participation]:
        """``getMarketplaceParticipations``: the marketplaces the seller can sell on."""
        body = self.call("getMarketplaceParticipations").body
        out = []
        for item in body.get("payload") or []:
            mp = item.get("marketplace") or {}
            part = item.get("participation") or {}
            out.append(Participation(
                marketplace_id=str(mp.get("id", "")), country_code=str(mp.get("countryCode", "")),
                name=str(mp.get("name", "")), currency=str(mp.get("defaultCurrencyCode", "")),
                language=str(mp.get("defaultLanguageCode", "")), domain=str(mp.get("domainName", "")),
                participating=bool(part.get("isParticipating")),
                suspended_listings=bool(part.get("hasSuspendedListings")),
                store_name=str(item.get("storeName", ""))))
        return out

    def _http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.transport.request(method, url, **kwargs)
        except TransportError as exc:
            where = url.split("?", 1)[0]
            if exc.timeout:
                raise AmazonError(_("Amazon n'a pas répondu en %(timeout)s s (%(where)s).",
                                    timeout=format(self.timeout, 'g'), where=where), raw=exc.raw,
                                  retryable=True) from None
            raise AmazonError(_("Impossible de joindre %(where)s : %(exc)s", where=where, exc=exc), raw=exc.raw, retryable=True) from None


def _query(params: dict[str, Any]) -> dict[str, str]:
    """Query parameters as the models want them: arrays comma-separated, None left out."""
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set)):
            out[key] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def _json(res: httpx.Response) -> dict[str, Any]:
    try:
        body = res.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _raise_for_status(res: httpx.Response) -> None:
    code = res.status_code
    if code < 400:
        return
    errors = _json(res).get("errors") or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    remote = f"{first.get('code', '')} : {first.get('message', '')}".strip(" :")
    detail = f" [{remote}]" if remote else ""
    if code in (401, 403):
        msg = ("Accès refusé par Amazon ({code}){detail} : vérifiez que l'application est autorisée "
               "pour ce compte vendeur, dans la bonne région, et qu'elle a les rôles nécessaires.")
    elif code == 429:
        msg = "Quota de requêtes Amazon dépassé ({code}){detail} : réessayez dans quelques minutes."
    elif code >= 500:
        msg = "L'API Amazon est indisponible ({code}){detail} : réessayez plus tard."
    else:
        msg = "Requête refusée par Amazon ({code}){detail}."
    raise AmazonError(msg.format(code=code, detail=detail), code, first.get("code"), _json(res),
                      raw=redact.text(res.text))
