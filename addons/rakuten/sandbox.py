"""An emulator of Rakuten France's seller web services (``sales_ws``, ``stock_ws``), on the
connector kit's emulator base: the same paths, query parameters, XML answers and
``<errorresponse>`` bodies (sent with HTTP 200, as Rakuten does) as ``specs/`` describes.

What it does besides answering:

* checks ``login``/``pwd`` (a revoked token answers an error), each action's ``version``
  ("The version … is not supported") and mandatory parameters ("The parameter … is
  mandatory");
* items move REQUESTED → ACCEPTED / REFUSED → SHIPPED (tracking set) → CANCELLED when the
  seller cancels; ``cancel_by_buyer`` and ``close`` move them on Rakuten's side;
* inventory files are processed after ``process_seconds`` on its clock; the report then
  lists each SKU, with an ``ADVERT_NOT_FOUND`` error for a SKU that has no advert; more than
  10 files in an hour (Rakuten's advice: at most 10 files per hour) is answered 429;
* the kit's faults (429, 500, timeouts) answer Rakuten's own error body;
* with ``demo=True``, the demo shop: a burst of 3 sales at start, then at most one every
  20 minutes, on the demo catalogue's SKUs (numbers of 10 digits like Rakuten's, drawn from
  the clock so that two runs never collide).
"""
from __future__ import annotations

import base64
import random
import threading
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from flask import Flask, Response, request

from core.connectors.emulator import EmulatorKit

from .mapping import PARIS, TRANSPORTERS
from .versions import ACTIONS

DEMO_LOGIN = "boutique-demo"
DEMO_TOKEN = "c0ffee00demo0token0rakuten0fr00"
ERROR_NS = "https://static.fr.shopping.rakuten.com/res/schema/error"
#: versions each action answers (the newest first)
SUPPORTED = {name: (a.version,) for name, a in ACTIONS.items()}
SUPPORTED["getnewsales"] = ("2017-08-07", "2016-03-16", "2014-02-11")
SUPPORTED["getcurrentsales"] = ("2017-08-07", "2016-03-16", "2014-02-11")
SUPPORTED["genericimportfile"] = ("2015-02-02", "2012-09-11", "2011-11-29")
SUPPORTED["genericimportreport"] = ("2017-02-10", "2011-11-29")
SUPPORTED["export"] = ("2018-06-29", "2017-07-03", "2014-11-04")
PAGE_SIZE = 100
FILES_PER_HOUR = 10
DEMO_EVERY = 20 * 60
MANDATORY = {"getiteminfos": ("itemid",), "acceptsale": ("itemid",), "refusesale": ("itemid",),
             "cancelitem": ("itemid", "comment"),
             "settrackingpackageinfos": ("itemid", "transporter_name", "tracking_number"),
             "genericimportreport": ("fileid",)}
SERVICE_OF = {name: a.service for name, a in ACTIONS.items()}


@dataclass
class EmuItem:
    itemid: str
    sku: str
    headline: str
    price: Decimal
    status: str = "REQUESTED"
    purchaseid: str = ""
    fulfilment: bool = False
    tracking: dict[str, str] = field(default_factory=dict)


@dataclass
class EmuSale:
    purchaseid: str
    purchased: float  # epoch seconds
    items: list[EmuItem]
    buyer: dict[str, str]
    shipping_type: str = "Normal"
    collectionpoint: dict[str, str] | None = None
    full_rsl: bool = False


@dataclass
class EmuImport:
    importid: str
    received: float
    filename: str
    figures: list[tuple[str, str]]  # (sku, qty as sent)
    processed: bool = False
    results: list[tuple[str, str, str]] = field(default_factory=list)  # sku, code, text ("" = ok)


class _Err(Exception):
    def __init__(self, kind: str, code: str, message: str, detail: str = "", status: int = 200) -> None:
        super().__init__(message)
        self.kind, self.code, self.message, self.detail, self.status = kind, code, message, detail, status


