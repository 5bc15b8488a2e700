"""A thin client for the Amazon Selling Partner API (SP-API).

Authentication is Login with Amazon (LWA) only: the refresh token of the seller account is
exchanged for a one-hour access token (``POST https://api.amazon.com/auth/o2/token``), sent
as ``x-amz-access-token`` on every call; no AWS signature is needed since 2023. Access tokens
are cached in memory per (token endpoint, client id, refresh token) and renewed 60 seconds
before they expire.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

TIMEOUT = 10.0
TOKEN_URL = "https://api.amazon.com/auth/o2/token"
REGIONS = {
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "na": "https://sellingpartnerapi-na.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
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
    "invalid_grant": "le refresh token a été refusé (invalid_grant) : autorisez à nouveau l'application "
                     "dans Seller Central et enregistrez le nouveau refresh token.",
    "invalid_client": "l'identifiant client ou le secret client LWA a été refusé (invalid_client) : "
                      "recopiez-les depuis Seller Central (Développer des applications › Identifiants LWA).",
    "unauthorized_client": "l'application n'est pas autorisée à utiliser ce type de jeton "
                           "(unauthorized_client).",
    "invalid_request": "la demande de jeton est incomplète (invalid_request)",
    "access_denied": "l'accès a été refusé par le titulaire du compte (access_denied).",
}


class AmazonError(Exception):
    """A failed Amazon call, with a message for the merchant (French)."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


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
    """LWA access tokens of this process, keyed by (token URL, client id, refresh token)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: tuple[str, str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: tuple[str, str, str]) -> str | None:
        entry = self._tokens.get(key)
        if entry is None or self.clock() >= entry[1] - EARLY_REFRESH:
            return None
        return entry[0]

    def put(self, key: tuple[str, str, str], token: str, expires_in: float) -> None:
        self._tokens[key] = (token, self.clock() + expires_in)

    def drop(self, key: tuple[str, str, str]) -> None:
        self._tokens.pop(key, None)

    def clear(self) -> None:
        self._tokens.clear()


token_cache = TokenCache()


class SellingPartnerClient:
    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str, region: str = "eu",
                 base_url: str | None = None, token_url: str | None = None, timeout: float = TIMEOUT,
                 cache: TokenCache | None = None) -> None:
        missing = [label for label, value in (("identifiant client LWA", client_id),
                                              ("secret client LWA", client_secret),
                                              ("refresh token", refresh_token)) if not value]
        if missing:
            raise AmazonError("Paramètres Amazon incomplets : renseignez " + ", ".join(missing) + ".")
        if not base_url and region not in REGIONS:
            raise AmazonError(f"Région Amazon inconnue « {region} » : choisissez eu, na ou fe.")
        self.base_url = (base_url or REGIONS[region]).rstrip("/")
        self.token_url = token_url or TOKEN_URL
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.timeout = timeout
        self.cache = cache or token_cache

    # ------------------------------------------------------------------ LWA
    @property
    def _key(self) -> tuple[str, str, str]:
        return (self.token_url, self.client_id, self.refresh_token)

    def access_token(self) -> tuple[str, bool]:
        """The cached access token, or a new one; the flag tells whether it was just fetched."""
        token = self.cache.get(self._key)
        if token:
            return token, False
        with self.cache.lock(self._key):
            token = self.cache.get(self._key)
            if token:
                return token, False
            token, expires_in = self._fetch_token()
            self.cache.put(self._key, token, expires_in)
            return token, True

    def _fetch_token(self) -> tuple[str, float]:
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token,
                "client_id": self.client_id, "client_secret": self.client_secret}
        res = self._http("POST", self.token_url, data=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"})
        body = _json(res)
        if res.status_code >= 500:
            raise AmazonError(f"Le service d'authentification Amazon est indisponible ({res.status_code}) : "
                              "réessayez plus tard.", res.status_code)
        if res.status_code != 200 or "access_token" not in body:
            error = str(body.get("error") or "")
            text = _LWA_ERRORS.get(error)
            if error == "invalid_request":
                text = f"{text} : {body.get('error_description', '')}"
            raise AmazonError(f"Échec de l'authentification Amazon ({res.status_code}) : "
                              f"{text or body.get('error_description') or 'réponse inattendue'}",
                              res.status_code, error or None)
        return str(body["access_token"]), float(body.get("expires_in") or 3600)

    # ------------------------------------------------------------------ SP-API
    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        token, fresh = self.access_token()
        res = self._call("GET", path, token, params)
        if res.status_code in (401, 403) and not fresh:
            # a cached token can be revoked before its time: retry once with a new one
            self.cache.drop(self._key)
            token, _ = self.access_token()
            res = self._call("GET", path, token, params)
        if res.status_code in (401, 403):
            self.cache.drop(self._key)
        _raise_for_status(res)
        return _json(res)

    def marketplace_participations(self) -> list[Participation]:
        """``getMarketplaceParticipations``: the marketplaces the seller can sell on."""
        body = self.get("/sellers/v1/marketplaceParticipations")
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

    def _call(self, method: str, path: str, token: str, params: dict[str, Any] | None) -> httpx.Response:
        headers = {"x-amz-access-token": token, "Accept": "application/json", "User-Agent": USER_AGENT}
        return self._http(method, self.base_url + path, params=params, headers=headers)

    def _http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return httpx.request(method, url, timeout=self.timeout, **kwargs)
        except httpx.TimeoutException:
            raise AmazonError(f"Amazon n'a pas répondu en {self.timeout:g} s ({url}).") from None
        except httpx.HTTPError as exc:
            raise AmazonError(f"Impossible de joindre {url} : {exc}") from None


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
    raise AmazonError(msg.format(code=code, detail=detail), code, first.get("code"))
