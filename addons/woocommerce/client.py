"""The wire of WooCommerce's REST API v3 (``https://{store}/wp-json/wc/v3``), on core's connector kit.

Only HTTP lives here: the store's address, the key pair, retries, the errors in the merchant's
words. What the payloads mean is in :mod:`.mapping`.

* The store is the merchant's own site, on any host: its address must be ``https://`` and the
  connection goes through the kit's guarded transport (an address of the server's own networks
  is refused when the connection opens), unless the installation runs the emulators or the
  operator allows the host (``OMS_OUTBOUND_ALLOW``).
* Authentication: HTTP Basic with the consumer key and secret (``ck_…:cs_…``) over HTTPS. Many
  Apache/CGI/FastCGI hosts strip the ``Authorization`` header before PHP sees it: WooCommerce
  then answers 401 (``woocommerce_rest_cannot_view``…) with correct keys. WooCommerce documents
  the fallback for HTTPS: the keys as ``consumer_key`` / ``consumer_secret`` query parameters.
  The client tries it once on such a 401 and says so (``switched_to_query``), so the connection
  test can record it for the shop.
* No rate limit in WooCommerce itself; hosts and WAFs answer 429/503: retried by the kit.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError
from core.connectors import current_policy, error_from
from core.connectors.http import pooled
from core.connectors.outbound import GuardedTransport
from core.i18n import _

REMOTE = Remote("woocommerce", "WooCommerce", ())
API_PREFIX = "/wp-json/wc/v3"
TRACKING_PREFIX = "/wp-json/wc-shipment-tracking/v3"
#: WooCommerce's own maximum page size (``per_page`` 1..100)
PER_PAGE = 100
#: a few seconds of retries: longer outages go back to the job queue (a retryable error)
RETRY = RetryPolicy(attempts=4, base=0.5, cap=5.0, max_wait=15.0)
#: the 401 codes WooCommerce answers when it saw no credentials (the header stripped)
NO_CREDENTIALS = frozenset({"woocommerce_rest_cannot_view", "woocommerce_rest_cannot_create",
                            "woocommerce_rest_cannot_edit", "rest_forbidden", "woocommerce_rest_cannot_batch"})
#: the 401 code of keys WooCommerce read and refused ("Consumer key is invalid.")
BAD_KEYS = "woocommerce_rest_authentication_error"

STRIPPED_FR = ("WooCommerce a refusé les clés (401) alors qu'elles sont envoyées en HTTP Basic : le serveur de la "
               "boutique supprime probablement l'en-tête « Authorization » avant WordPress (fréquent avec Apache en "
               "CGI/FastCGI). Vérifiez la clé et le secret, puis ajoutez dans le .htaccess du site : "
               "« RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}] », ou laissez l'OMS passer les clés "
               "dans l'adresse (consumer_key/consumer_secret, en HTTPS), comme WooCommerce le prévoit.")
STRIPPED_EN = ("WooCommerce refused the keys (401) sent with HTTP Basic: the store's server probably strips the "
               "\"Authorization\" header before WordPress (common with Apache in CGI/FastCGI). Check the key and "
               "secret, then add to the site's .htaccess: \"RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:"
               "Authorization}]\", or let the OMS send the keys in the address (consumer_key/consumer_secret, over "
               "HTTPS), as WooCommerce provides.")


class WooError(RemoteError):
    """A refusal or an outage of a WooCommerce store; ``str()`` is the merchant's French sentence,
    ``code`` WooCommerce's error code (``woocommerce_rest_…``) when it gave one."""

    def __init__(self, *args: Any, code: str = "", body: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.code = code
        self.body = body

    @property
    def credentials(self) -> bool:
        return self.status in (401, 403)


def store_root(url: str | None) -> str:
    """The store's address, normalised (``https://boutique.fr/shop``): https, no query, no
    trailing slash. The emulators and the operator's allow-list may use plain http."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused(_("L'adresse de la boutique « %(text)s » n'est pas valide : elle doit commencer par "
                                "https://.", text=text), f"The store address \"{text}\" is not valid: it must start with https://.")
    policy = current_policy()
    if parts.scheme != "https" and not (policy.sandboxes or policy.allows(parts.hostname, parts.port or 80)):
        raise OutboundRefused(_("L'adresse de la boutique doit commencer par https:// : les clés WooCommerce ne "
                                "circulent qu'en HTTPS."), "The store address must start with https://: WooCommerce keys "
                              "only travel over HTTPS.")
    path = parts.path.rstrip("/")
    for suffix in ("/wp-json/wc/v3", "/wp-json", "/wp-admin"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    netloc = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}{path}"


def account_key(url: str | None) -> str | None:
    """The remote account a store address names: host and path, without scheme or ``www.``."""
    try:
        root = store_root(url)
    except OutboundRefused:
        text = (url or "").strip().lower()
        return text.removeprefix("https://").removeprefix("http://").rstrip("/") or None
    host_path = root.split("://", 1)[1]
    return host_path.removeprefix("www.")


def _error_body(res: httpx.Response) -> dict[str, Any]:
    try:
        body = res.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class Client:
    """One WooCommerce store for one shop."""

    def __init__(self, store_url: str, consumer_key: str, consumer_secret: str, *, auth_in_query: bool = False,
                 shop_id: int | None = None, **options: Any) -> None:
        try:
            root = store_root(store_url)
        except OutboundRefused as exc:
            raise WooError(exc.message, message_en=exc.message_en, retryable=False) from None
        options.setdefault("retry", RETRY)
        timeout = options.setdefault("timeout", 20.0)
        if "http" not in options and "transport" not in options:
            policy = current_policy()
            options["http"] = pooled(("woocommerce-guarded", shop_id, root, timeout, policy),
                                     lambda: httpx.Client(timeout=timeout, transport=GuardedTransport(policy)))
        self.root = root
        self.key, self.secret = consumer_key or "", consumer_secret or ""
        self.auth_in_query = auth_in_query
        self.switched_to_query = False
        #: seconds between requests once the host answered 429 (its Retry-After): the rest of the
        #: run is paced instead of meeting the limit again on every call
        self.pace = 0.0
        self.http = HttpClient(REMOTE, root, shop_id=shop_id, headers={"Accept": "application/json"},
                               on_retry=self._on_retry, **options)

    @classmethod
    def from_settings(cls, settings: dict[str, Any], shop_id: int | None = None, **options: Any) -> "Client":
        return cls(settings.get("store_url") or "", settings.get("consumer_key") or "",
                   settings.get("consumer_secret") or "", auth_in_query=bool(settings.get("auth_in_query")),
                   shop_id=shop_id, **options)

    # ------------------------------------------------------------------ the wire
    def _credentials(self, in_query: bool, params: dict[str, Any] | None) -> tuple[Any, dict[str, Any]]:
        params = dict(params or {})
        if in_query:
            params.update(consumer_key=self.key, consumer_secret=self.secret)
            return None, params
        return httpx.BasicAuth(self.key, self.secret), params

    def raw(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
            idempotent: bool | None = None, signed: bool = True) -> httpx.Response:
        """One call; the final answer whatever its status (a 401 under Basic tried once with
        the query-string keys). Network failures after the retries raise WooError."""
        url = path if path.startswith("/wp-json") else API_PREFIX + path

        def send(in_query: bool) -> httpx.Response:
            if self.pace:
                self.http.sleep(self.pace)
            auth, query = self._credentials(in_query, params) if signed else (None, dict(params or {}))
            self.http.auth = auth
            try:
                return self.http.request(method, url, params=query, json=json, idempotent=idempotent)
            except TransportError as exc:
                raise WooError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
            except OutboundRefused:  # the store's address leads to the server's own networks
                raise WooError(_("L'adresse de la boutique mène au réseau interne du serveur : indiquez l'adresse "
                                 "publique du site WooCommerce."), message_en="The store address leads to the server's "
                               "internal network: give the WooCommerce site's public address.",
                               retryable=False) from None

        res = send(self.auth_in_query)
        if signed and res.status_code == 401 and not self.auth_in_query \
                and _error_body(res).get("code") in NO_CREDENTIALS:
            retry = send(True)
            if retry.status_code != 401:
                self.auth_in_query = self.switched_to_query = True
                return retry
            return retry
        return res

    def _on_retry(self, res: httpx.Response | None, wait: float) -> None:
        if res is not None and res.status_code == 429:
            self.pace = max(self.pace, min(wait, 10.0))

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; the JSON answer, or WooError in the merchant's words."""
        return self.checked(self.raw(method, path, **kwargs))

    def checked(self, res: httpx.Response) -> Any:
        if res.status_code < 400:
            try:
                return res.json() if res.content else None
            except ValueError:
                raise error_from(res, _("La boutique a répondu autre chose que du JSON : l'API REST de "
                                        "WooCommerce est-elle active (réglages des permaliens « Titre de la "
                                        "publication ») ?"),
                                 "The store answered something else than JSON: is the WooCommerce REST API on "
                                 "(permalinks set to \"Post name\")?", cls=WooError, retryable=False) from None
        body = _error_body(res)
        code, message = str(body.get("code") or ""), str(body.get("message") or "")
        extra = {"cls": WooError, "code": code, "body": body}
        if res.status_code == 401:
            if code in NO_CREDENTIALS:  # no credentials reached WordPress, in the header or the query
                raise error_from(res, STRIPPED_FR, STRIPPED_EN, **extra)
            raise error_from(res, _("WooCommerce refuse la clé et le secret (401) : vérifiez-les dans WooCommerce "
                                    "→ Réglages → Avancé → API REST, ou créez une nouvelle clé."),
                             "WooCommerce refuses the key and secret (401): check them in WooCommerce → Settings → "
                             "Advanced → REST API, or create a new key.", **extra)
        if res.status_code == 403:
            raise error_from(res, _("La clé WooCommerce n'a pas les droits nécessaires (403) : donnez-lui les "
                                    "droits « Lecture/Écriture »."), "The WooCommerce key lacks the rights needed (403): give it "
                             "\"Read/Write\" permissions.", **extra)
        if res.status_code == 404 and not code:
            raise error_from(res, _("L'API REST de WooCommerce est introuvable sur ce site (404) : vérifiez "
                                    "l'adresse de la boutique et activez les permaliens « Titre de la publication "
                                    "» dans WordPress."),
                             "The WooCommerce REST API was not found on this site (404): check the store address "
                             "and turn on \"Post name\" permalinks in WordPress.", **extra)
        detail = f" : {message}" if message else ""
        raise error_from(res, _("WooCommerce a refusé la demande (HTTP %(status_code)s)%(detail)s.",
                                status_code=res.status_code, detail=detail),
                         f"WooCommerce refused the request (HTTP {res.status_code}){detail}.", **extra)

    def pages(self, path: str, params: dict[str, Any]):
        """Every page of a collection (``per_page=100``, ``page=N``), following
        ``X-WP-TotalPages``: yields (page number, items, total pages)."""
        page = 1
        while True:
            res = self.raw("GET", path, params={**params, "per_page": PER_PAGE, "page": page})
            items = self.checked(res) or []
            total = int(res.headers.get("X-WP-TotalPages") or 1)
            yield page, items, total
            if page >= total or not items:
                return
            page += 1

    # ------------------------------------------------------------------ operations
    def index(self) -> dict[str, Any]:
        """The public route index of ``wc/v3`` (no credentials: a 404 means no pretty permalinks)."""
        return self.request("GET", "", signed=False)

    def system_status(self) -> dict[str, Any]:
        return self.request("GET", "/system_status")

    def order(self, order_id: int | str) -> dict[str, Any]:
        return self.request("GET", f"/orders/{order_id}")

    def update_order(self, order_id: int | str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/orders/{order_id}", json=body)

    def notes(self, order_id: int | str) -> list[dict[str, Any]]:
        return self.request("GET", f"/orders/{order_id}/notes", params={"type": "customer"})

    def add_note(self, order_id: int | str, note: str) -> dict[str, Any]:
        return self.request("POST", f"/orders/{order_id}/notes", json={"note": note, "customer_note": True})

    def variations(self, product_id: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _n, items, _t in self.pages(f"/products/{product_id}/variations", {}):
            out.extend(items)
        return out

    def batch(self, path: str, updates: list[dict[str, Any]]) -> dict[str, Any]:
        """``POST …/batch {"update": [...]}``: absolute stock figures, so a resend is harmless."""
        return self.request("POST", path, json={"update": updates}, idempotent=True)

    def webhooks(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _n, items, _t in self.pages("/webhooks", {}):
            out.extend(items)
        return out

    def create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/webhooks", json=body)

    def update_webhook(self, webhook_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/webhooks/{webhook_id}", json=body)

    def trackings(self, order_id: int | str) -> list[dict[str, Any]]:
        return self.request("GET", f"{TRACKING_PREFIX}/orders/{order_id}/shipment-trackings")

    def add_tracking(self, order_id: int | str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"{TRACKING_PREFIX}/orders/{order_id}/shipment-trackings", json=body)
