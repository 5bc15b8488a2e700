"""Octopia's Seller API v2 (Cdiscount's marketplace), on core's connector kit: only the wire.

* Auth: OAuth2 client credentials on Octopia's own auth server
  (``POST https://auth.octopia-io.net/auth/realms/maas/protocol/openid-connect/token``, form
  ``grant_type=client_credentials&client_id=…&client_secret=…``) → ``access_token`` and
  ``expires_in`` (about 2 h). The token endpoint is limited to 500 tokens an hour: the token is
  cached per (auth server, client id) for its lifetime minus a margin, and asked again once
  on a 401 (developer.octopia-io.net, authentication and migration guides).
* Every data call sends ``Authorization: Bearer <token>`` and ``SellerId: <seller id>``.
* Errors are RFC 7807 problem details (``title``, ``detail``, ``errors``); the sentence the
  merchant reads quotes ``detail``.
* Approval and shipment calls carry no idempotency key in Octopia's API: they are sent once
  (never retried by the kit); the job reads the order back before deciding to send again.
"""
from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, error_from
from core.i18n import _

DEFAULT_BASE_URL = "https://api.octopia-io.net/seller/v2"
DEFAULT_TOKEN_URL = "https://auth.octopia-io.net/auth/realms/maas/protocol/openid-connect/token"
REMOTE = Remote("cdiscount", "Cdiscount (Octopia)", ("api.octopia-io.net", "auth.octopia-io.net"))
#: a few seconds of retries: longer outages go back to the job queue (a retryable error)
RETRY = RetryPolicy(attempts=4, base=0.5, cap=5.0, max_wait=15.0)
#: page size of GET /orders: 100 is Octopia's maximum ("limited to a 100 items")
PAGE_SIZE = 100
#: offers asked per page of GET /offers (two third-party clients send ``limit`` up to 1000;
#: 100 keeps each page's commit small, as the orders' pages)
OFFERS_PAGE_SIZE = 100
#: Cdiscount's sales channel on Octopia (GET /offers requires one)
SALES_CHANNEL = "CDISFR"
#: a token is used until this many seconds before its documented expiry
TOKEN_MARGIN = 120.0


class CdiscountError(RemoteError):
    """A refusal or an outage of Octopia; ``str()`` is the merchant's French sentence."""


