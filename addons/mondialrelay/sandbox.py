"""Emulator of Mondial Relay's two web services, for the tests and the demo.

- API 1 (SOAP 1.1) at ``/Web_Services.asmx``: ``WSI4_PointRelais_Recherche`` and
  ``WSI2_TracingColisDetaille``, each checked against its ``Security`` signature (STAT 97 when
  wrong, STAT 1/2 for an unknown brand), answers in the WSDL's shapes.
- API 2 "Connect" at ``/api/shipment``: ``ShipmentCreationRequest`` with its ``Context``
  credentials (``10001`` Critical error when refused), relay ids checked (``10055`` Error),
  the label PDF served at the URL of the answer.

Mounted under /sandbox/mondialrelay in the demo; faults on demand through the kit
(``kit_of(app).fail_next(429)``, 500, timeouts). A parcel's tracking moves with the clock
(registered, in transit after two hours, delivered after a day), or as a test sets it.
Relay points are made up from the postal code asked (five per département).
"""
from __future__ import annotations

import hashlib
import itertools
import threading
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

from flask import Flask, Response, request

from core.connectors.emulator import EmulatorKit

from .client import RES_NS, REQ_NS, SEARCH_PARAMS, SOAP_NS, TRACE_PARAMS, WS_NS

#: the public test brand of API 1 (published by Mondial Relay for integrators)
DEMO_ENSEIGNE = "BDTEST13"
DEMO_PRIVATE_KEY = "PrivateK"
DEMO_LOGIN = "BDTEST@business-api.mondialrelay.com"
DEMO_PASSWORD = "connect-demo-password"
DEMO_CUSTOMER_ID = "BDTEST"
STREETS = ("Tabac Presse du Centre", "Épicerie de la Gare", "Pressing des Lilas", "Fleurs & Co", "Librairie du Parc")
LABEL_ANSWER_SECONDS = 0.0


def demo_settings(base_url: str) -> dict[str, Any]:
    base = base_url.rstrip("/")
    return {"enseigne": DEMO_ENSEIGNE, "private_key": DEMO_PRIVATE_KEY, "api2_login": DEMO_LOGIN,
            "api2_password": DEMO_PASSWORD, "api2_customer_id": DEMO_CUSTOMER_ID, "collection_mode": "CCC",
            "home_mode": "HOM", "label_format": "10x15", "sender_name": "Maison Lumière",
            "sender_street": "12 rue des Artisans", "sender_postal_code": "93200", "sender_city": "Saint-Denis",
            "sender_country": "FR", "sender_phone": "0102030405", "sender_email": "expedition@exemple.fr",
            "api1_url": f"{base}/Web_Services.asmx", "api2_url": f"{base}/api/shipment",
            "price_relay": "4.50", "price_home": "7.90"}


def label_pdf(lines: list[str]) -> bytes:
    """A one-page PDF (10 × 15 cm) with ``lines`` of text, with a correct cross-reference table."""
    text = "BT /F1 14 Tf 20 380 Td " + " ".join(
        f"({line.encode('latin-1', 'replace').decode('latin-1').replace('(', '[').replace(')', ']')}) Tj 0 -22 Td"
        for line in lines) + " ET"
    stream = text.encode("latin-1", "replace")
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 283 425]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
               b"<</Length %d>>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def relay_points(country: str, postal_code: str) -> list[dict[str, Any]]:
    """Five relay points in the postal code's département, nearest first."""
    dept = int(postal_code[:2]) if postal_code[:2].isdigit() else 75
    out = []
    for k in range(1, 6):
        num = f"{dept * 1000 + k:06d}"
        out.append(relay(country, num, postal_code, distance=k * 350))
    return out


