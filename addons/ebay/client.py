"""eBay's REST APIs on the wire (core's connector kit): OAuth tokens, Fulfillment, Inventory,
Notification, Finances, Post-Order, Key Management and Identity. No meaning here: payloads
go in and out as eBay defines them (``mapping.py`` reads them).

Hosts (eBay's OpenAPI ``servers``): ``api.ebay.com`` (Sell APIs, OAuth token, Post-Order),
``apiz.ebay.com`` (Finances, Identity, Key Management), ``auth.ebay.com`` (the consent page).
A merchant's ``api_base_url`` override (the emulator in a demo) replaces all three, as the
kit allows it.

Calls that EU sellers must sign (``issue_refund``, Post-Order cancellations) are signed with
the seller's Key Management key (:mod:`.signing`).
"""
from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError

from . import signing
from core.i18n import _

API = "https://api.ebay.com"
APIZ = "https://apiz.ebay.com"
AUTH = "https://auth.ebay.com"
REMOTE = Remote("ebay", "eBay", ("api.ebay.com", "apiz.ebay.com", "auth.ebay.com", "api.sandbox.ebay.com",
                                 "apiz.sandbox.ebay.com", "auth.sandbox.ebay.com"))
TOKEN_PATH = "/identity/v1/oauth2/token"
SCOPE_ROOT = "https://api.ebay.com/oauth/api_scope"
#: what the add-on asks the seller to grant (eBay's scope URLs)
SCOPES = tuple(f"{SCOPE_ROOT}/{s}" for s in (
    "sell.fulfillment", "sell.inventory", "sell.account", "sell.finances",
    "commerce.notification.subscription", "commerce.identity.readonly"))
APP_SCOPE = SCOPE_ROOT  # the application token (getPublicKey, createSigningKey)
#: a sync job hands back to the queue after a few seconds of retries
RETRY = RetryPolicy(attempts=5, base=0.5, cap=8.0, max_wait=20.0)
#: bulk_update_price_quantity: "up to 25" entries per call (Inventory API reference)
BULK_PRICE_QUANTITY_MAX = 25
#: bulkMigrateListing: up to five listings per call
BULK_MIGRATE_MAX = 5
ORDERS_PAGE = 200  # getOrders: limit's maximum
RETURNS_PAGE = 200  # Post-Order return search: returns per page


class EbayError(RemoteError):
    """A refusal or an outage of eBay; ``str()`` is the merchant's French sentence. ``errors``
    holds eBay's ``errors[]`` entries (``errorId``, ``domain``, ``category``, ``message``)."""

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.errors = list(errors or [])

    @property
    def error_ids(self) -> list[int]:
        return [int(e.get("errorId", 0) or 0) for e in self.errors]


class EbayAuthError(EbayError):
    """The seller's grant is missing, expired or revoked: a new consent is needed."""


@dataclass(frozen=True)
class Hosts:
    api: str
    apiz: str
    auth: str

    @classmethod
    def for_override(cls, override: str | None) -> "Hosts":
        try:
            root = REMOTE.base_url(override, API)
        except OutboundRefused as exc:
            raise EbayError(exc.message, message_en=exc.message_en, retryable=False) from None
        root = root.rstrip("/")
        if root == API:
            return cls(API, APIZ, AUTH)
        return cls(root, root, root)


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None


# ----------------------------------------------------------------------------- errors
#: eBay errorIds a merchant meets, in French (Fulfillment, Inventory, Post-Order references)
FRENCH = {
    1001: _("le jeton eBay n'est plus valable : reconnectez le compte (bouton « Installer sur eBay »)"),
    30700: _("filtre de commandes refusé par eBay"),
    30800: _("date de filtre invalide"),
    32100: _("commande inconnue d'eBay"),
    32200: _("ligne de commande inconnue d'eBay"),
    32210: _("cette ligne est déjà indiquée comme expédiée"),
    32300: _("numéro de suivi ou transporteur refusé par eBay : vérifiez le numéro (lettres et chiffres "
           "seulement) et le transporteur choisi"),
    32500: _("date d'expédition refusée par eBay"),
    34100: _("nombre maximal de numéros de suivi atteint pour cette commande"),
    34500: _("ce suivi existe déjà sur eBay (modification à faire dans le Seller Hub)"),
    34916: _("un litige est ouvert sur cette commande : remboursez depuis le litige dans le Seller Hub"),
    34917: _("cette commande est déjà remboursée"),
    34920: _("délai de remboursement dépassé"),
    34922: _("un remboursement précédent est encore en cours"),
    34929: _("le paiement de l'acheteur n'est pas encore traité"),
    25001: _("erreur interne d'eBay, réessai automatique"),
    25702: _("ce SKU n'existe pas dans l'API Inventory d'eBay (annonce créée hors de l'API Inventory)"),
    25713: _("cette offre n'est pas publiée"),
    25002: _("annonce refusée par eBay"),
    215001: _("signature numérique absente : les appels des vendeurs européens doivent être signés"),
    215120: _("signature numérique refusée par eBay"),
    215122: _("signature numérique refusée par eBay"),
    195011: _("autorisations insuffisantes pour les notifications : reconnectez le compte"),
}


