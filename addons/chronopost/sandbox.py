"""Emulator of Chronopost's SOAP web services (CXF, SOAP 1.1), for the tests and the demo.

``/shipping-cxf/ShippingServiceWS`` (``shippingMultiParcelV5``), ``/tracking-cxf/TrackingServiceWS``
(``trackSkybillV2``, ``cancelSkybill``), ``/quickcost-cxf/QuickcostServiceWS``
(``calculateProducts``, ``quickCost``) and ``/recherchebt-ws-cxf/PointRelaisServiceWS``
(``recherchePointChronopost``: a few Chrono Relais points around any French postal code), with Chronopost's ``errorCode`` answers (2: account
refused, 3: product not allowed, 33: waybill already scanned) and SOAP faults for malformed
requests. Mounted under /sandbox/chronopost in the demo; faults on demand through the kit. A
parcel's events follow the clock (taken over after an hour, out for delivery, delivered after a
day), or what a test sets.
"""
from __future__ import annotations

import base64
import itertools
import threading
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

from flask import Flask, Response, request

from core.connectors.emulator import EmulatorKit

from .client import QUICKCOST_NS, RELAY_NS, SHIPPING_NS, SOAP_NS, TRACKING_NS

#: the public test account Chronopost gives integrators
DEMO_ACCOUNT = "19869502"
DEMO_PASSWORD = "255562"
PRODUCTS_FR = ("01", "02", "16", "86")
PRODUCTS_WORLD = ("17", "37", "44")
LABEL_ANSWER_SECONDS = 0.0


def demo_settings(base_url: str) -> dict[str, Any]:
    return {"account_number": DEMO_ACCOUNT, "password": DEMO_PASSWORD, "default_product": "01",
            "express_product": "01", "international_product": "17", "label_mode": "PDF",
            "sender_name": "Maison Lumière", "sender_street": "12 rue des Artisans", "sender_postal_code": "93200",
            "sender_city": "Saint-Denis", "sender_country": "FR", "sender_phone": "0102030405",
            "sender_email": "expedition@exemple.fr", "api_base_url": base_url.rstrip("/")}


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


def _xml(body: str, status: int = 200) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>' + body, status=status,
                    content_type="text/xml; charset=UTF-8")


def answer(ns: str, operation: str, inner: str) -> Response:
    return _xml(f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><ns1:{operation}Response xmlns:ns1="{ns}">'
                f"<return>{inner}</return></ns1:{operation}Response></soap:Body></soap:Envelope>")


def fault(message: str, status: int = 500) -> Response:
    return _xml(f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>'
                f"<faultstring>{escape(message)}</faultstring></soap:Fault></soap:Body></soap:Envelope>", status)


def error_body(status: int) -> dict[str, Any]:
    return {"error": "Too Many Requests" if status == 429 else "Service Unavailable"}