class _TokenCache:
    """Tokens per (auth server, client id), shared by the process's clients: one token every
    ~2 h per worker, far below the 500 an hour the auth server allows."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, key: tuple[str, str], now: float) -> str | None:
        with self.lock:
            found = self.tokens.get(key)
        return found[0] if found and found[1] > now else None

    def put(self, key: tuple[str, str], token: str, until: float) -> None:
        with self.lock:
            self.tokens[key] = (token, until)

    def drop(self, key: tuple[str, str], token: str | None = None) -> None:
        with self.lock:
            if token is None or (key in self.tokens and self.tokens[key][0] == token):
                self.tokens.pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self.tokens.clear()


token_cache = _TokenCache()


def _problem(res: httpx.Response) -> str:
    """The ``detail`` (or ``title``) of Octopia's problem details, for the merchant's sentence."""
    try:
        body = res.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    text = str(body.get("detail") or body.get("title") or body.get("error_description") or "").strip()
    errors = body.get("errors")
    if isinstance(errors, dict):
        text = "; ".join([text] + [f"{k} : {', '.join(map(str, v if isinstance(v, list) else [v]))}"
                                   for k, v in errors.items()]).strip("; ")
    return text[:300]


def next_cursor(link: str | None, body: Any = None) -> str | None:
    """The ``cursor`` of the ``rel="next"`` URL of a ``Link`` header (or the body's
    ``nextCursor``); None when no page follows."""
    for part in (link or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel.replace(" ", "") or "rel=next" in rel.replace(" ", ""):
            found = parse_qs(urlsplit(url.strip().strip("<>")).query).get("cursor")
            if found and found[0]:
                return found[0]
    if isinstance(body, dict) and body.get("nextCursor"):
        return str(body["nextCursor"])
    return None


class Client:
    def __init__(self, client_id: str, client_secret: str, seller_id: str, *, base_url: str | None = None,
                 token_url: str | None = None, shop_id: int | None = None,
                 now: Callable[[], float] = time.time, **options: Any) -> None:
        """``options`` go to the kit's ``HttpClient`` (``retry``, ``timeout``, ``sleep``, ``http``…)."""
        try:
            root = REMOTE.base_url(base_url, DEFAULT_BASE_URL)
            self.token_url = REMOTE.base_url(token_url, DEFAULT_TOKEN_URL, what="du serveur d'authentification",
                                             what_en="auth server")
        except OutboundRefused as exc:
            raise CdiscountError(exc.message, message_en=exc.message_en, retryable=False) from None
        self.client_id, self.client_secret, self.seller_id = client_id.strip(), client_secret, str(seller_id).strip()
        self.now = now
        options.setdefault("retry", RETRY)
        self.http = HttpClient(REMOTE, root, shop_id=shop_id, **options,
                               headers={"Accept": "application/json", "SellerId": self.seller_id})
        self.tokens_asked = 0
        self.links_seen = False

    @classmethod
    def from_settings(cls, settings: dict[str, Any], shop_id: int | None = None, **options: Any) -> "Client":
        return cls(settings.get("client_id") or "", settings.get("client_secret") or "",
                   settings.get("seller_id") or "", base_url=settings.get("api_base_url"),
                   token_url=settings.get("token_url"), shop_id=shop_id, **options)

    # ------------------------------------------------------------------ auth
    @property
    def _key(self) -> tuple[str, str]:
        """Per auth server, client id and secret: new credentials never reuse an old token."""
        digest = hashlib.sha256(self.client_secret.encode()).hexdigest()[:16]
        return (self.token_url, f"{self.client_id}:{digest}")

    def token(self) -> str:
        cached = token_cache.get(self._key, self.now())
        if cached:
            return cached
        if not self.client_id or not self.client_secret:
            raise CdiscountError(_("Identifiant client ou secret Octopia manquant : renseignez-les dans les "
                                   "réglages."),
                                 message_en="Octopia client id or secret missing: fill them in the settings.",
                                 retryable=False)
        try:  # asking for a token twice is harmless: the kit may resend it
            res = self.http.request("POST", self.token_url, idempotent=True, data={
                "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret})
        except TransportError as exc:
            raise CdiscountError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        self.tokens_asked += 1
        if res.status_code in (400, 401):
            raise error_from(res, _("Octopia refuse l'identifiant client ou le secret : vérifiez-les sur la page "
                                    "« Gestion des identifiants API » du portail vendeur."),
                             "Octopia refuses the client id or secret: check them on the seller portal's "
                             "API credentials page.", cls=CdiscountError)
        if res.status_code >= 400:
            raise error_from(res, _("Le serveur d'authentification Octopia a refusé la demande (HTTP "
                                    "%(status_code)s).", status_code=res.status_code),
                             f"Octopia's auth server refused the request (HTTP {res.status_code}).",
                             cls=CdiscountError)
        body = res.json()
        token = str(body.get("access_token") or "")
        if not token:
            raise CdiscountError(_("Octopia n'a pas donné de jeton d'accès."), message_en="Octopia gave no access token.")
        lifetime = float(body.get("expires_in") or 300)
        token_cache.put(self._key, token, self.now() + max(lifetime - min(TOKEN_MARGIN, lifetime / 4), 1.0))
        return token

    # ------------------------------------------------------------------ calls
    def send(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any) -> httpx.Response:
        """One call with the bearer token and the seller id; a 401 asks for a new token once."""
        for attempt in (1, 2):
            token = self.token()
            try:
                res = self.http.request(method, path, idempotent=idempotent,
                                        headers={"Authorization": f"Bearer {token}"}, **kwargs)
            except TransportError as exc:  # no answer, after the retries (if any)
                raise CdiscountError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
            if res.status_code == 401 and attempt == 1:
                token_cache.drop(self._key, token)  # expired or revoked: one fresh token, once
                continue
            break
        if res.status_code == 401:
            raise error_from(res, _("Octopia refuse le jeton d'accès : vérifiez l'identifiant client et le secret."),
                             "Octopia refuses the access token: check the client id and secret.", cls=CdiscountError)
        if res.status_code == 403:
            raise error_from(res, _("Octopia refuse l'accès à ce vendeur : vérifiez l'identifiant vendeur "
                                    "(SellerId) et que ces identifiants API lui sont rattachés."),
                             "Octopia denies access to this seller: check the seller id and that the API "
                             "credentials belong to it.", cls=CdiscountError)
        if res.status_code >= 400:
            detail = _problem(res)
            extra = f" : {detail}" if detail else "."
            raise error_from(res, _("Octopia a refusé la demande (HTTP %(status_code)s)%(extra)s",
                                    status_code=res.status_code, extra=extra),
                             f"Octopia refused the request (HTTP {res.status_code}){extra}", cls=CdiscountError)
        return res

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        res = self.send(method, path, **kwargs)
        return res.json() if res.content else None

    # ------------------------------------------------------------------ operations
    def seller(self) -> dict[str, Any]:
        """``GET /sellers``: the seller's information (the connection test's harmless call)."""
        return self.request("GET", "/sellers") or {}

    def carriers(self) -> list[dict[str, Any]]:
        """``GET /carriers``: the carriers Octopia accepts in shipments."""
        body = self.request("GET", "/carriers")
        return body.get("items", []) if isinstance(body, dict) else (body or [])

    def _page(self, path: str, page: int, params: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """One page of a list (1-based ``pageIndex``, ``pageSize`` ≤ 100): its items, and whether
        another page follows (the ``Link: <…>; rel="next"`` header; without a Link header, a
        full page means there may be another)."""
        params = {"pageIndex": page, "pageSize": PAGE_SIZE, **{k: v for k, v in params.items() if v is not None}}
        res = self.send("GET", path, params=params)
        items = (res.json() or {}).get("items") or []
        link = res.headers.get("Link")
        if link is not None:
            self.links_seen = True
        # once the API has sent a Link header, its absence on a page means the last page
        more = 'rel="next"' in link if link is not None else (not self.links_seen and len(items) >= PAGE_SIZE)
        return items, more

    def orders_page(self, page: int, **filters: Any) -> tuple[list[dict[str, Any]], bool]:
        """``GET /orders`` (filters such as ``updatedAtMin``), sorted by last update, oldest first."""
        return self._page("/orders", page, {"sort": "updatedAt", "desc": "false", **filters})

    def operations_page(self, page: int, **filters: Any) -> tuple[list[dict[str, Any]], bool]:
        """``GET /operations`` of the Financial Report API (``eventTypes``, ``updatedAtMin``…):
        sales, commissions, refunds of the seller's orders, the day after the order's
        acceptance. The attributes are documented (developer.octopia-io.net, "Financial
        management"); the path and its paging, as ``GET /orders``, are this add-on's reading."""
        return self._page("/operations", page, {"sort": "updatedAt", "desc": "false", **filters})

    def offers_page(self, cursor: str | None = None, sales_channel: str = SALES_CHANNEL,
                    **filters: Any) -> tuple[list[dict[str, Any]], str | None]:
        """``GET /offers`` of the Offers Catalog Retrieval API: one page of the seller's offers
        on a sales channel (``salesChannelId`` is required in every request, as Octopia's
        "Retrieve Offers" page says), and the cursor of the next page, or None after the last.

        The paging — ``limit`` and an opaque ``cursor`` handed back in the ``Link: <…>;
        rel="next"`` header — is known from third-party clients only (an edge function and a
        PHP SDK agree); a ``nextCursor`` in the body is taken as well."""
        params = {"salesChannelId": sales_channel, "limit": OFFERS_PAGE_SIZE,
                  **{k: v for k, v in filters.items() if v is not None}}
        if cursor:
            params["cursor"] = cursor
        res = self.send("GET", "/offers", params=params)
        body = res.json() if res.content else {}
        items = (body.get("items") if isinstance(body, dict) else body) or []
        return [i for i in items if isinstance(i, dict)], next_cursor(res.headers.get("Link"), body)

    def order(self, order_id: str) -> dict[str, Any]:
        return self.request("GET", f"/orders/{order_id}") or {}

    def set_approval(self, order_id: str, accepted: bool) -> None:
        """``POST /orders/{orderId}/approval-status``: sent once, never resent by the kit."""
        self.send("POST", f"/orders/{order_id}/approval-status", idempotent=False,
                  json={"approval_status": "Accepted" if accepted else "Refused"})

    def ship(self, order_id: str, parcels: list[dict[str, Any]]) -> None:
        """``POST /orders/{orderId}/shipments`` with a list of parcels: sent once."""
        self.send("POST", f"/orders/{order_id}/shipments", idempotent=False, json=parcels)

    def put_offers(self, offers: list[dict[str, Any]]) -> Any:
        """``PUT /offers``: stock and price of a batch of offers (a PUT: safe to resend)."""
        return self.request("PUT", "/offers", json=offers)

    def cancel(self, order_id: str, reason: str) -> Any:
        """``POST /order-cancellation-requests``: the seller cancels a whole order."""
        return self.request("POST", "/order-cancellation-requests", idempotent=False,
                            json={"orderSellerId": order_id, "reason": reason, "shippingCostRefund": True})
