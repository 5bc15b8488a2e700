"""Emulator of Colissimo's web services and La Poste's tracking API, in their wire format:

* SLS REST 2.0 under ``/sls-ws/SlsServiceWSRest/2.0``: ``generateLabel`` answers
  ``multipart/mixed`` (``<jsonInfos>`` JSON, ``<label>`` binary PDF, ``<cn23>`` outside the
  EU), refusals as mono-part JSON ``messages`` (HTTP 400, ids such as 30000 bad credentials,
  30220 no postal code, 30500 no weight); ``checkGenerateLabel`` answers the messages only.
  Credentials: the ``apiKey`` header, or ``contractNumber`` + ``password`` in the body.
* Point retrait v2 under ``/pointretrait-ws-cxf/rest/v2/pointretrait``:
  ``findRDVPointRetraitAcheminement`` (points near the postal code, with opening hours).
* La Poste Suivi v2 under ``/suivi/v2``: ``GET /idships/{n,n,…}`` (≤ 10, header
  ``X-Okapi-Key``); one number answers an object, several a list (207).

``app.config``: ``PARCELS`` (number → request and events), ``LATENCY`` (seconds a label takes,
on the clock). ``POST /_emulator/parcels/<n>/events`` adds a tracking event.
"""
from __future__ import annotations

import itertools
import json
import threading
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, jsonify, request

from core.connectors.emulator import EmulatorKit, SystemClock

API_KEY = "demo-colissimo-api-key-0001"
CONTRACT, PASSWORD = "820000", "demo-ws-password"
OKAPI_KEY = "demo-okapi-suivi-key-0001"
BOUNDARY = "uuid:7c3e5f0a-0b9d-4d4c-9a2e-colissimo"
EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
PRODUCTS = {"DOM", "DOS", "HD", "COM", "CDS", "COLI", "CORE", "CORI"}
PREFIX = {"DOM": "6A", "DOS": "6A", "HD": "6H", "COM": "7Q", "CDS": "7R", "COLI": "CJ", "CORE": "8R", "CORI": "7R"}
POINTS = [
    ("986660", "TABAC DE LA MAIRIE", "12 RUE DE LA MAIRIE", "A2P", 350, "09:00-12:30 14:00-19:00"),
    ("849302", "BUREAU DE POSTE PARIS LOUVRE", "52 RUE DU LOUVRE", "BPR", 800, "08:00-20:00 00:00-00:00"),
    ("A12345", "CONSIGNE PICKUP STATION GARE", "PARVIS DE LA GARE", "CMT", 1200, "00:00-23:59 00:00-00:00"),
]


def _messages(code: str, text: str, kind: str = "ERROR") -> dict[str, Any]:
    return {"messages": [{"id": code, "type": kind, "messageContent": text, "replacementValues": []}]}


def error_body(status: int) -> dict[str, Any]:
    return _messages(str(status), {429: "Trop de requêtes", 503: "Service indisponible"}.get(status, "Erreur serveur"))