def error_xml(kind: str, code: str, message: str, detail: str = "") -> bytes:
    root = ET.Element("errorresponse", {"xmlns": ERROR_NS})
    err = ET.SubElement(root, "error")
    ET.SubElement(err, "type").text = kind
    ET.SubElement(err, "code").text = code
    ET.SubElement(err, "message").text = message
    details = ET.SubElement(err, "details")
    if detail:
        ET.SubElement(details, "detail").text = detail
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def kit_error_body(status: int) -> dict[str, str]:
    """The body of a kit fault: Rakuten's own error document (turned into XML on its way out)."""
    if status == 429:
        body = error_xml("Sender", "TooManyRequests", "Too many requests.", "Retry later")
    elif status == 504:
        body = error_xml("Unknown error", "Unknown error", "Service unavailable")
    else:
        body = error_xml("ServerError", "ServerError", "Server not able to fullfill request.")
    return {"_rakuten_xml": body.decode("utf-8")}


def _fmt(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(PARIS).strftime("%d/%m/%Y-%H:%M")


def _sub(parent: ET.Element, name: str, value: Any = None) -> ET.Element:
    el = ET.SubElement(parent, name)
    if value is not None:
        el.text = str(value)
    return el


class Emulator:
    """The emulated seller account(s) and the Flask app speaking for them."""

    def __init__(self, *, clock: Any = None, login: str = DEMO_LOGIN, token: str = DEMO_TOKEN, demo: bool = False,
                 process_seconds: float = 60.0, page_size: int = PAGE_SIZE, seed: int | None = None) -> None:
        self.kit = EmulatorKit("rakuten", clock=clock, error_body=kit_error_body)
        self.clock = self.kit.clock
        self.login, self.token = login, token
        self.sales: dict[str, EmuSale] = {}
        self.items: dict[str, EmuItem] = {}
        self.adverts: dict[str, int] = {}  # sku -> quantity
        self.advert_info: dict[str, dict[str, str]] = {}  # sku -> {headline, ean, price}
        self.imports: dict[str, EmuImport] = {}
        self.queries: list[dict[str, str]] = []  # every query received (for the schema tests)
        self.answers: list[tuple[str, bytes]] = []  # every XML answer given
        self.files: list[bytes] = []  # every inventory file received
        self.accepted: list[str] = []
        #: actions done whose answer is then lost (a 504 after the work): ``lose_answer("acceptsale")``
        self.lost: list[str] = []
        self.refused: list[str] = []
        self.process_seconds = process_seconds
        self.page_size = page_size
        self.lock = threading.RLock()
        start = int(self.clock.time())
        self._next_id = start * 10 % 9_000_000_000 + 1_000_000_000
        self.rng = random.Random(seed if seed is not None else start)
        self.demo = demo
        self._demo_last: float | None = None
        self._demo_catalog: list[tuple[str, str, Decimal]] = []
        self.app = self._make_app()

    # ------------------------------------------------------------------ test helpers
    def new_id(self) -> str:
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    def add_sale(self, items: list[tuple[str, str] | tuple[str, str, str]], *, purchaseid: str | None = None,
                 purchased: float | None = None, status: str = "REQUESTED", email: str = "client@example.fr",
                 pickup: dict[str, str] | None = None, full_rsl: bool = False, shipping_type: str = "Normal",
                 fulfilment: bool = False) -> EmuSale:
        """A sale of ``items`` [(sku, price[, title])], one unit each (list a SKU twice for two)."""
        with self.lock:
            pid = purchaseid or self.new_id()
            sale = EmuSale(purchaseid=pid, purchased=purchased if purchased is not None else self.clock.time(),
                           items=[], buyer={"login": "acheteur" + pid[-4:], "email": email, "firstname": "Camille",
                                            "lastname": "Martin", "address1": "12 rue des Lilas", "zipcode": "69003",
                                            "city": "Lyon", "phone": "0601020304"},
                           shipping_type="Point relais" if pickup else shipping_type, collectionpoint=pickup,
                           full_rsl=full_rsl)
            for entry in items:
                sku, price = entry[0], entry[1]
                title = entry[2] if len(entry) > 2 else f"Article {sku}"
                item = EmuItem(itemid=self.new_id(), sku=sku, headline=title, price=Decimal(price), status=status,
                               purchaseid=pid, fulfilment=fulfilment)
                sale.items.append(item)
                self.items[item.itemid] = item
                self.adverts.setdefault(sku, 5)
            self.sales[pid] = sale
            return sale

    def cancel_by_buyer(self, itemid: str) -> None:
        self.items[itemid].status = "CANCELLED"

    def close(self, itemid: str) -> None:
        self.items[itemid].status = "CLOSED"

    def lose_answer(self, action: str, times: int = 1) -> None:
        """The next ``times`` calls of ``action`` are carried out, but answered 504."""
        self.lost += [action] * times

    def revoke_token(self) -> None:
        """The seller generated a new token: the old one no longer works."""
        self.token = self.token + "-revoked"

    # ------------------------------------------------------------------ demo shop
    def _demo_tick(self) -> None:
        if not self.demo:
            return
        now = self.clock.time()
        with self.lock:
            if not self._demo_catalog:
                from core.demo import CATALOG

                for title, _desc, _hs, _origin, opts, price, _cost, _grams in CATALOG:
                    base = "".join(w[0] for w in title.upper().split())[:4]
                    for size, colour in opts:
                        suffix = "-".join(x[:3].upper() for x in (colour, size) if x) or "STD"
                        self._demo_catalog.append((f"{base}-{suffix}", title, Decimal(price)))
                for sku, _t, _p in self._demo_catalog:
                    self.adverts.setdefault(sku, 10)
            if self._demo_last is None:
                for _ in range(3):
                    self._demo_sale(now)
                self._demo_last = now
            elif now - self._demo_last >= DEMO_EVERY:
                self._demo_sale(now)
                self._demo_last = now

    def _demo_sale(self, now: float) -> None:
        picks = self.rng.sample(self._demo_catalog, k=self.rng.choice((1, 1, 2)))
        pickup = None
        if self.rng.random() < 0.3:
            pickup = {"id": f"0{self.rng.randint(10000, 99999)}", "network": "Mondial Relay",
                      "name": "Relais Tabac de la Gare", "address1": "3 place de la Gare", "zipcode": "69007",
                      "city": "Lyon", "countryalpha2": "FR"}
        self.add_sale([(sku, str(price), title) for sku, title, price in picks], purchased=now - 60, pickup=pickup)

    # ------------------------------------------------------------------ XML
    def _result(self, root_name: str, action: str, extra: dict[str, str] | None = None) -> tuple[ET.Element, ET.Element]:
        root = ET.Element(root_name)
        req = _sub(root, "request")
        _sub(req, "version", request.args.get("version"))
        _sub(req, "user", self.login)
        for key, value in (extra or {}).items():
            _sub(req, key, value)
        response = _sub(root, "response")
        _sub(response, "lastversion", SUPPORTED[action][0])
        return root, response

    def _sale_xml(self, parent: ET.Element, sale: EmuSale) -> None:
        el = _sub(parent, "sale")
        _sub(el, "purchaseid", sale.purchaseid)
        _sub(el, "purchasedate", _fmt(sale.purchased))
        info = _sub(el, "deliveryinformation")
        _sub(info, "shippingtype", sale.shipping_type)
        _sub(info, "isfullrsl", "Y" if sale.full_rsl else "N")
        _sub(info, "purchasebuyerlogin", sale.buyer["login"])
        _sub(info, "purchasebuyeremail", sale.buyer["email"])
        addr = _sub(info, "deliveryaddress")
        for key, value in (("civility", "Mme"), ("lastname", sale.buyer["lastname"]),
                           ("firstname", sale.buyer["firstname"]), ("address1", sale.buyer["address1"]),
                           ("address2", ""), ("zipcode", sale.buyer["zipcode"]), ("city", sale.buyer["city"]),
                           ("country", "France métropolitaine"), ("countryalpha2", "FR"),
                           ("phonenumber1", sale.buyer["phone"]), ("phonenumber2", "")):
            _sub(addr, key, value)
        if sale.collectionpoint:
            point = _sub(info, "collectionpoint")
            for key in ("id", "network", "name", "address1", "zipcode", "city", "countryalpha2"):
                _sub(point, key, sale.collectionpoint.get(key, ""))
        items = _sub(el, "items")
        for it in sale.items:
            item = _sub(items, "item")
            _sub(item, "sku", it.sku)
            _sub(item, "advertid", str(int(it.itemid) + 7_000_000_000))
            listed = _sub(item, "advertpricelisted")
            _sub(listed, "amount", f"{it.price:.2f}")
            _sub(listed, "currency", "EUR")
            _sub(item, "itemid", it.itemid)
            _sub(item, "headline", it.headline)
            _sub(item, "itemstatus", it.status)
            _sub(item, "ispreorder", "N")
            _sub(item, "is_fulfilment", "Y" if it.fulfilment else "N")
            _sub(item, "isnego", "N")
            _sub(item, "negotiationcomment", "")
            price = _sub(item, "price")
            _sub(price, "amount", f"{it.price:.2f}")
            _sub(price, "currency", "EUR")
            _sub(item, "isrsl", "N")
            _sub(item, "isbn", "")
            _sub(item, "ean", "")
            _sub(item, "paymentstatus", "PAID")
            _sub(item, "sellerscore", "")

    # ------------------------------------------------------------------ the app
    def _make_app(self) -> Flask:
        app = Flask(__name__)
        self.kit.attach(app)

        @app.after_request
        def as_xml(response: Response) -> Response:
            if response.is_json:
                data = response.get_json(silent=True) or {}
                if isinstance(data, dict) and "_rakuten_xml" in data:
                    response.set_data(data["_rakuten_xml"].encode("utf-8"))
                    response.mimetype = "text/xml"
            return response

        @app.route("/sales_ws", methods=["GET", "POST"])
        def sales_ws() -> Response:
            return self._dispatch("sales_ws")

        @app.route("/stock_ws", methods=["GET", "POST"])
        def stock_ws() -> Response:
            return self._dispatch("stock_ws")

        @app.get("/")
        def home() -> Response:
            with self.lock:
                rows = "".join(
                    f"<tr><td>{s.purchaseid}</td><td>{_fmt(s.purchased)}</td><td>"
                    + "<br>".join(f"{i.sku} — {i.status}"
                                  + (f" — {i.tracking.get('transporter_name')} {i.tracking.get('tracking_number')}"
                                     if i.tracking else "") for i in s.items)
                    + "</td></tr>" for s in sorted(self.sales.values(), key=lambda s: -s.purchased))
            html = ("<!doctype html><meta charset=utf-8><title>Rakuten France — émulateur</title>"
                    "<h1>Rakuten France — boutique de démonstration</h1>"
                    "<table border=1 cellpadding=4><tr><th>Vente</th><th>Date</th><th>Articles</th></tr>"
                    f"{rows}</table>")
            return Response(html, mimetype="text/html")

        return app

    def _dispatch(self, service: str) -> Response:
        query = {k: v for k, v in request.args.items()}
        self.queries.append(query)
        action = (query.get("action") or "").lower()
        try:
            self._demo_tick()
            if SERVICE_OF.get(action) != service:
                raise _Err("Sender", "ParameterError", "Problem with parameters.", f"Unknown action {action!r}")
            for name in ("login", "pwd", "version"):
                if not query.get(name):
                    raise _Err("Sender", "ParameterError", "Problem with parameters.",
                               f"The parameter {name} is mandatory")
            if query["login"] != self.login or query["pwd"] != self.token:
                raise _Err("Sender", "InvalidUserRights", "Unknown user or password.",
                           "The login or the token is not valid")
            if query["version"] not in SUPPORTED[action]:
                raise _Err("Sender", "ParameterError", "Problem with parameters.",
                           f"The version {query['version']} is not supported")
            for name in MANDATORY.get(action, ()):
                if not query.get(name):
                    raise _Err("Sender", "ParameterError", "Problem with parameters.",
                               f"The parameter {name} is mandatory")
            with self.lock:
                root = getattr(self, f"_do_{action}")(query)
                if action in self.lost:
                    self.lost.remove(action)
                    raise _Err("Unknown error", "Unknown error", "Service unavailable", status=504)
            body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
            status = 200
        except _Err as exc:
            body, status = error_xml(exc.kind, exc.code, exc.message, exc.detail), exc.status
            if status == 429:
                response = Response(body, status=429, mimetype="text/xml")
                response.headers["Retry-After"] = str(int(self._retry_in))
                self.answers.append((action, body))
                return response
        self.answers.append((action, body))
        return Response(body, status=status, mimetype="text/xml")

    # ------------------------------------------------------------------ sales_ws
    def _do_getnewsales(self, query: dict[str, str]) -> ET.Element:
        root, response = self._result("getnewsalesresult", "getnewsales")
        sales = _sub(response, "sales")
        for sale in sorted(self.sales.values(), key=lambda s: (s.purchased, s.purchaseid)):
            if any(i.status in ("REQUESTED", "REMINDED") for i in sale.items):
                self._sale_xml(sales, sale)
        return root

    def _do_getcurrentsales(self, query: dict[str, str]) -> ET.Element:
        root, response = self._result("getcurrentsalesresult", "getcurrentsales")
        since = query.get("purchasedate")
        floor = None
        if since:
            try:
                floor = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=PARIS).timestamp()
            except ValueError:
                raise _Err("Sender", "ParameterError", "Problem with parameters.",
                           "The parameter purchasedate must be yyyy-mm-dd") from None
        todo = [s for s in sorted(self.sales.values(), key=lambda s: (s.purchased, s.purchaseid))
                if (floor is None or s.purchased >= floor)
                and any(i.status not in ("REQUESTED", "REMINDED") for i in s.items)]
        offset = 0
        if query.get("nexttoken"):
            try:
                offset = int(base64.urlsafe_b64decode(query["nexttoken"].encode()).decode().split(":")[1])
            except (ValueError, IndexError):
                raise _Err("Sender", "ParameterError", "Problem with parameters.", "Invalid nexttoken") from None
        page = todo[offset:offset + self.page_size]
        sales = _sub(response, "sales")
        for sale in page:
            self._sale_xml(sales, sale)
        if offset + self.page_size < len(todo):
            _sub(response, "nexttoken", base64.urlsafe_b64encode(f"o:{offset + self.page_size}".encode()).decode())
        return root

    def _item(self, query: dict[str, str]) -> EmuItem:
        item = self.items.get(query.get("itemid", ""))
        if item is None:
            raise _Err("Sender", "ParameterError", "Problem with parameters.", "The itemid is unknown")
        return item

    def _do_getiteminfos(self, query: dict[str, str]) -> ET.Element:
        item = self._item(query)
        root, response = self._result("getiteminfosresult", "getiteminfos", {"itemid": item.itemid})
        el = _sub(response, "item")
        _sub(el, "itemid", item.itemid)
        _sub(el, "itemstatus", item.status)
        _sub(el, "sku", item.sku)
        _sub(el, "purchaseid", item.purchaseid)
        return root

    def _status_answer(self, name: str, action: str, item: EmuItem, status: str) -> ET.Element:
        root, response = self._result(name, action, {"itemid": item.itemid})
        _sub(response, "status", status)
        return root

    def _do_acceptsale(self, query: dict[str, str]) -> ET.Element:
        item = self._item(query)
        if item.status not in ("REQUESTED", "REMINDED"):
            raise _Err("Sender", "ParameterError", "Problem with parameters.",
                       f"The item {item.itemid} cannot be accepted (status {item.status})")
        item.status = "ACCEPTED"
        self.accepted.append(item.itemid)
        return self._status_answer("acceptsaleresult", "acceptsale", item, "ACCEPTED")

    def _do_refusesale(self, query: dict[str, str]) -> ET.Element:
        item = self._item(query)
        if item.status not in ("REQUESTED", "REMINDED"):
            raise _Err("Sender", "ParameterError", "Problem with parameters.",
                       f"The item {item.itemid} cannot be refused (status {item.status})")
        item.status = "REFUSED"
        self.refused.append(item.itemid)
        return self._status_answer("refusesaleresult", "refusesale", item, "REFUSED")

    def _do_cancelitem(self, query: dict[str, str]) -> ET.Element:
        item = self._item(query)
        if item.status not in ("ACCEPTED", "COMMITTED", "ON_HOLD"):
            raise _Err("Sender", "ParameterError", "Problem with parameters.",
                       f"The item {item.itemid} cannot be cancelled (status {item.status})")
        item.status = "CANCELLED"
        return self._status_answer("cancelitemresult", "cancelitem", item, "CANCELLED")

    def _do_settrackingpackageinfos(self, query: dict[str, str]) -> ET.Element:
        item = self._item(query)
        name = query["transporter_name"]
        if name not in TRANSPORTERS:
            raise _Err("Sender", "ParameterError", "Problem with parameters.",
                       f"The transporter_name {name} is unknown")
        if name == "Autre" and not query.get("tracking_url"):
            raise _Err("Sender", "ParameterError", "Problem with parameters.",
                       "The parameter tracking_url is mandatory")
        if item.status not in ("ACCEPTED", "COMMITTED", "ON_HOLD", "SHIPPED"):
            raise _Err("Sender", "ParameterError", "Problem with parameters.",
                       f"The item {item.itemid} cannot be shipped (status {item.status})")
        item.tracking = {k: query[k] for k in ("transporter_name", "tracking_number", "tracking_url") if query.get(k)}
        item.status = "SHIPPED"
        return self._status_answer("settrackingpackageinfosresult", "settrackingpackageinfos", item, "OK")

    def _do_export(self, query: dict[str, str]) -> ET.Element:
        root, response = self._result("exportresult", "export")
        skus = sorted(self.adverts)
        try:
            offset = int(query.get("nexttoken") or 0)
        except ValueError:
            raise _Err("Sender", "ParameterError", "Problem with parameters.", "Invalid nexttoken") from None
        adverts = _sub(response, "advertlist")
        for sku in skus[offset:offset + self.page_size]:
            info = self.advert_info.get(sku, {})
            advert = _sub(adverts, "advert")
            _sub(advert, "aid", str(zlib.crc32(sku.encode("utf-8"))))
            _sub(advert, "sku", sku)
            _sub(advert, "ean", info.get("ean", ""))
            _sub(advert, "headline", info.get("headline", f"Annonce {sku}"))
            _sub(advert, "quantity", self.adverts[sku])
            price = _sub(advert, "price")
            _sub(price, "amount", info.get("price", "10.00"))
            _sub(price, "currency", "EUR")
        if offset + self.page_size < len(skus):
            _sub(response, "nexttoken", str(offset + self.page_size))
        return root

    # ------------------------------------------------------------------ stock_ws
    _retry_in = 60.0

    def _do_genericimportfile(self, query: dict[str, str]) -> ET.Element:
        upload = request.files.get("file")
        if request.method != "POST" or upload is None:
            raise _Err("Sender", "ParameterError", "Problem with parameters.", "The parameter file is mandatory")
        now = self.clock.time()
        recent = sorted(i.received for i in self.imports.values() if now - i.received < 3600)
        if len(recent) >= FILES_PER_HOUR:
            self._retry_in = max(1.0, 3600 - (now - recent[0]))
            raise _Err("Sender", "TooManyRequests", "Too many files.",
                       f"At most {FILES_PER_HOUR} files per hour", status=429)
        data = upload.read()
        self.files.append(data)
        try:
            doc = ET.fromstring(data)
        except ET.ParseError:
            raise _Err("ServerError", "ServerError", "Server not able to fullfill request.",
                       "An error occurred while submitting the file") from None
        figures = []
        for item in doc.findall("item"):
            attrs = {a.findtext("key"): (a.findtext("value") or "") for a in item.findall("attributes/advert/attribute")}
            figures.append((attrs.get("sellerReference", ""), attrs.get("qty", "")))
        imp = EmuImport(importid=self.new_id(), received=now, filename=upload.filename or "stock.xml",
                        figures=figures)
        self.imports[imp.importid] = imp
        root, response = self._result("importresult", "genericimportfile")
        _sub(response, "importid", imp.importid)
        _sub(response, "status", "OK")
        return root

    def _process(self, imp: EmuImport) -> None:
        if imp.processed or self.clock.time() - imp.received < self.process_seconds:
            return
        for sku, qty in imp.figures:
            if sku not in self.adverts:
                imp.results.append((sku, "ADVERT_NOT_FOUND", f"Aucune annonce pour la référence {sku}"))
            elif not qty.isdigit():
                imp.results.append((sku, "INVALID_QTY", f"Quantité invalide : {qty}"))
            else:
                self.adverts[sku] = int(qty)
                imp.results.append((sku, "", ""))
        imp.processed = True

    def _do_genericimportreport(self, query: dict[str, str]) -> ET.Element:
        imp = self.imports.get(query["fileid"])
        if imp is None:
            raise _Err("Sender", "ParameterError", "Problem with parameters.", "The fileid is unknown")
        self._process(imp)
        root, response = self._result("genericimportreportresult", "genericimportreport", {"fileid": imp.importid})
        file = _sub(response, "file")
        _sub(file, "filename", imp.filename)
        elapsed = self.clock.time() - imp.received
        status = "Traité" if imp.processed else ("Reçu" if elapsed < self.process_seconds / 2 else "Import en cours")
        _sub(file, "status", status)
        _sub(file, "uploaddate", _fmt(imp.received))
        if imp.processed:
            _sub(file, "processdate", _fmt(imp.received + self.process_seconds))
        errors = sum(1 for r in imp.results if r[1])
        _sub(file, "totallines", len(imp.figures))
        _sub(file, "processedlines", len(imp.results))
        _sub(file, "errorlines", errors)
        rate = f"{(len(imp.results) - errors) * 100 // max(len(imp.figures), 1)}%" if imp.processed else "0%"
        _sub(file, "successrate", rate)
        offset = 0
        if query.get("nexttoken"):
            try:
                offset = int(query["nexttoken"])
            except ValueError:
                raise _Err("Sender", "ParameterError", "Problem with parameters.", "Invalid nexttoken") from None
        page = imp.results[offset:offset + self.page_size]
        for sku, code, message in page:
            product = _sub(response, "product")
            _sub(product, "sku", sku)
            _sub(product, "status", "KO" if code else "OK")
            if code:
                errs = _sub(product, "errors")
                err = _sub(errs, "error")
                _sub(err, "error_key", "qty" if code == "INVALID_QTY" else "sellerReference")
                _sub(err, "error_code", code)
                _sub(err, "error_text", message)
        if offset + self.page_size < len(imp.results):
            _sub(response, "nexttoken", str(offset + self.page_size))
        _sub(response, "totalresultcount", len(imp.results))
        return root


def make_app(clock: Any = None, demo: bool = True) -> Flask:
    """The emulator's WSGI app (the demo mounts it under /sandbox/rakuten with its live shop)."""
    return Emulator(clock=clock, demo=demo).app


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"login": DEMO_LOGIN, "token": DEMO_TOKEN, "api_base_url": base_url, "import_days": 30}