def _errors_of(res: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = res.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors or [] if isinstance(e, dict)]


def error_for(res: httpx.Response, what: str) -> EbayError:
    """An EbayError for an answer: eBay's own errors in French where known."""
    from core.connectors.redact import text as redact_text

    errors = _errors_of(res)
    known = [FRENCH[int(e.get("errorId") or 0)] for e in errors if int(e.get("errorId") or 0) in FRENCH]
    detail = "; ".join(dict.fromkeys(known)) or "; ".join(
        str(e.get("message") or "") for e in errors if e.get("message")) or f"HTTP {res.status_code}"
    ids = ", ".join(str(e.get("errorId")) for e in errors if e.get("errorId"))
    suffix = f" (erreur eBay {ids})" if ids else ""
    en_detail = "; ".join(str(e.get("message") or "") for e in errors if e.get("message")) or f"HTTP {res.status_code}"
    cls = EbayAuthError if res.status_code == 401 else EbayError
    from core.connectors.http import retry_after

    return cls(f"eBay a refusé {what} : {detail}{suffix}.", message_en=f"eBay refused {what}: {en_detail}{suffix}.",
               status=res.status_code, raw=redact_text(res.text), retry_after=retry_after(res), errors=errors,
               retryable=res.status_code in (429, 500, 502, 503, 504))


# ----------------------------------------------------------------------------- OAuth
def authorize_url(hosts: Hosts, client_id: str, ru_name: str, state: str, scopes=SCOPES, locale: str = "fr-FR") -> str:
    """The seller's consent page: ``redirect_uri`` is the app's RuName, not a URL."""
    query = urlencode({"client_id": client_id, "redirect_uri": ru_name, "response_type": "code",
                       "scope": " ".join(scopes), "state": state, "locale": locale}, quote_via=quote)
    return f"{hosts.auth}/oauth2/authorize?{query}"


def _token_call(hosts: Hosts, client_id: str, client_secret: str, form: dict[str, str], *,
                shop_id: Any = None) -> TokenGrant:
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    http = HttpClient(REMOTE, hosts.api, shop_id=shop_id, retry=RetryPolicy(attempts=3, max_wait=5.0))
    try:
        res = http.request("POST", TOKEN_PATH, data=form, idempotent=False,
                           headers={"Authorization": f"Basic {basic}",
                                    "Content-Type": "application/x-www-form-urlencoded"})
    except TransportError as exc:
        raise EbayError(_("Impossible de joindre eBay pour obtenir le jeton : réessai automatique."),
                        message_en="Could not reach eBay for the token: retried later.", raw=exc.raw) from None
    try:
        data = res.json()
    except ValueError:
        data = {}
    if res.status_code >= 500 or res.status_code == 429:
        raise EbayError(_("eBay est indisponible (%(status_code)s) : réessai automatique.",
                          status_code=res.status_code),
                        message_en=f"eBay is unavailable ({res.status_code}): retried later.", status=res.status_code)
    if res.status_code >= 400 or not data.get("access_token"):
        code = str(data.get("error") or res.status_code)
        if code == "invalid_grant":
            raise EbayAuthError(_("eBay ne reconnaît plus l'autorisation du compte (révoquée ou expirée) : "
                                  "cliquez sur « Installer sur eBay » pour la renouveler."),
                                message_en="eBay no longer honours the account's grant (revoked or expired): "
                                           "click \"Install on eBay\" to renew it.", status=res.status_code,
                                retryable=False)
        if code == "invalid_client":
            raise EbayAuthError(_("Identifiant ou secret de l'application eBay refusé : vérifiez-les dans les "
                                  "réglages (developer.ebay.com › Application Keys)."),
                                message_en="eBay app ID or secret refused: check them in the settings.",
                                status=res.status_code, retryable=False)
        raise EbayAuthError(_("eBay a refusé la demande de jeton (%(code)s).", code=code),
                            message_en=f"eBay refused the token request ({code}).", status=res.status_code,
                            retryable=False)
    return TokenGrant(access_token=str(data["access_token"]), expires_in=int(data.get("expires_in") or 7200),
                      refresh_token=data.get("refresh_token"),
                      refresh_token_expires_in=(int(data["refresh_token_expires_in"])
                                                if data.get("refresh_token_expires_in") else None))