def pdf(lines: list[str]) -> bytes:
    """A small valid PDF, with bytes outside ASCII (as a real label) to catch text decoding."""
    stream = ("BT /F1 12 Tf 20 380 Td 16 TL " + " ".join(f"({t}) Tj T*" for t in lines) + " ET").encode("latin-1",
                                                                                                     "replace")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 283 425] /Resources << /Font << /F1 4 0 R >> >> "
               b"/Contents 5 0 R >>", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def make_app(clock: Any = None) -> Flask:
    app = Flask(__name__)
    clock = clock or SystemClock()
    kit = EmulatorKit("colissimo", clock=clock, error_body=error_body)
    kit.attach(app)
    lock = threading.Lock()
    numbers = itertools.count(1)
    app.config.update(PARCELS={}, LATENCY=0.0, KIT=kit, CLOCK=clock)

    def now() -> str:
        return datetime.fromtimestamp(clock.time(), tz=timezone.utc).isoformat(timespec="seconds")

    def credentials_ok(body: dict[str, Any]) -> bool:
        key = request.headers.get("apiKey")
        if key:
            return key == API_KEY and "password" not in body
        return body.get("contractNumber") == CONTRACT and body.get("password") == PASSWORD

    def validate(body: dict[str, Any]):
        if not credentials_ok(body):
            return jsonify(_messages("30000", "Identifiant ou mot de passe incorrect")), 400
        letter = body.get("letter") or {}
        service = letter.get("service") or {}
        if service.get("productCode") not in PRODUCTS:
            return jsonify(_messages("30100", "Le code produit est incorrect")), 400
        to = (letter.get("addressee") or {}).get("address") or {}
        frm = (letter.get("sender") or {}).get("address") or {}
        if not to.get("zipCode"):
            return jsonify(_messages("30220", "Le code postal du destinataire n'est pas renseigné")), 400
        if not frm.get("zipCode") or not frm.get("line2"):
            return jsonify(_messages("30120", "L'adresse de l'expéditeur n'est pas renseignée")), 400
        for part in (to, frm):
            for field in ("line0", "line1", "line2", "line3"):
                if len(str(part.get(field) or "")) > 35:
                    return jsonify(_messages("30221", f"La ligne {field} dépasse 35 caractères")), 400
        try:
            if float((letter.get("parcel") or {}).get("weight", 0)) < 0.01:
                raise ValueError
        except (TypeError, ValueError):
            return jsonify(_messages("30500", "Le poids du colis n'est pas renseigné")), 400
        product = service["productCode"]
        if product == "HD":
            if not (letter.get("parcel") or {}).get("pickupLocationId"):
                return jsonify(_messages("30610", "L'identifiant du point de retrait n'est pas renseigné")), 400
            if not to.get("mobileNumber"):
                return jsonify(_messages("30211", "Le numéro de portable du destinataire est obligatoire")), 400
        customs = frm.get("countryCode") != to.get("countryCode") and not (
            frm.get("countryCode") in EU and to.get("countryCode") in EU)
        if customs and not (letter.get("customsDeclarations") or {}).get("contents", {}).get("article"):
            return jsonify(_messages("30400", "La déclaration douanière (CN23) est obligatoire")), 400
        return None

    @app.post("/sls-ws/SlsServiceWSRest/2.0/checkGenerateLabel")
    def check():
        body = request.get_json(silent=True) or {}
        return validate(body) or jsonify(_messages("0", "La requête a été traitée avec succès", "SUCCESS"))

    @app.post("/sls-ws/SlsServiceWSRest/2.0/generateLabel")
    def generate():
        body = request.get_json(silent=True) or {}
        refused = validate(body)
        if refused:
            return refused
        if app.config["LATENCY"]:
            clock.sleep(app.config["LATENCY"])
        letter = body["letter"]
        product = letter["service"]["productCode"]
        to = letter["addressee"]["address"]
        frm = letter["sender"]["address"]
        with lock:
            number = f"{PREFIX[product]}{next(numbers):011d}"
            app.config["PARCELS"][number] = {"request": body, "product": product,
                                             "events": [{"code": "DR1", "label": "Votre Colissimo va bientôt nous être "
                                                         "confié !", "date": now()}]}
        info = {**_messages("0", "La requête a été traitée avec succès", "SUCCESS"),
                "labelV2Response": {"parcelNumber": number, "parcelNumberPartner": None, "pdfUrl": None,
                                    "fields": None}}
        parts = [(b"application/json", b"jsonInfos", json.dumps(info).encode()),
                 (b"application/octet-stream", b"label",
                  pdf([f"Colissimo {product}", number, to.get("lastName", ""), f"{to.get('zipCode')} {to.get('city')}"]))]
        if letter.get("customsDeclarations"):
            parts.append((b"application/octet-stream", b"cn23", pdf(["CN23", number, frm.get("countryCode", "")])))
        out = bytearray()
        for kind, cid, payload in parts:
            out += (b"--" + BOUNDARY.encode() + b"\r\nContent-Type: " + kind + b"\r\nContent-Transfer-Encoding: "
                    b"binary\r\nContent-ID: <" + cid + b">\r\n\r\n" + payload + b"\r\n")
        out += b"--" + BOUNDARY.encode() + b"--\r\n"
        return Response(bytes(out), content_type=f'multipart/mixed; boundary="{BOUNDARY}"; '
                                                   'type="application/json"; start="<jsonInfos>"')

    @app.post("/pointretrait-ws-cxf/rest/v2/pointretrait/findRDVPointRetraitAcheminement")
    def points():
        body = request.get_json(silent=True) or {}
        key_ok = request.headers.get("apiKey") == API_KEY
        if not key_ok and not (body.get("accountNumber") == CONTRACT and body.get("password") == PASSWORD):
            return jsonify({"errorCode": 101, "errorMessage": "Identifiant ou mot de passe invalide",
                            "listePointRetraitAcheminement": []})
        zip_code, city = str(body.get("zipCode") or ""), str(body.get("city") or "")
        if not zip_code or not city:
            return jsonify({"errorCode": 104, "errorMessage": "Code postal ou ville obligatoire",
                            "listePointRetraitAcheminement": []})
        days = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
        listed = []
        for ident, name, line, kind, distance, hours in POINTS:
            entry = {"identifiant": ident, "nom": name, "adresse1": line, "adresse2": "", "adresse3": "",
                     "codePostal": zip_code, "localite": city.upper(), "codePays": "FR", "langue": "FR",
                     "libellePays": "FRANCE", "typeDePoint": kind, "distanceEnMetre": distance,
                     "coordGeolocalisationLatitude": "48.86", "coordGeolocalisationLongitude": "2.34",
                     "poidsMaxi": 30000, "accesPersonneMobiliteReduite": True, "congesTotal": False}
            for index, day in enumerate(days):
                entry[f"horairesOuverture{day}"] = "00:00-00:00 00:00-00:00" if index == 6 and kind != "CMT" else hours
            listed.append(entry)
        return jsonify({"errorCode": 0, "errorMessage": "Code retour OK", "qualiteReponse": 2,
                        "wsRequestId": body.get("requestId", ""), "listePointRetraitAcheminement": listed})

    @app.get("/suivi/v2/idships/<path:ids>")
    def track(ids: str):
        if request.headers.get("X-Okapi-Key") != OKAPI_KEY:
            return jsonify({"code": "UNAUTHORIZED", "message": "The provided API key is invalid."}), 401
        wanted = [n for n in ids.split(",") if n]
        if len(wanted) > 10:
            return jsonify({"code": "BAD_REQUEST", "message": "Maximum 10 idShips"}), 400
        out = []
        for number in wanted:
            parcel = app.config["PARCELS"].get(number)
            if parcel is None:
                out.append({"lang": "fr_FR", "scope": "open", "returnCode": 404, "idShip": number,
                            "returnMessage": "Numéro de suivi inconnu"})
                continue
            events = list(reversed(parcel["events"]))
            out.append({"lang": "fr_FR", "scope": "open", "returnCode": 200, "shipment": {
                "idShip": number, "holder": 4, "product": "colissimo", "isFinal": events[0]["code"].startswith("DI"),
                "url": f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}", "event": events,
                "timeline": [{"shortLabel": "Pris en charge", "status": len(events) > 1, "type": 1}]}})
        if len(out) == 1:
            return jsonify(out[0]), out[0]["returnCode"]
        return jsonify(out), 207

    @app.post("/_emulator/parcels/<number>/events")
    def add_event(number: str):
        parcel = app.config["PARCELS"].get(number)
        if parcel is None:
            return jsonify({"error": "unknown parcel"}), 404
        data = request.get_json(silent=True) or {}
        parcel["events"].append({"code": data.get("code", "ET1"), "label": data.get("label", "En transit"),
                                 "date": data.get("date") or now()})
        return jsonify({"events": len(parcel["events"])})

    return app


def demo_settings(base_url: str) -> dict[str, Any]:
    root = base_url.rstrip("/")
    return {"api_key": API_KEY, "contract_number": CONTRACT, "product_code": "DOM",
            "output_format": "PDF_10x15_300dpi", "sender_company": "Maison Lumière",
            "sender_line": "12 rue des Artisans", "sender_zip": "75011", "sender_city": "Paris",
            "sender_phone": "+33100000000", "sender_email": "expeditions@example.com",
            "tariffs": "250:4.99\n500:6.49\n1000:7.49\n2000:8.69\n5000:13.39\n10000:19.99\n30000:29.99",
            "relay_tariffs": "1000:4.95\n5000:8.95\n20000:14.95", "okapi_key": OKAPI_KEY,
            "api_base_url": f"{root}/sls-ws/SlsServiceWSRest/2.0",
            "points_base_url": f"{root}/pointretrait-ws-cxf/rest/v2/pointretrait",
            "tracking_base_url": f"{root}/suivi/v2"}
