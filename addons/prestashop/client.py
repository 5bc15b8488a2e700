"""The wire of PrestaShop's webservice (``https://{shop}/api/…``, PrestaShop 1.7, 8 and 9), on
core's connector kit. The Admin API of PrestaShop 9 has no orders, so orders, order states,
order carriers and stock go through the webservice.

* Authentication: HTTP Basic with the webservice key as user and an empty password. Apache
  in CGI/FastCGI may strip the header: PrestaShop then answers 401 with correct keys; the
  documented fallback is the ``ws_key`` query parameter (HTTPS only), tried once and
  remembered (``switched_to_query``).
* Reads ask ``output_format=JSON``; writes are XML bodies (``<prestashop><order_history>…``).
* Lists page with ``limit=offset,count`` (no total); date filters need ``date=1``.
* No rate limit in PrestaShop: small shared hosts are spared by one request at a time; their
  429/503 are retried by the kit.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError
from core.connectors import current_policy, error_from
from core.connectors.http import pooled
from core.connectors.outbound import GuardedTransport

from . import xmlio
from core.i18n import _

REMOTE = Remote("prestashop", "PrestaShop", ())
PAGE = 100
#: the node of a resource's list when it is not the resource's own name (``objectsNodeName``)
LIST_NODES = {"order_slip": "order_slips"}
RETRY = RetryPolicy(attempts=4, base=0.5, cap=5.0, max_wait=15.0)

STRIPPED_FR = ("PrestaShop refuse la clé du webservice (401) : vérifiez qu'elle est active (Paramètres avancés → "
               "Webservice). Si elle l'est, le serveur supprime l'en-tête « Authorization » (Apache en CGI/FastCGI) : "
               "ajoutez « CGIPassAuth On » ou « SetEnvIf Authorization \"(.*)\" HTTP_AUTHORIZATION=$1 » dans le "
               ".htaccess de la boutique.")
STRIPPED_EN = ("PrestaShop refuses the webservice key (401): check it is enabled (Advanced parameters → Webservice). "
               "If it is, the server strips the \"Authorization\" header (Apache in CGI/FastCGI): add \"CGIPassAuth "
               "On\" or \"SetEnvIf Authorization \"(.*)\" HTTP_AUTHORIZATION=$1\" to the shop's .htaccess.")


class PrestaError(RemoteError):
    """A refusal or an outage of a PrestaShop webservice; ``str()`` is the merchant's sentence."""

    #: the key works but lacks this resource or method (PrestaShop's codes 26 and 25)
    not_granted: bool = False

    @property
    def credentials(self) -> bool:
        return self.status in (401, 403)


#: WebserviceRequest::checkResource / checkHTTPMethod (classes/webservice/WebserviceRequest.php):
#: 401 code 26 "Resource of type … is not allowed with this authentication key", 405 code 25
#: "Method … is not allowed for the resource … with this authentication key"
NOT_GRANTED_CODES = {"25", "26"}