def make_app(clock: Any = None) -> Flask:
    app = Flask(__name__)
    lock = threading.Lock()
    numbers = itertools.count(1)
    kit = EmulatorKit("chronopost", clock=clock, error_body=error_body)
    kit.attach(app)
    state: dict[str, Any] = {"skybills": {}, "accounts": {DEMO_ACCOUNT: DEMO_PASSWORD}, "exchanges": [],
                             "drop_answers": 0, "answer_seconds": LABEL_ANSWER_SECONDS}
    app.config["STATE"] = state

    def now() -> float:
        return kit.clock.time()

    @app.after_request
    def _record(response: Response) -> Response:
        if request.path.endswith("ServiceWS"):
            state["exchanges"].append((request.path, request.get_data(), response.get_data()))
        return response

    def parse(ns: str) -> tuple[str, ET.Element] | Response:
        try:
            root = ET.fromstring(request.get_data())
        except ET.ParseError:
            return fault("Unmarshalling Error: not well-formed", 500)
        body = root.find(f"{{{SOAP_NS}}}Body")
        if body is None or not len(body) or not body[0].tag.startswith(f"{{{ns}}}"):
            return fault("Unexpected wrapper element", 500)
        return body[0].tag.split("}", 1)[1], body[0]

    def authorised(account: str, password: str) -> bool:
        return state["accounts"].get(account) == password

    # ------------------------------------------------------------------ shipping
    @app.post("/shipping-cxf/ShippingServiceWS")
    def shipping():
        parsed = parse(SHIPPING_NS)
        if isinstance(parsed, Response):
            return parsed
        operation, call = parsed
        if operation != "shippingMultiParcelV5":
            return fault(f"Unexpected wrapper element {{{SHIPPING_NS}}}{operation} found.")
        account = call.findtext("headerValue/accountNumber") or ""
        if not authorised(account, call.findtext("password") or ""):
            return answer(SHIPPING_NS, operation, "<errorCode>2</errorCode><errorMessage>Compte ou mot de passe "
                                                  "invalide</errorMessage>")
        product = call.findtext("skybillValue/productCode") or ""
        country = (call.findtext("recipientValue/recipientCountry") or "").upper()
        if product not in PRODUCTS_FR + PRODUCTS_WORLD or (country == "FR") != (product in PRODUCTS_FR):
            return answer(SHIPPING_NS, operation, f"<errorCode>3</errorCode><errorMessage>Code produit {escape(product)} "
                                                  f"non autorisé vers {escape(country)}</errorMessage>")
        try:
            weight = float(call.findtext("skybillValue/weight") or "0")
        except ValueError:
            weight = 0.0
        if not 0 < weight <= 30:
            return answer(SHIPPING_NS, operation, "<errorCode>7</errorCode><errorMessage>Poids invalide</errorMessage>")
        if product == "86" and not (call.findtext("refValue/recipientRef") or "").strip():
            return answer(SHIPPING_NS, operation, "<errorCode>30</errorCode><errorMessage>Point relais absent"
                                                  "</errorMessage>")
        if country not in ("FR",) and product in PRODUCTS_WORLD and not call.findtext("skybillValue/customsValue"):
            if country not in ("DE", "BE", "ES", "IT", "NL", "LU", "PT", "AT", "IE"):
                return answer(SHIPPING_NS, operation, "<errorCode>25</errorCode><errorMessage>Valeur en douane "
                                                      "absente</errorMessage>")
        with lock:
            number = f"XW{100000000 + next(numbers):09d}FR"
            state["skybills"][number] = {"account": account, "at": now(), "product": product, "country": country,
                                         "weight": weight, "events": None, "cancelled": False,
                                         "relay": call.findtext("refValue/recipientRef") or "",
                                         "customs": call.findtext("skybillValue/customsValue"),
                                         "recipient": call.findtext("recipientValue/recipientContactName") or ""}
        if state["drop_answers"]:
            state["drop_answers"] -= 1
            return Response("<html><body>504 Gateway Time-out</body></html>", status=504, content_type="text/html")
        if state["answer_seconds"]:
            kit.clock.sleep(state["answer_seconds"])
        pdf = base64.b64encode(label_pdf(["Chronopost", f"Produit {product}", number,
                                          state["skybills"][number]["recipient"], f"{weight} kg"])).decode()
        return answer(SHIPPING_NS, operation, "<errorCode>0</errorCode><errorMessage></errorMessage>"
                      f"<resultMultiParcelValue><codeDepot>75999</codeDepot><pdfEtiquette>{pdf}</pdfEtiquette>"
                      f"<skybillNumber>{number}</skybillNumber></resultMultiParcelValue>")

    # ------------------------------------------------------------------ tracking and cancel
    def events_of(number: str) -> list[tuple[str, str]]:
        found = state["skybills"][number]
        if found["events"] is not None:
            return found["events"]
        age = now() - found["at"]
        out = [("DC", "Envoi en cours de préparation chez l'expéditeur")]
        if age > 3600:
            out.append(("PC", "Pris en charge par Chronopost"))
        if age > 6 * 3600:
            out.append(("TS", "En cours d'acheminement"))
        if age > 86400:
            out.append(("D", "Livraison effectuée"))
        return out

    @app.post("/tracking-cxf/TrackingServiceWS")
    def tracking():
        parsed = parse(TRACKING_NS)
        if isinstance(parsed, Response):
            return parsed
        operation, call = parsed
        number = (call.findtext("skybillNumber") or "").strip()
        if operation == "trackSkybillV2":
            if number not in state["skybills"]:
                return answer(TRACKING_NS, operation, "<errorCode>0</errorCode><errorMessage></errorMessage>"
                                                      "<listEventInfoComp><skybillNumber>" + escape(number)
                              + "</skybillNumber></listEventInfoComp>")
            events = "".join(f"<events><code>{c}</code><eventDate>2026-12-02T10:00:00+01:00</eventDate>"
                             f"<eventLabel>{escape(label)}</eventLabel><highPriority>false</highPriority>"
                             f"<NPC></NPC><officeLabel>Chronopost Paris</officeLabel><zipCode>75</zipCode></events>"
                             for c, label in events_of(number))
            return answer(TRACKING_NS, operation, "<errorCode>0</errorCode><errorMessage></errorMessage>"
                          f"<listEventInfoComp>{events}<skybillNumber>{escape(number)}</skybillNumber>"
                          "</listEventInfoComp>")
        if operation == "cancelSkybill":
            if not authorised(call.findtext("accountNumber") or "", call.findtext("password") or ""):
                return answer(TRACKING_NS, operation, "<errorCode>2</errorCode><errorMessage>Compte ou mot de passe "
                                                      "invalide</errorMessage><statusCode>0</statusCode>")
            found = state["skybills"].get(number)
            if found is None:
                return answer(TRACKING_NS, operation, "<errorCode>34</errorCode><errorMessage>Numéro d'envoi "
                                                      "inconnu</errorMessage><statusCode>0</statusCode>")
            if len(events_of(number)) > 1:
                return answer(TRACKING_NS, operation, "<errorCode>33</errorCode><errorMessage>Colis déjà flashé"
                                                      "</errorMessage><statusCode>0</statusCode>")
            found["cancelled"] = True
            return answer(TRACKING_NS, operation, "<errorCode>0</errorCode><errorMessage></errorMessage>"
                                                  "<statusCode>1</statusCode>")
        return fault(f"Unexpected wrapper element {{{TRACKING_NS}}}{operation} found.")

    # ------------------------------------------------------------------ quickcost
    @app.post("/quickcost-cxf/QuickcostServiceWS")
    def quickcost():
        parsed = parse(QUICKCOST_NS)
        if isinstance(parsed, Response):
            return parsed
        operation, call = parsed
        if not authorised(call.findtext("accountNumber") or "", call.findtext("password") or ""):
            return answer(QUICKCOST_NS, operation, "<errorCode>2</errorCode><errorMessage>Compte ou mot de passe "
                                                   "invalide</errorMessage>")
        if operation == "calculateProducts":
            country = (call.findtext("arrCountryCode") or "FR").upper()
            codes = PRODUCTS_FR if country == "FR" else PRODUCTS_WORLD
            items = "".join(f"<productList><productCode>{c}</productCode></productList>" for c in codes)
            return answer(QUICKCOST_NS, operation, f"<errorCode>0</errorCode><errorMessage></errorMessage>{items}")
        if operation == "quickCost":
            try:
                kg = float(call.findtext("weight") or "1")
            except ValueError:
                kg = 1.0
            base = {"01": 14.9, "02": 19.9, "16": 12.5, "86": 6.9, "17": 39.0, "37": 55.0, "44": 29.0}.get(
                call.findtext("productCode") or "", 0)
            if not base:
                return answer(QUICKCOST_NS, operation, "<errorCode>3</errorCode><errorMessage>Produit inconnu"
                                                       "</errorMessage>")
            ht = round(base + 1.2 * max(0, int(kg + 0.999) - 1), 2)
            return answer(QUICKCOST_NS, operation, f"<amount>{ht:.2f}</amount><amountTTC>{ht * 1.2:.2f}</amountTTC>"
                                                   f"<amountTVA>{ht * 0.2:.2f}</amountTVA><errorCode>0</errorCode>"
                                                   "<errorMessage></errorMessage>")
        return fault(f"Unexpected wrapper element {{{QUICKCOST_NS}}}{operation} found.")

    # ------------------------------------------------------------------ relay points
    @app.post("/recherchebt-ws-cxf/PointRelaisServiceWS")
    def relay_points():
        parsed = parse(RELAY_NS)
        if isinstance(parsed, Response):
            return parsed
        operation, call = parsed
        if operation != "recherchePointChronopost":
            return fault(f"Unexpected wrapper element {{{RELAY_NS}}}{operation} found.")
        if not authorised(call.findtext("accountNumber") or "", call.findtext("password") or ""):
            return answer(RELAY_NS, operation, "<errorCode>3</errorCode><errorMessage>Identifiant ou mot de passe "
                                               "incorrect</errorMessage><qualiteReponse>0</qualiteReponse>")
        zip_code = (call.findtext("zipCode") or "").strip()
        if (call.findtext("countryCode") or "FR").upper() != "FR" or not (zip_code.isdigit() and len(zip_code) == 5):
            return answer(RELAY_NS, operation, "<errorCode>6</errorCode><errorMessage>Code postal invalide"
                                               "</errorMessage><qualiteReponse>0</qualiteReponse>")
        limit = int(call.findtext("maxPointChronopost") or "5") if (call.findtext("maxPointChronopost") or "").isdigit() else 5
        city = escape((call.findtext("city") or "").strip().upper() or "VILLE")
        points = ""
        for n, (name, street, closed) in enumerate(RELAYS[:max(1, min(limit, 25))]):
            hours = "".join(f"<listeHoraireOuverture><horairesAsString>{'' if day in closed else '09:00-12:30 14:00-19:00'}"
                            f"</horairesAsString><jour>{day}</jour></listeHoraireOuverture>" for day in range(1, 8))
            points += (f"<listePointRelais><accesPersonneMobiliteReduite>true</accesPersonneMobiliteReduite>"
                       f"<actif>true</actif><adresse1>{street}</adresse1><adresse2></adresse2><adresse3></adresse3>"
                       f"<codePays>FR</codePays><codePostal>{zip_code}</codePostal>"
                       f"<coordGeolocalisationLatitude>48.86</coordGeolocalisationLatitude>"
                       f"<coordGeolocalisationLongitude>2.35</coordGeolocalisationLongitude>"
                       f"<distanceEnMetre>{250 + 420 * n}</distanceEnMetre>"
                       f"<identifiant>{zip_code[:2]}{n + 1:02d}R</identifiant><indiceDeLocalisation></indiceDeLocalisation>"
                       f"{hours}<localite>{city}</localite><nom>{name}</nom><poidsMaxi>20000</poidsMaxi>"
                       f"<typeDePoint>P</typeDePoint></listePointRelais>")
        return answer(RELAY_NS, operation, f"<errorCode>0</errorCode><errorMessage></errorMessage>{points}"
                                           "<qualiteReponse>1</qualiteReponse><wsRequestId>emu</wsRequestId>")

    return app


#: the points the emulator answers around any postal code: (name, street, days closed)
RELAYS = (("RELAIS DU MARCHE", "4 PLACE DU MARCHE", {7}), ("TABAC DE LA GARE", "1 AVENUE DE LA GARE", {7}),
          ("FLEURS ET CADEAUX", "18 RUE DE LA REPUBLIQUE", {1, 7}), ("PRESSING CENTRAL", "9 RUE VICTOR HUGO", {6, 7}),
          ("EPICERIE DU PARC", "27 BOULEVARD DU PARC", {7}))