def relay(country: str, num: str, postal_code: str = "", distance: int = 0) -> dict[str, Any]:
    n = int(num)
    dept, k = divmod(n, 1000)
    return {"Num": num, "LgAdr1": STREETS[(k - 1) % len(STREETS)].upper(), "LgAdr2": "",
            "LgAdr3": f"{k * 3} RUE DU COMMERCE", "LgAdr4": "", "CP": postal_code or f"{dept:02d}000",
            "Ville": "PARIS" if dept == 75 else f"VILLE {dept:02d}", "Pays": country,
            "Latitude": f"48,{8500 + k:04d}", "Longitude": f"02,{3500 + k:04d}", "TypeActivite": "000",
            "Distance": str(distance),
            "hours": [["0900", "1230", "1400", "1900"]] * 6 + [["0000", "0000", "0000", "0000"]]}


def known_relay(country: str, num: str) -> bool:
    return num.isdigit() and len(num) == 6 and 1 <= int(num) % 1000 <= 5 and country in (
        "FR", "BE", "LU", "NL", "ES", "PT", "DE", "AT", "IT", "PL")


def sign(values: list[str], key: str) -> str:
    return hashlib.md5(("".join(values) + key).encode("utf-8")).hexdigest().upper()


def _xml(body: str, status: int = 200, content_type: str = "text/xml; charset=utf-8") -> Response:
    return Response('<?xml version="1.0" encoding="utf-8"?>' + body, status=status, content_type=content_type)


def _soap(operation: str, inner: str) -> Response:
    return _xml(f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><{operation}Response xmlns="{WS_NS}">'
                f"<{operation}Result>{inner}</{operation}Result></{operation}Response></soap:Body></soap:Envelope>")


def soap_fault(message: str, status: int = 500) -> Response:
    return _xml(f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>'
                f"<faultstring>{escape(message)}</faultstring></soap:Fault></soap:Body></soap:Envelope>", status)


def error_body(status: int) -> dict[str, Any]:
    return {"Message": "Too many requests" if status == 429 else "An error has occurred."}