def shop_root(url: str | None) -> str:
    """The shop's address, normalised: https (http only for the emulators or an allowed host),
    no query, no trailing ``/api``."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused(_("L'adresse de la boutique « %(text)s » n'est pas valide : elle doit commencer par "
                                "https://.", text=text), f"The shop address \"{text}\" is not valid: it must start with https://.")
    policy = current_policy()
    if parts.scheme != "https" and not (policy.sandboxes or policy.allows(parts.hostname, parts.port or 80)):
        raise OutboundRefused(_("L'adresse de la boutique doit commencer par https:// : la clé du webservice ne "
                                "circule qu'en HTTPS."), "The shop address must start with https://: the webservice key only "
                              "travels over HTTPS.")
    path = parts.path.rstrip("/").removesuffix("/api")
    netloc = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}{path}"


def account_key(url: str | None, id_shop: Any = 1) -> str | None:
    try:
        root = shop_root(url)
    except OutboundRefused:
        root = (url or "").strip().lower().rstrip("/")
    if not root:
        return None
    host = root.split("://", 1)[-1].removeprefix("www.")
    return f"{host}#shop{id_shop or 1}"


class Client:
    def __init__(self, shop_url: str, key: str, *, key_in_query: bool = False, shop_id: int | None = None,
                 **options: Any) -> None:
        try:
            root = shop_root(shop_url)
        except OutboundRefused as exc:
            raise PrestaError(exc.message, message_en=exc.message_en, retryable=False) from None
        options.setdefault("retry", RETRY)
        timeout = options.setdefault("timeout", 20.0)
        if "http" not in options and "transport" not in options:
            policy = current_policy()
            options["http"] = pooled(("prestashop-guarded", shop_id, root, timeout, policy),
                                     lambda: httpx.Client(timeout=timeout, transport=GuardedTransport(policy)))
        self.key = key or ""
        self.key_in_query = key_in_query
        self.switched_to_query = False
        self.version = ""
        #: seconds between requests once the host answered 429 (its Retry-After): a small shared
        #: host is spared for the rest of the run
        self.pace = 0.0
        self.http = HttpClient(REMOTE, root + "/api", shop_id=shop_id, on_retry=self._on_retry, **options)

    @classmethod
    def from_settings(cls, settings: dict[str, Any], shop_id: int | None = None, **options: Any) -> "Client":
        return cls(settings.get("shop_url") or "", settings.get("webservice_key") or "",
                   key_in_query=bool(settings.get("key_in_query")), shop_id=shop_id, **options)

    def raw(self, method: str, path: str, *, params: dict[str, Any] | None = None, xml: bytes | None = None,
            idempotent: bool | None = None) -> httpx.Response:
        def send(in_query: bool) -> httpx.Response:
            if self.pace:
                self.http.sleep(self.pace)
            query = dict(params or {})
            if in_query:
                query["ws_key"] = self.key
                self.http.auth = None
            else:
                self.http.auth = httpx.BasicAuth(self.key, "")
            headers = {"Content-Type": "text/xml"} if xml is not None else {}
            try:
                return self.http.request(method, path, params=query, content=xml, headers=headers,
                                         idempotent=idempotent)
            except TransportError as exc:
                raise PrestaError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
            except OutboundRefused:
                raise PrestaError(_("L'adresse de la boutique mène au réseau interne du serveur : indiquez "
                                    "l'adresse publique de la boutique PrestaShop."), message_en="The shop address leads to the "
                                  "server's internal network: give the PrestaShop shop's public address.",
                                  retryable=False) from None

        res = send(self.key_in_query)
        if res.status_code == 401 and not self.key_in_query and self.key:
            retry = send(True)
            if retry.status_code != 401:
                self.key_in_query = self.switched_to_query = True
            res = retry
        self.version = res.headers.get("PSWS-Version", self.version)
        return res

    def _on_retry(self, res: httpx.Response | None, wait: float) -> None:
        if res is not None and res.status_code == 429:
            self.pace = max(self.pace, min(wait, 10.0))

    def checked(self, res: httpx.Response) -> httpx.Response:
        if res.status_code < 400:
            return res
        errs = xmlio.errors(res.content) if res.content.lstrip().startswith(b"<") else []
        if not errs:
            try:
                body = res.json()
                errs = [{"code": str(e.get("code", "")), "message": str(e.get("message", ""))}
                        for e in (body.get("errors") or [])] if isinstance(body, dict) else []
            except ValueError:
                errs = []
        detail = "; ".join(e["message"] for e in errs if e.get("message"))
        if res.status_code in (401, 405) and NOT_GRANTED_CODES & {str(e.get("code")) for e in errs}:
            resource = urlsplit(str(res.request.url)).path.rstrip("/").rsplit("/api/", 1)[-1].split("/")[0]
            exc = error_from(res, _("La clé du webservice n'a pas le droit « %(method)s » sur « %(resource)s » : "
                                    "cochez-le dans Paramètres avancés → Webservice.",
                                    method=res.request.method, resource=resource), f"The webservice key lacks the "
                             f"\"{res.request.method}\" permission on \"{resource}\": tick it in Advanced parameters → "
                             "Webservice.", cls=PrestaError, retryable=False)
            exc.not_granted = True
            raise exc
        if res.status_code == 401:
            raise error_from(res, STRIPPED_FR, STRIPPED_EN, cls=PrestaError)
        if res.status_code == 403:
            raise error_from(res, f"La clé du webservice n'a pas ce droit (403) : cochez-le dans Paramètres avancés → "
                             f"Webservice. {detail}".strip(), f"The webservice key lacks this permission (403): tick "
                             f"it in Advanced parameters → Webservice. {detail}".strip(), cls=PrestaError)
        if res.status_code == 503 and "disabled" in detail.lower():
            raise error_from(res, _("Le webservice de la boutique est désactivé : activez-le dans Paramètres "
                                    "avancés → Webservice."), "The shop's webservice is disabled: turn it on in Advanced parameters → "
                             "Webservice.", cls=PrestaError, retryable=False)
        suffix = f" : {detail}" if detail else ""
        raise error_from(res, _("PrestaShop a refusé la demande (HTTP %(status_code)s)%(suffix)s.",
                                status_code=res.status_code, suffix=suffix),
                         f"PrestaShop refused the request (HTTP {res.status_code}){suffix}.", cls=PrestaError)

    # ------------------------------------------------------------------ reads (JSON)
    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        res = self.checked(self.raw("GET", path, params={**(params or {}), "output_format": "JSON"}))
        try:
            return res.json() if res.content else {}
        except ValueError:
            raise error_from(res, _("La boutique a répondu autre chose que du JSON : l'adresse est-elle celle de "
                                    "PrestaShop, réécriture d'URL activée ?"), "The shop answered something else than JSON: is "
                             "it PrestaShop's address, with URL rewriting on?", cls=PrestaError,
                             retryable=False) from None

    def listing(self, resource: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """``GET /api/{resource}`` (PrestaShop answers ``[]`` for an empty list). The list is
        keyed by the class's ``objectsNodeName``: the resource's name, except ``order_slip``
        whose list is ``order_slips`` (classes/order/OrderSlip.php, ``$webserviceParameters``)."""
        body = self.get(f"/{resource}", params)
        return list(body.get(LIST_NODES.get(resource, resource)) or []) if isinstance(body, dict) else []

    def pages(self, resource: str, params: dict[str, Any]):
        """Every page (``limit=offset,100``) until a short one: PrestaShop gives no total."""
        offset = 0
        while True:
            items = self.listing(resource, {**params, "limit": f"{offset},{PAGE}"})
            yield items
            if len(items) < PAGE:
                return
            offset += PAGE

    def one(self, resource: str, rid: int | str) -> dict[str, Any]:
        body = self.get(f"/{resource}/{rid}")
        singular = {"orders": "order", "order_carriers": "order_carrier", "stock_availables": "stock_available",
                    "order_states": "order_state", "order_slip": "order_slip"}.get(resource, resource.rstrip("s"))
        return body.get(singular) or {}

    def root(self) -> tuple[str, dict[str, dict[str, str]]]:
        """``GET /api/``: the shop's name and the key's permissions per resource (XML only)."""
        res = self.checked(self.raw("GET", "/"))
        import xml.etree.ElementTree as ET

        api = ET.fromstring(res.content).find("api")
        rights = {child.tag: dict(child.attrib) for child in api} if api is not None else {}
        return (api.get("shopName", "") if api is not None else ""), rights

    # ------------------------------------------------------------------ writes (XML)
    def put(self, resource: str, rid: int | str, singular: str, fields: dict[str, Any]) -> dict[str, Any]:
        res = self.checked(self.raw("PUT", f"/{resource}/{rid}", params={"output_format": "JSON"},
                                    xml=xmlio.dumps(singular, fields)))
        return (res.json() or {}).get(singular, {}) if res.content else {}

    def post(self, resource: str, singular: str, fields: dict[str, Any], params: dict[str, Any] | None = None) \
            -> dict[str, Any]:
        res = self.checked(self.raw("POST", f"/{resource}", params={**(params or {}), "output_format": "JSON"},
                                    xml=xmlio.dumps(singular, fields)))
        return (res.json() or {}).get(singular, {}) if res.content else {}