def exchange_code(hosts: Hosts, client_id: str, client_secret: str, code: str, ru_name: str,
                  *, shop_id: Any = None) -> TokenGrant:
    return _token_call(hosts, client_id, client_secret,
                       {"grant_type": "authorization_code", "code": code, "redirect_uri": ru_name}, shop_id=shop_id)


def refresh_user_token(hosts: Hosts, client_id: str, client_secret: str, refresh_token: str,
                       *, shop_id: Any = None) -> TokenGrant:
    return _token_call(hosts, client_id, client_secret,
                       {"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": " ".join(SCOPES)},
                       shop_id=shop_id)


class AppTokens:
    """Application tokens (client-credentials grant), one per app, kept until a minute
    before expiry: eBay allows 1,000 such grants per app per day."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, hosts: Hosts, client_id: str, client_secret: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        key = (hosts.api, client_id)
        with self._lock:
            found = self._tokens.get(key)
            if found and found[1] - 60 > now:
                return found[0]
        grant = _token_call(hosts, client_id, client_secret, {"grant_type": "client_credentials", "scope": APP_SCOPE})
        with self._lock:
            self._tokens[key] = (grant.access_token, now + grant.expires_in)
        return grant.access_token

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


app_tokens = AppTokens()


# ----------------------------------------------------------------------------- the API client
class EbayClient:
    """The seller's calls. ``token()`` gives the current user token (the caller caches and
    refreshes it: never one token request per call); ``on_unauthorized()`` refreshes once on a
    401 and returns the new token (or None)."""

    def __init__(self, hosts: Hosts, *, token, on_unauthorized=None, marketplace: str = "EBAY_FR",
                 shop_id: Any = None, app_token=None, signing_key: dict[str, str] | None = None,
                 retry: RetryPolicy | None = None, timeout: float = 20.0, sleep=None, on_retry=None,
                 clock=None) -> None:
        self.hosts = hosts
        self._token = token
        self._on_unauthorized = on_unauthorized
        self._app_token = app_token
        self.marketplace = marketplace
        self.signing_key = signing_key
        self.clock = clock or time
        kw: dict[str, Any] = {"retry": retry or RETRY, "timeout": timeout, "on_retry": on_retry}
        if sleep is not None:
            kw["sleep"] = sleep
        self.api = HttpClient(REMOTE, hosts.api, shop_id=shop_id, **kw)
        self.apiz = self.api if hosts.apiz == hosts.api else HttpClient(REMOTE, hosts.apiz, shop_id=shop_id, **kw)

    # ------------------------------------------------------------------ plumbing
    def _send(self, http: HttpClient, method: str, path: str, what: str, *, auth: str = "Bearer",
              app: bool = False, sign: bool = False, ok=(200, 201, 204, 207), **kw: Any) -> httpx.Response:
        headers = {"Accept": "application/json", "X-EBAY-C-MARKETPLACE-ID": self.marketplace,
                   **(kw.pop("headers", None) or {})}
        body = kw.pop("json", None)
        content = json.dumps(body).encode() if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            token = self._app_token() if app else self._token()
            sent = {**headers, "Authorization": f"{auth} {token}"}
            if sign:
                if not self.signing_key:
                    raise EbayError(_("Aucune clé de signature eBay pour ce compte : le test de connexion en crée "
                                      "une (appels signés obligatoires pour les vendeurs européens)."),
                                    message_en="No eBay signing key for this account: the connection test creates "
                                               "one.", retryable=False)
                url = http.url(path)
                sent.update(signing.sign_request(method, url, content, self.signing_key,
                                                 created=int(self.clock.time())))
            try:
                res = http.request(method, path, headers=sent, content=content, **kw)
            except TransportError as exc:
                raise EbayError(exc.message, message_en=exc.message_en, raw=exc.raw, retryable=True) from None
            if res.status_code == 401 and attempt == 1 and not app and self._on_unauthorized is not None:
                if self._on_unauthorized():
                    continue
            if res.status_code not in ok:
                raise error_for(res, what)
            return res
        raise error_for(res, what)  # pragma: no cover - the loop always returns or raises

    def _json(self, res: httpx.Response) -> Any:
        return res.json() if res.content else {}

    # ------------------------------------------------------------------ Fulfillment
    def get_orders(self, filter_: str | None, *, limit: int = ORDERS_PAGE, offset: int = 0) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if filter_:
            params["filter"] = filter_
        return self._json(self._send(self.api, "GET", "/sell/fulfillment/v1/order", "la lecture des commandes",
                                     params=params))

    def get_order(self, order_id: str) -> dict[str, Any]:
        return self._json(self._send(self.api, "GET", f"/sell/fulfillment/v1/order/{quote(order_id)}",
                                     "la lecture de la commande"))

    def create_shipping_fulfillment(self, order_id: str, body: dict[str, Any]) -> str:
        """201 with ``Location: …/shipping_fulfillment/{fulfillmentId}``: returns that id."""
        res = self._send(self.api, "POST", f"/sell/fulfillment/v1/order/{quote(order_id)}/shipping_fulfillment",
                         "le suivi de colis", json=body, idempotent=False)
        return res.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]

    def get_shipping_fulfillments(self, order_id: str) -> list[dict[str, Any]]:
        body = self._json(self._send(self.api, "GET",
                                     f"/sell/fulfillment/v1/order/{quote(order_id)}/shipping_fulfillment",
                                     "la lecture des suivis"))
        return list(body.get("fulfillments") or [])

    def issue_refund(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json(self._send(self.api, "POST", f"/sell/fulfillment/v1/order/{quote(order_id)}/issue_refund",
                                     "le remboursement", json=body, sign=True, idempotent=False))

    # ------------------------------------------------------------------ Inventory
    def bulk_update_price_quantity(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(requests) > BULK_PRICE_QUANTITY_MAX:
            raise ValueError("bulk_update_price_quantity takes at most 25 entries")
        res = self._send(self.api, "POST", "/sell/inventory/v1/bulk_update_price_quantity", "la mise à jour du stock",
                         json={"requests": requests}, idempotent=True,
                         headers={"Content-Language": "fr-FR"})
        return list(self._json(res).get("responses") or [])

    def get_inventory_items(self, *, limit: int = 200, offset: int = 0) -> dict[str, Any]:
        return self._json(self._send(self.api, "GET", "/sell/inventory/v1/inventory_item", "la lecture des annonces",
                                     params={"limit": limit, "offset": offset}))

    def get_offers(self, sku: str) -> list[dict[str, Any]]:
        try:
            res = self._send(self.api, "GET", "/sell/inventory/v1/offer", "la lecture des offres",
                             params={"sku": sku, "marketplace_id": self.marketplace, "limit": 25})
        except EbayError as exc:
            if exc.status == 404:
                return []
            raise
        return list(self._json(res).get("offers") or [])

    def bulk_migrate_listing(self, listing_ids: list[str]) -> list[dict[str, Any]]:
        res = self._send(self.api, "POST", "/sell/inventory/v1/bulk_migrate_listing", "la migration des annonces",
                         json={"requests": [{"listingId": i} for i in listing_ids[:BULK_MIGRATE_MAX]]},
                         idempotent=True)
        return list(self._json(res).get("responses") or [])

    # ------------------------------------------------------------------ Account, Identity
    def get_user(self) -> dict[str, Any]:
        return self._json(self._send(self.apiz, "GET", "/commerce/identity/v1/user/", "la lecture du compte"))

    def get_privileges(self) -> dict[str, Any]:
        return self._json(self._send(self.api, "GET", "/sell/account/v1/privilege", "la lecture du compte"))

    def get_fulfillment_policies(self, marketplace: str) -> list[dict[str, Any]]:
        body = self._json(self._send(self.api, "GET", "/sell/account/v1/fulfillment_policy",
                                     "la lecture des conditions d'expédition", params={"marketplace_id": marketplace}))
        return list(body.get("fulfillmentPolicies") or [])

    # ------------------------------------------------------------------ Notification
    def get_public_key(self, kid: str) -> dict[str, Any]:
        return self._json(self._send(self.api, "GET", f"/commerce/notification/v1/public_key/{quote(kid)}",
                                     "la lecture de la clé publique", app=True))

    def get_destinations(self) -> list[dict[str, Any]]:
        body = self._json(self._send(self.api, "GET", "/commerce/notification/v1/destination",
                                     "la lecture des destinations", params={"limit": 100}))
        return list(body.get("destinations") or [])

    def create_destination(self, name: str, endpoint: str, verification_token: str) -> str:
        res = self._send(self.api, "POST", "/commerce/notification/v1/destination", "la création de la destination",
                         json={"name": name, "status": "ENABLED",
                               "deliveryConfig": {"endpoint": endpoint, "verificationToken": verification_token}},
                         idempotent=False)
        return res.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]

    def get_subscriptions(self) -> list[dict[str, Any]]:
        body = self._json(self._send(self.api, "GET", "/commerce/notification/v1/subscription",
                                     "la lecture des abonnements", params={"limit": 100}))
        return list(body.get("subscriptions") or [])

    def create_subscription(self, topic: str, destination_id: str, schema_version: str = "1.0") -> str:
        res = self._send(self.api, "POST", "/commerce/notification/v1/subscription", "l'abonnement aux notifications",
                         json={"topicId": topic, "status": "ENABLED", "destinationId": destination_id,
                               "payload": {"format": "JSON", "deliveryProtocol": "HTTPS",
                                           "schemaVersion": schema_version}}, idempotent=False)
        return res.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]

    # ------------------------------------------------------------------ Key Management
    def create_signing_key(self, cipher: str = "ED25519") -> dict[str, Any]:
        return self._json(self._send(self.apiz, "POST", "/developer/key_management/v1/signing_key",
                                     "la création de la clé de signature", json={"signingKeyCipher": cipher},
                                     app=True, idempotent=False))

    # ------------------------------------------------------------------ Post-Order
    def _post_order(self, method: str, path: str, what: str, **kw: Any) -> dict[str, Any]:
        return self._json(self._send(self.api, method, f"/post-order/v2{path}", what, auth="IAF", **kw))

    def cancellation_eligibility(self, legacy_order_id: str) -> dict[str, Any]:
        return self._post_order("POST", "/cancellation/check_eligibility", "la vérification d'annulation",
                                json={"legacyOrderId": legacy_order_id}, idempotent=True)

    def create_cancellation(self, legacy_order_id: str, reason: str) -> dict[str, Any]:
        return self._post_order("POST", "/cancellation", "l'annulation",
                                json={"legacyOrderId": legacy_order_id, "cancelReason": reason,
                                      "buyerPaid": True}, sign=True, idempotent=False)

    def search_cancellations(self, legacy_order_id: str) -> list[dict[str, Any]]:
        body = self._post_order("GET", "/cancellation/search", "la lecture des annulations",
                                params={"legacy_order_id": legacy_order_id})
        return list(body.get("cancellations") or [])

    def search_returns(self, since: str, until: str | None = None, *, limit: int = RETURNS_PAGE,
                       page: int = 1) -> dict[str, Any]:
        """``GET /post-order/v2/return/search`` as the seller, by creation date (eBay's only
        date filter); ``offset`` is the page number, from 1."""
        params: dict[str, Any] = {"creation_date_range_from": since, "limit": limit, "offset": page}
        if until:
            params["creation_date_range_to"] = until
        return self._post_order("GET", "/return/search", "la lecture des retours", params=params)

    def get_return(self, return_id: str) -> dict[str, Any]:
        """``GET /post-order/v2/return/{returnId}`` with ``fieldgroups=SUMMARY``: the return's
        ``summary`` (the same fields as a search member)."""
        body = self._post_order("GET", f"/return/{quote(str(return_id))}", "la lecture du retour",
                                params={"fieldgroups": "SUMMARY"})
        return dict(body.get("summary") or {})

    # ------------------------------------------------------------------ Finances
    def get_transactions(self, filter_: str, *, limit: int = 1000, offset: int = 0) -> dict[str, Any]:
        return self._json(self._send(self.apiz, "GET", "/sell/finances/v1/transaction", "la lecture des frais",
                                     params={"filter": filter_, "limit": limit, "offset": offset}))


def authority(url: str) -> str:
    return urlsplit(url).netloc
