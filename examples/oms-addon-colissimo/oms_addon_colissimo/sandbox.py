"""Emulator of Colissimo's SLS REST web services (generateLabel, checkGenerateLabel: JSON in,
``multipart/mixed`` out) and of La Poste's tracking API, for tests and the demo."""
from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from flask import Flask, Response, jsonify, request

CONTRACT, PASSWORD, OKAPI_KEY = "123456", "sandbox-password", "sandbox-okapi"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 283 425]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
BOUNDARY = "uuid:0b9d3d4c-sandbox"


def settings_for(base_url: str) -> dict[str, Any]:
    return {"contract_number": CONTRACT, "password": PASSWORD, "product_code": "DOM",
            "sender_company": "Maison Lumière", "sender_line": "12 rue des Artisans", "sender_zip": "75011",
            "sender_city": "Paris", "tariffs": "250:4.99\n500:6.49\n1000:7.49\n2000:8.69\n5000:13.39",
            "okapi_key": OKAPI_KEY, "api_base_url": f"{base_url}/sls-ws/SlsServiceWSRest/2.0",
            "tracking_base_url": f"{base_url}/suivi/v2"}


def _messages(code: str, text: str, kind: str) -> dict[str, Any]:
    return {"messages": [{"id": code, "type": kind, "messageContent": text, "replacementValues": []}]}


def make_app() -> Flask:
    app = Flask(__name__)
    lock = threading.Lock()
    numbers = itertools.count(1)
    state: dict[str, Any] = {"parcels": {}}
    app.config["STATE"] = state

    def _validate(body: dict[str, Any]):
        if body.get("contractNumber") != CONTRACT or body.get("password") != PASSWORD:
            return jsonify(_messages("30000", "Identifiant ou mot de passe incorrect", "ERROR")), 400
        letter = body.get("letter") or {}
        addressee = (letter.get("addressee") or {}).get("address") or {}
        if not addressee.get("zipCode"):
            return jsonify(_messages("30220", "Le code postal du destinataire n'est pas renseigné", "ERROR")), 400
        try:
            if float((letter.get("parcel") or {}).get("weight", 0)) <= 0:
                raise ValueError
        except ValueError:
            return jsonify(_messages("30500", "Le poids du colis n'est pas renseigné", "ERROR")), 400
        return None

    @app.post("/sls-ws/SlsServiceWSRest/2.0/checkGenerateLabel")
    def check():
        refused = _validate(request.get_json(force=True))
        return refused or jsonify(_messages("0", "La requête a été traitée avec succès", "SUCCESS"))

    @app.post("/sls-ws/SlsServiceWSRest/2.0/generateLabel")
    def generate():
        body = request.get_json(force=True)
        refused = _validate(body)
        if refused:
            return refused
        with lock:
            number = f"6A{next(numbers):011d}"
            state["parcels"][number] = {"request": body, "events": [{"code": "PC1", "label": "Pris en charge"}]}
        info = {**_messages("0", "La requête a été traitée avec succès", "SUCCESS"),
                "labelV2Response": {"parcelNumber": number, "parcelNumberPartner": None, "pdfUrl": None}}
        parts = [
            f"--{BOUNDARY}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <jsonInfos>\r\n\r\n".encode() + json.dumps(info).encode() + b"\r\n",
            f"--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <label>\r\n\r\n".encode() + PDF + b"\r\n",
            f"--{BOUNDARY}--\r\n".encode(),
        ]
        return Response(b"".join(parts), content_type=f'multipart/mixed; boundary="{BOUNDARY}"')

    @app.get("/suivi/v2/idships/<number>")
    def track(number: str):
        if request.headers.get("X-Okapi-Key") != OKAPI_KEY:
            return jsonify({"code": "UNAUTHORIZED", "message": "Invalid API key"}), 401
        parcel = state["parcels"].get(number)
        if parcel is None:
            return jsonify({"returnCode": 404, "returnMessage": "Numéro de suivi inconnu"}), 404
        return jsonify({"lang": "fr_FR", "returnCode": 200,
                        "shipment": {"idShip": number, "product": "colissimo", "event": parcel["events"][::-1]}})

    @app.post("/_sandbox/deliver/<number>")  # the emulator's own door: the parcel arrives
    def deliver(number: str):
        state["parcels"][number]["events"].append({"code": "DI1", "label": "Votre colis est livré"})
        return "", 204

    return app
