"""The wire of the Mirakl Marketplace Platform (MMP) seller API, on core's connector kit.

One operator, one instance: ``https://<operator>-prod.mirakl.net``. The shop's API key goes
bare in ``Authorization`` (no ``Bearer``), and ``shop_id`` rides on every call when one
user holds several shops (Mirakl seller OpenAPI, security scheme ``shop_api_key``).

Mirakl publishes no 429 in its OpenAPI but answers one in practice, with or without
``Retry-After`` (mirakl/sdk-php-shop#61): the kit's ``HttpClient`` retries it, honouring the
header when present and backing off exponentially otherwise. Calls to one instance with one
key are serialised in this process (Mirakl's advice: no parallel fans per key); across
processes the per-operation frequency buckets (``limits.py``) and the per-shop unique job ids
keep the calls apart.
"""
from __future__ import annotations

import hashlib
import threading
from typing import Any
from urllib.parse import urlsplit

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, error_from
from core.i18n import _

REMOTE = Remote("mirakl", "Mirakl", ("*.mirakl.net",))
#: a template for the form's validator: every operator's instance is a host of mirakl.net
ANY_INSTANCE = "https://instance.mirakl.net"
RETRY = RetryPolicy(attempts=5, base=1.0, cap=30.0, max_wait=60.0)
#: id-list filters take at most 100 values (stripe/stripe-mirakl-connector#89)
MAX_IDS = 100
#: offset-paged lists: the default page is 10, the largest 100 (mirakl/sdk-php-shop PageableTrait)
MAX_PAGE = 100


class MiraklError(RemoteError):
    """A refusal or an outage of a Mirakl instance; ``str()`` is the merchant's French sentence."""

    @property
    def credentials(self) -> bool:
        return self.status in (401, 403)

    @property
    def code(self) -> str:
        """Mirakl's business error code when the body names one (``ORDER_INVALID_STATE``…)."""
        raw = self.raw or ""
        for word in ("ORDER_INVALID_STATE", "ORDER_LINE_ACCEPTANCE_DECISION_MISSING", "ORDER_LINE_DUPLICATE_ID",
                     "ORDER_LINE_NOT_FOUND", "ORDER_NOT_FOUND", "ORDER_PARTIAL_ACCEPTANCE_DISABLED",
                     "ORDER_FULFILLED_UNAUTHORIZED", "VALIDATION_ERROR"):
            if word in raw:
                return word
        return ""


_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def account_key(instance_url: str, api_key: str) -> str:
    """``host:hash-of-key``: what Mirakl counts calls per (an instance and a key)."""
    host = (urlsplit(instance_url).hostname or instance_url).lower()
    return f"{host}:{hashlib.sha256((api_key or '').encode()).hexdigest()[:12]}"


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(("mirakl", key), threading.Lock())