def make_app(clock: Any = None) -> Flask:
    app = Flask(__name__)
    lock = threading.Lock()
    numbers = itertools.count(1)
    kit = EmulatorKit("mondialrelay", clock=clock, error_body=error_body)
    kit.attach(app)
    state: dict[str, Any] = {"shipments": {}, "brands": {DEMO_ENSEIGNE: DEMO_PRIVATE_KEY},
                             "accounts": {DEMO_LOGIN: (DEMO_PASSWORD, DEMO_CUSTOMER_ID)}, "bodies": [], "exchanges": [],
                             "answer_seconds": LABEL_ANSWER_SECONDS}
    app.config["STATE"] = state

    def now() -> float:
        return kit.clock.time()

    @app.after_request
    def _record(response: Response) -> Response:
        if request.path in ("/Web_Services.asmx", "/api/shipment"):
            state["exchanges"].append((request.path, request.get_data(), response.get_data()))
        return response

    # ------------------------------------------------------------------ API 1
    @app.post("/Web_Services.asmx")
    def api1():
        state["bodies"].append(("api1", request.get_data()))
        try:
            root = ET.fromstring(request.get_data())
        except ET.ParseError:
            return soap_fault("Server was unable to read request.", 400)
        body = root.find(f"{{{SOAP_NS}}}Body")
        call = body[0] if body is not None and len(body) else None
        if call is None:
            return soap_fault("Server did not recognize the value of HTTP Header SOAPAction.", 500)
        operation = call.tag.split("}", 1)[-1]
        values = {el.tag.split("}", 1)[-1]: (el.text or "") for el in call}
        names = {"WSI4_PointRelais_Recherche": SEARCH_PARAMS, "WSI2_TracingColisDetaille": TRACE_PARAMS}.get(operation)
        if names is None or call.tag != f"{{{WS_NS}}}{operation}":
            return soap_fault(f"Server did not recognize the value of HTTP Header SOAPAction: {operation}.", 500)
        brand = values.get("Enseigne", "")
        if not brand:
            return _soap(operation, "<STAT>2</STAT>")
        key = state["brands"].get(brand)
        if key is None:
            return _soap(operation, "<STAT>1</STAT>")
        if values.get("Security", "") != sign([values.get(n, "") for n in names], key):
            return _soap(operation, "<STAT>97</STAT>")
        if operation == "WSI4_PointRelais_Recherche":
            return search(values)
        return trace(values)

    def search(values: dict[str, str]) -> Response:
        country = values.get("Pays", "").upper()
        cp = values.get("CP", "")
        if not cp and not values.get("Ville"):
            return _soap("WSI4_PointRelais_Recherche", "<STAT>38</STAT>")
        if country not in ("FR", "BE", "LU", "NL", "ES", "PT", "DE", "AT", "IT", "PL"):
            return _soap("WSI4_PointRelais_Recherche", "<STAT>40</STAT>")
        limit = int(values.get("NombreResultats") or 10)
        parts = ["<STAT>0</STAT><PointsRelais>"]
        for p in relay_points(country, cp or "75000")[:limit]:
            parts.append("<PointRelais_Details><STAT>0</STAT>")
            for key in ("Num", "LgAdr1", "LgAdr2", "LgAdr3", "LgAdr4", "CP", "Ville", "Pays", "Latitude", "Longitude",
                        "TypeActivite"):
                parts.append(f"<{key}>{escape(p[key])}</{key}>")
            for day, slots in zip(("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"),
                                  p["hours"]):
                parts.append(f"<Horaires_{day}>" + "".join(f"<string>{s}</string>" for s in slots)
                             + f"</Horaires_{day}>")
            parts.append(f"<Distance>{p['Distance']}</Distance></PointRelais_Details>")
        parts.append("</PointsRelais>")
        return _soap("WSI4_PointRelais_Recherche", "".join(parts))

    def trace(values: dict[str, str]) -> Response:
        number = values.get("Expedition", "")
        found = state["shipments"].get(number)
        if found is None or found["brand"] != values.get("Enseigne"):
            return _soap("WSI2_TracingColisDetaille", "<STAT>24</STAT>")
        stat = found.get("stat") or ("80" if now() - found["at"] < 7200 else "81" if now() - found["at"] < 86400
                                     else "82")
        labels = {"80": "Colis enregistré", "81": "Colis en traitement chez Mondial Relay",
                  "82": "Colis livré au destinataire", "83": "Anomalie"}
        events = ["<ret_WSI2_sub_TracingColisDetaille><Libelle>PRISE EN CHARGE EN AGENCE</Libelle>"
                  "<Date>02/12/26</Date><Heure>10:00</Heure><Emplacement>AGENCE PARIS</Emplacement>"
                  "<Relais_Num></Relais_Num><Relais_Pays>FR</Relais_Pays></ret_WSI2_sub_TracingColisDetaille>"]
        return _soap("WSI2_TracingColisDetaille",
                     f"<STAT>{stat}</STAT><Libelle01>{labels[stat]}</Libelle01>"
                     f"<Relais_Libelle>{escape(found.get('relay_name', ''))}</Relais_Libelle>"
                     f"<Relais_Num>{escape(found.get('relay', ''))}</Relais_Num><Libelle02></Libelle02>"
                     f"<Tracing>{''.join(events)}</Tracing>")

    # ------------------------------------------------------------------ API 2
    def api2_answer(statuses: list[tuple[str, str, str]], shipment: str = "") -> Response:
        status_xml = "".join(f'<Status Code="{c}" Level="{lvl}" Message="{escape(m, {chr(34): "&quot;"})}"/>'
                             for c, lvl, m in statuses)
        return _xml(f'<ShipmentCreationResponse xmlns="{RES_NS}"><StatusList>{status_xml}</StatusList>'
                    f"<ShipmentsList>{shipment}</ShipmentsList></ShipmentCreationResponse>",
                    content_type="application/xml; charset=utf-8")

    @app.post("/api/shipment")
    def api2():
        raw = request.get_data()
        state["bodies"].append(("api2", raw))
        try:
            root = ET.fromstring(raw)
        except ET.ParseError:
            return api2_answer([("10000", "Critical error", "Le flux XML est invalide.")])
        if root.tag != f"{{{REQ_NS}}}ShipmentCreationRequest":
            return api2_answer([("10000", "Critical error", "Le flux XML est invalide.")])

        def text(path: str) -> str:
            el = root.find("/".join(f"{{{REQ_NS}}}{p}" for p in path.split("/")))
            return (el.text or "").strip() if el is not None and el.text else ""

        login, password, customer = text("Context/Login"), text("Context/Password"), text("Context/CustomerId")
        account = state["accounts"].get(login)
        if account is None or account != (password, customer):
            return api2_answer([("10001", "Critical error", "Login et/ou mot de passe non valide.")])
        item = root.find(f"{{{REQ_NS}}}ShipmentsList/{{{REQ_NS}}}Shipment")
        if item is None:
            return api2_answer([("10015", "Error", "Aucune expédition dans la demande.")])
        mode = item.find(f"{{{REQ_NS}}}DeliveryMode")
        weight = item.find(f"{{{REQ_NS}}}Parcels/{{{REQ_NS}}}Parcel/{{{REQ_NS}}}Weight")
        recipient = item.find(f"{{{REQ_NS}}}Recipient/{{{REQ_NS}}}Address")
        if mode is None or weight is None or recipient is None:
            return api2_answer([("10000", "Critical error", "Le flux XML est invalide.")])
        if weight.get("Unit") != "gr" or not (weight.get("Value") or "").isdigit() or int(weight.get("Value")) < 10:
            return api2_answer([("10020", "Error", "Le poids du colis est invalide.")])
        country = (recipient.findtext(f"{{{REQ_NS}}}CountryCode") or "").upper()
        relay_name = ""
        location = mode.get("Location") or ""
        if mode.get("Mode") == "24R":
            cc, _dash, num = location.partition("-")
            if not known_relay(cc, num):
                return api2_answer([("10055", "Error", "Le plan de tri est introuvable.")])
            relay_name = relay(cc, num)["LgAdr1"]
        elif mode.get("Mode") not in ("HOM", "LCC", "24L", "DRI"):
            return api2_answer([("10051", "Error", "Le mode de livraison est invalide.")])
        with lock:
            number = f"{30000000 + next(numbers):08d}"
            state["shipments"][number] = {
                "brand": DEMO_ENSEIGNE if customer == DEMO_CUSTOMER_ID else customer, "at": now(),
                "order_no": item.findtext(f"{{{REQ_NS}}}OrderNo") or "", "mode": mode.get("Mode"),
                "relay": location, "relay_name": relay_name, "grams": int(weight.get("Value")), "country": country,
                "recipient": recipient.findtext(f"{{{REQ_NS}}}Lastname") or "", "stat": None}
        if state.get("drop_answers"):  # created, but the answer is lost on the way back
            state["drop_answers"] -= 1
            return Response("<html><body>504 Gateway Time-out</body></html>", status=504, content_type="text/html")
        if state["answer_seconds"]:
            kit.clock.sleep(state["answer_seconds"])
        base = request.host_url.rstrip("/") + request.script_root
        shipment = (f'<Shipment ShipmentNumber="{number}"><LabelList><Label>'
                    f"<Output>{escape(base)}/labels/{number}.pdf</Output></Label></LabelList></Shipment>")
        statuses = [("10025", "Warning", "Le numéro de téléphone mobile est absent.")] if not (
            recipient.findtext(f"{{{REQ_NS}}}MobileNo")) else []
        return api2_answer(statuses, shipment)

    @app.get("/labels/<number>.pdf")
    def label(number: str):
        found = state["shipments"].get(number)
        if found is None:
            return Response("Not found", status=404)
        pdf = label_pdf(["Mondial Relay", f"{found['mode']} {found['relay']}", number, found["recipient"],
                         f"{found['grams']} g"])
        return Response(pdf, content_type="application/pdf")

    return app