class MiraklClient:
    def __init__(self, instance_url: str, api_key: str, *, shop_id: str | int | None = None,
                 oms_shop_id: int | None = None, **options: Any) -> None:
        """``instance_url``: the operator's instance; ``shop_id``: Mirakl's shop id when the
        key has several shops; ``options`` go to the kit's ``HttpClient``."""
        if not instance_url:
            raise MiraklError(_("Adresse de l'instance Mirakl manquante : renseignez-la dans les réglages."),
                              message_en="Mirakl instance address missing: fill it in the settings.",
                              retryable=False)
        try:
            root = REMOTE.base_url(instance_url, ANY_INSTANCE, what="l'instance", what_en="instance")
        except OutboundRefused as exc:
            raise MiraklError(exc.message, message_en=exc.message_en, retryable=False) from None
        self.instance_url = root.rstrip("/")
        self.account = account_key(self.instance_url, api_key)
        self.shop_id = str(shop_id).strip() if shop_id not in (None, "") else None
        options.setdefault("retry", RETRY)
        self.http = HttpClient(REMOTE, self.instance_url, shop_id=oms_shop_id, **options,
                               headers={"Authorization": api_key or "", "Accept": "application/json"})

    # ------------------------------------------------------------------ transport
    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """One call, serialised per instance and key; the parsed answer (JSON, text for CSV,
        None for 204) or MiraklError."""
        params = dict(params or {})
        if self.shop_id:
            params["shop_id"] = self.shop_id
        with _lock_for(self.account):
            try:
                res = self.http.request(method, path, params=params, **kwargs)
            except TransportError as exc:  # no answer after the retries
                raise MiraklError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        if res.status_code in (401, 403):
            raise error_from(res, _("Clé API refusée par Mirakl : générez une nouvelle clé dans votre espace "
                                    "vendeur (menu de votre compte › Clé API) et enregistrez-la dans les réglages."),
                             "API key refused by Mirakl: generate a new key in your seller back office "
                             "(your account menu › API key) and save it in the settings.", cls=MiraklError)
        if res.status_code == 404:
            raise error_from(res, _("Mirakl ne trouve pas cette ressource (404) : vérifiez l'adresse de "
                                    "l'instance."),
                             "Mirakl cannot find this resource (404): check the instance address.",
                             cls=MiraklError)
        if res.status_code == 429:
            raise error_from(res, _("Mirakl limite le nombre d'appels : nouvel essai plus tard."),
                             "Mirakl rate limit reached: retrying later.", cls=MiraklError)
        if res.status_code >= 400:
            raise error_from(res, _("Mirakl a refusé la demande (HTTP %(status_code)s) : %(res)s",
                                    status_code=res.status_code, res=_message(res)),
                             f"Mirakl refused the request (HTTP {res.status_code}): {_message(res)}",
                             cls=MiraklError)
        if not res.content:
            return None
        if "json" in res.headers.get("Content-Type", ""):
            return res.json()
        return res.text

    # ------------------------------------------------------------------ account (A01), carriers (SH21), reasons (RE02)
    def shop_account(self) -> dict[str, Any]:
        return self.request("GET", "/api/account")

    def carriers(self) -> list[dict[str, Any]]:
        return self.request("GET", "/api/shipping/carriers")["carriers"]

    def reasons(self, reason_type: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/api/reasons/{reason_type}")["reasons"]

    # ------------------------------------------------------------------ orders
    def orders(self, *, offset: int = 0, max_: int = MAX_PAGE, **filters: Any) -> dict[str, Any]:
        """OR11: one page (``orders``, ``total_count``), offset-paged, 100 at most."""
        params = {k: v for k, v in filters.items() if v not in (None, "")}
        params.update(offset=offset, max=min(max_, MAX_PAGE), paginate="true")
        return self.request("GET", "/api/orders", params=params)

    def orders_by_id(self, order_ids: list[str]) -> list[dict[str, Any]]:
        """OR11 by ids, in chunks of 100 (the documented cap of id lists)."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(order_ids), MAX_IDS):
            chunk = order_ids[start:start + MAX_IDS]
            found += self.orders(order_ids=",".join(chunk), max_=MAX_PAGE)["orders"]
        return found

    def accept(self, order_id: str, lines: list[tuple[str, bool]]) -> None:
        """OR21: every line of the order, accepted or refused, in one call."""
        # not resent by the kit: an answer lost after Mirakl took it would be refused the
        # second time; the job reads the order (OR11) before it sends again
        self.request("PUT", f"/api/orders/{order_id}/accept", idempotent=False,
                     json={"order_lines": [{"id": lid, "accepted": ok} for lid, ok in lines]})

    def tracking(self, order_id: str, body: dict[str, Any]) -> None:
        """OR23: ``carrier_code`` for a listed carrier, else ``carrier_name`` (+ ``carrier_url``)."""
        self.request("PUT", f"/api/orders/{order_id}/tracking", json=body)

    def ship(self, order_id: str) -> None:
        """OR24: the order leaves SHIPPING for SHIPPED (read before it is sent again)."""
        self.request("PUT", f"/api/orders/{order_id}/ship", idempotent=False)

    def cancel(self, order_id: str) -> None:
        """OR29: the whole order (read before it is sent again)."""
        self.request("PUT", f"/api/orders/{order_id}/cancel", idempotent=False)

    def cancel_lines(self, cancelations: list[dict[str, Any]]) -> dict[str, Any]:
        """OR30: quantities of lines (each with its reason code)."""
        return self.request("PUT", "/api/orders/cancel", idempotent=False, json={"cancelations": cancelations})

    def refund(self, refunds: list[dict[str, Any]]) -> dict[str, Any]:
        """OR28: refunds of lines (each with its reason code)."""
        return self.request("PUT", "/api/orders/refund", idempotent=False, json={"refunds": refunds})

    def create_shipments(self, shipments: list[dict[str, Any]]) -> dict[str, Any]:
        """ST01: shipments of some lines of an order (operators with multiple shipments)."""
        return self.request("POST", "/api/shipments", json={"shipments": shipments}, idempotent=False)

    # ------------------------------------------------------------------ returns (RT11 / RT21)
    def returns(self, *, page_token: str | None = None, limit: int = 100, **filters: Any) -> dict[str, Any]:
        params = {k: v for k, v in filters.items() if v not in (None, "")}
        params["limit"] = min(limit, 100)
        if page_token:
            params["page_token"] = page_token
        return self.request("GET", "/api/returns", params=params)

    def accept_returns(self, decisions: list[dict[str, Any]]) -> dict[str, Any]:
        """RT21: ``{"id", "accepted", "rejection_reason_code"}`` for at most 100 return requests;
        each is answered apart (``return_success``, ``return_errors``). No idempotency key: a lost
        answer is settled by reading the return (RT11 ``return_id``) before sending again."""
        if not 1 <= len(decisions) <= 100:
            raise ValueError("RT21 takes between 1 and 100 returns")
        return self.request("PUT", "/api/returns/accept", json={"returns": decisions}, idempotent=False) or {}

    # ------------------------------------------------------------------ offers (OF21)
    def offers(self, *, offset: int = 0, max_: int = MAX_PAGE) -> dict[str, Any]:
        """OF21: one page of the shop's offers (``offers``, ``total_count``), offset-paged."""
        return self.request("GET", "/api/offers", params={"offset": offset, "max": min(max_, MAX_PAGE),
                                                          "paginate": "true"})

    # ------------------------------------------------------------------ stock (STO01 / STO02 / STO03)
    def import_stock(self, csv_text: str) -> str:
        """STO01: the CSV file of quantities; Mirakl's import id. Not resent on its own: an
        answer lost after the upload is settled by the caller (the next import carries the
        same final figures)."""
        body = self.request("POST", "/api/offers/stock/imports", idempotent=False,
                            files={"file": ("stock.csv", csv_text.encode("utf-8"), "text/csv")})
        return str(body["import_id"])

    def stock_import_status(self, import_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/offers/stock/imports/{import_id}/status")

    def stock_import_errors(self, import_id: str) -> str:
        return self.request("GET", f"/api/offers/stock/imports/{import_id}/error_report")


def _message(res) -> str:
    """Mirakl's own message (the shape of error bodies is not specified: ``message`` is usual)."""
    try:
        body = res.json()
    except ValueError:
        return (res.text or "").strip()[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or "")[:300]
    return ""
