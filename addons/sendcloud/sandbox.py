"""Emulator of the Sendcloud API endpoints the add-on calls, v3 under ``/v3`` and v2 under
``/v2``, answering in the shapes of Sendcloud's OpenAPI specifications (checked by the
add-on's tests), and a sender of signed status webhooks.

v3: ``POST /shipping-options``, ``POST /shipments/announce`` (201 with the shipment, its
parcel, tracking and label link; customs data required outside the EU), ``GET /shipments``
(by ``external_reference_id``), ``GET /shipments/{id}``, ``POST /shipments/{id}/cancel``,
``GET /parcels/{id}/documents/label`` (a small valid PDF).
v2: ``GET /shipping_methods``, ``POST /parcels`` (``request_label``), ``GET /parcels``
(by ``external_reference``), ``GET /parcels/{id}``, ``POST /parcels/{id}/cancel``,
``GET /labels/label_printer/{id}``.

Every call needs HTTP Basic authentication (401 with the JSON:API ``errors`` body of the
spec, ``authentication_failed``, when credentials are missing or wrong). ``app.config``
holds the state (``SHIPMENTS``, ``PARCELS``), what was received (``CALLS``: method and path;
``REQUESTS``: method, path and JSON body) and three switches for failure drills: ``DOWN``
(every call answers 503), ``FAIL_NEXT`` (that many calls answer 503) and ``DROP_ANSWERS``
(that many calls are carried out but answer 503, as when the answer is lost on the way).
``POST /_emulator/parcels/{id}/status`` moves a parcel to a status and posts the signed
``parcel_status_changed`` webhook to the URL given (the demo's "the carrier scanned it").
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from itertools import count
from typing import Any

import httpx
from flask import Flask, Response, jsonify, request

from core.connectors.emulator import EmulatorKit

DEMO_PUBLIC_KEY = "0d3m0a1b2c3d4e5f60718293a4b5c6d7"
DEMO_SECRET_KEY = "0d3m0f9e8d7c6b5a49382716f5e4d3c2"

INVALID_CREDENTIALS = {"errors": [{
    "status": "401", "code": "authentication_failed", "title": "Invalid username/password.",
    "detail": "The username or password provided is incorrect. Please make a request with the valid credentials.",
}]}
NO_CREDENTIALS = {"errors": [{
    "status": "401", "code": "authentication_failed", "title": "No credentials",
    "detail": "Authentication credentials were not provided.",
}]}
EMPTY_PARCELS = {"errors": [{"status": "400", "code": "invalid", "detail": "At least one parcel must be provided."}]}

_FUNCTIONALITIES = {
    "b2b": False, "b2c": True, "ers": False, "size": None, "tyres": False, "sorted": False, "boxable": False,
    "premium": False, "returns": False, "segment": None, "tracked": True, "id_check": False, "incoterm": None,
    "manually": False, "priority": None, "age_check": None, "insurance": None, "labelless": False,
    "last_mile": "home_delivery", "signature": False, "surcharge": False, "first_mile": "pickup_dropoff",
    "multicollo": False, "bulky_goods": False, "form_factor": "parcel", "fresh_goods": False,
    "eco_delivery": False, "service_area": "domestic", "flex_delivery": False, "fragile_goods": False,
    "non_conveyable": False, "dangerous_goods": False, "delivery_before": None, "cash_on_delivery": None,
    "harmonized_label": False, "weekend_delivery": None, "carrier_insurance": False, "delivery_attempts": None,
    "delivery_deadline": "best_effort", "neighbor_delivery": False, "customs_value_limit": None,
    "registered_delivery": False, "carrier_billing_type": None, "personalized_delivery": False,
    "pick_up": False, "direct_contract_only": False,
}
_CARRIERS = {"colissimo": "Colissimo", "chronopost": "Chronopost", "mondial_relay": "Mondial Relay",
             "dpd": "DPD", "laposte": "La Poste"}

# code, name, product, min kg, max kg, departure countries, price (EUR), lead time (h), overrides
DEMO_OPTIONS: list[tuple[str, str, str, str, str, tuple[str, ...], str, int, dict[str, Any]]] = [
    ("laposte:lettre_suivie", "La Poste Lettre suivie 0-2kg", "Lettre suivie", "0.001", "2.000",
     ("FR",), "2.99", 48, {"form_factor": "letter"}),
    ("colissimo:home", "Colissimo Home", "Home", "0.001", "30.000", ("FR",), "6.15", 48, {}),
    ("colissimo:home/signature", "Colissimo Home + Signature", "Home", "0.001", "30.000", ("FR",), "7.35", 48,
     {"signature": True}),
    ("chronopost:13", "Chronopost 13", "Chrono 13", "0.001", "30.000", ("FR",), "13.90", 24,
     {"delivery_deadline": "within_24h", "premium": True}),
    ("mondial_relay:point_relais", "Mondial Relay Point Relais", "Point Relais", "0.001", "30.000", ("FR", "BE"),
     "4.40", 96, {"last_mile": "service_point"}),
    ("dpd:classic", "DPD Classic", "Classic", "0.001", "31.500", ("FR", "BE", "NL", "DE"), "7.90", 48,
     {"b2b": True}),
]


def _option(row: tuple, calculate_quotes: bool) -> dict[str, Any]:
    code, name, product, min_kg, max_kg, _countries, price, lead_time, overrides = row
    carrier = code.split(":", 1)[0]
    weight = {"min": {"value": min_kg, "unit": "kg"}, "max": {"value": max_kg, "unit": "kg"}}
    requirements = {"fields": [], "export_documents": False,
                    "is_service_point_required": overrides.get("last_mile") == "service_point"}
    return {
        "code": code, "name": name,
        "carrier": {"code": carrier, "name": _CARRIERS[carrier]},
        "product": {"code": code.split("/", 1)[0], "name": f"{_CARRIERS[carrier]} {product}"},
        "functionalities": {k: v for k, v in {**_FUNCTIONALITIES, **overrides}.items() if v is not None},
        "contract": {"id": 1000 + sorted(_CARRIERS).index(carrier), "client_id": "", "carrier_code": carrier,
                     "name": f"{_CARRIERS[carrier]} (contrat Sendcloud)"},
        "weight": weight,
        "max_dimensions": {"length": "100.00", "width": "60.00", "height": "60.00", "unit": "cm"},
        "parcel_billed_weights": [],
        "requirements": requirements,
        "charging_type": "label_creation",
        "quotes": [{"weight": weight,
                    "price": {"breakdown": [{"type": "price_without_insurance", "label": "Label",
                                             "price": {"value": price, "currency": "EUR"}}],
                              "total": {"value": price, "currency": "EUR"}},
                    "lead_time": lead_time}] if calculate_quotes else [],
    }


def _kg(weight: Any) -> Decimal | None:
    if not isinstance(weight, dict):
        return None
    factors = {"kg": Decimal(1), "g": Decimal("0.001"), "lbs": Decimal("0.45359237"), "oz": Decimal("0.028349523125")}
    try:
        return Decimal(str(weight.get("value"))) * factors[str(weight.get("unit", "kg"))]
    except (InvalidOperation, KeyError):
        return None



#: v2 shipping method ids of the demo options (v2 methods are numbered)
V2_METHOD_IDS = {row[0]: 8000 + index for index, row in enumerate(DEMO_OPTIONS)}
EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
#: parcel status ids and messages (``GET /parcels/statuses``) and their v3 codes
STATUSES: dict[int, tuple[str, str]] = {
    1000: ("READY_TO_SEND", "Ready to send"), 1: ("ANNOUNCED", "Announced"),
    3: ("IN_TRANSIT", "En route to sorting center"), 22: ("IN_TRANSIT", "Shipment picked up by driver"),
    91: ("IN_TRANSIT", "Parcel en route"), 92: ("IN_TRANSIT", "Driver en route"),
    8: ("DELIVERY_ATTEMPT_FAILED", "Delivery attempt failed"), 11: ("DELIVERED", "Delivered"),
    1999: ("CANCELLATION_REQUESTED", "Cancellation requested"), 2000: ("CANCELLED", "Cancelled"),
}
UNAVAILABLE = {"errors": [{"status": "503", "code": "service_unavailable",
                           "detail": "The service is temporarily unavailable."}]}
NOT_FOUND = {"errors": [{"status": "404", "code": "not_found", "detail": "Not found"}]}
_ids = count(383707309)
_lock = threading.Lock()


def label_pdf(lines: list[str]) -> bytes:
    """A one-page A6 PDF (PDF 1.4, Helvetica) printing ``lines``: small and valid."""
    def esc(text: str) -> str:
        return text.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 14 Tf", "20 380 Td", "18 TL"]
    for index, text in enumerate(lines):
        ops.append(f"({esc(text)}) Tj" if index == 0 else f"T* ({esc(text)}) Tj")
    ops += ["ET", "20 60 m 277 60 l S", "20 40 m 277 40 l S"]
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 420] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _invalid(detail: str, pointer: str, status: int = 400):
    return jsonify({"errors": [{"status": str(status), "code": "invalid", "detail": detail,
                                "source": {"pointer": pointer}}]}), status


def _tracking(carrier: str, parcel_id: int, country: str, postal_code: str) -> tuple[str, str]:
    number = f"{carrier[:2].upper()}{parcel_id:011d}FR"
    url = (f"https://tracking.eu-central-1-0.sendcloud.sc/forward?carrier={carrier}&code={number}"
           f"&destination={country}&lang=fr-fr&source=FR&type=parcel&verification={postal_code.replace(' ', '+')}")
    return number, url


def _v3_parcel(parcel: dict[str, Any], base: str) -> dict[str, Any]:
    code, message = STATUSES.get(parcel["status_id"], ("UNKNOWN", "Unknown status"))
    return {
        "id": parcel["id"], "status": {"code": code, "message": message},
        "documents": [{"type": "label", "size": "a6", "link": f"{base}/v3/parcels/{parcel['id']}/documents/label"}],
        "weight": parcel["weight"], "tracking_number": parcel["tracking_number"],
        "tracking_url": parcel["tracking_url"], "additional_carrier_data": {},
        "created_at": parcel["created_at"], "updated_at": parcel["updated_at"], "announced_at": parcel["created_at"],
        "label_notes": [], "parcel_items": parcel["items"],
    }


def _v3_shipment(shipment: dict[str, Any], parcels: dict[int, dict[str, Any]], base: str) -> dict[str, Any]:
    body = {k: v for k, v in shipment.items() if k != "parcel_ids" and v is not None}
    body["parcels"] = [_v3_parcel(parcels[pid], base) for pid in shipment["parcel_ids"]]
    body["errors"] = []
    return body


def _v2_parcel(parcel: dict[str, Any], base: str) -> dict[str, Any]:
    _code, message = STATUSES.get(parcel["status_id"], ("UNKNOWN", "Unknown status"))
    to = parcel["to"]
    return {
        "id": parcel["id"], "name": to.get("name", ""), "company_name": to.get("company_name", ""),
        "address": to.get("address_line_1", ""), "address_2": to.get("address_line_2", ""),
        "address_divided": {"street": to.get("address_line_1", ""), "house_number": ""},
        "city": to.get("city", ""), "postal_code": to.get("postal_code", ""), "telephone": to.get("phone_number", ""),
        "email": to.get("email", ""), "country": {"iso_2": to.get("country_code", ""), "iso_3": "",
                                                 "name": to.get("country_code", "")},
        "date_created": parcel["date_created"], "date_updated": parcel["date_created"],
        "date_announced": parcel["date_created"],
        "tracking_number": parcel["tracking_number"], "tracking_url": parcel["tracking_url"],
        "weight": parcel["weight"]["value"], "order_number": parcel["order_number"],
        "external_reference": parcel["external_reference"], "status": {"id": parcel["status_id"], "message": message},
        "carrier": {"code": parcel["carrier"]}, "shipment": {"id": parcel["method_v2"], "name": parcel["method_name"]},
        "label": {"normal_printer": [f"{base}/v2/labels/normal_printer/{parcel['id']}?start_from={i}" for i in range(4)],
                  "label_printer": f"{base}/v2/labels/label_printer/{parcel['id']}"},
        "documents": [{"type": "label", "size": "a6", "link": f"{base}/v2/labels/label_printer/{parcel['id']}"}],
        "parcel_items": parcel["items_v2"], "is_return": False, "collo_nr": 0, "collo_count": 1,
        "colli_uuid": parcel["uuid"], "shipment_uuid": parcel["uuid"], "insured_value": 0,
        "total_order_value": parcel["total_value"], "total_order_value_currency": parcel["currency"],
    }


def webhook_payload(parcel: dict[str, Any], status_id: int, at: datetime | None = None) -> dict[str, Any]:
    """A ``parcel_status_changed`` delivery as Sendcloud sends it (timestamps in milliseconds)."""
    at = at or _now()
    millis = int(at.timestamp() * 1000)
    _code, message = STATUSES.get(status_id, ("UNKNOWN", "Unknown status"))
    to = parcel["to"]
    return {
        "action": "parcel_status_changed", "timestamp": millis, "carrier_status_change_timestamp": millis - 35,
        "parcel": {
            "id": parcel["id"], "name": to.get("name", ""), "company_name": to.get("company_name", ""),
            "address": to.get("address_line_1", ""), "address_divided": {"street": to.get("address_line_1", ""),
                                                                        "house_number": ""},
            "city": to.get("city", ""), "postal_code": to.get("postal_code", ""), "telephone": to.get("phone_number", ""),
            "email": to.get("email", ""), "date_created": parcel["date_created"],
            "tracking_number": parcel["tracking_number"], "tracking_url": parcel["tracking_url"],
            "weight": parcel["weight"]["value"],
            "label": {"normal_printer": [], "label_printer": ""}, "customs_declaration": {},
            "status": {"id": status_id, "message": message}, "data": {},
            "country": {"iso_3": "", "iso_2": to.get("country_code", ""), "name": to.get("country_code", "")},
            "shipment": {"id": parcel["method_v2"], "name": parcel["method_name"]},
            "carrier": {"code": parcel["carrier"]}, "order_number": parcel["order_number"],
            "shipment_uuid": parcel["uuid"], "external_order_id": parcel["order_number"],
            "external_shipment_id": parcel["external_reference"],
        },
    }


def sign(body: bytes, key: str) -> str:
    """``Sendcloud-Signature``: hex HMAC-SHA256 of the raw body with the secret key."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def send_status_webhook(url: str, secret_key: str, payload: dict[str, Any], *, signature: str | None = None,
                        timeout: float = 10.0) -> httpx.Response:
    """Post a delivery to the OMS as Sendcloud does: raw JSON body, signature header."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Sendcloud-Signature": signature or sign(body, secret_key),
               "User-Agent": "Sendcloud-Webhooks"}
    return httpx.post(url, content=body, headers=headers, timeout=timeout)


def error_body(status: int) -> dict[str, Any]:
    """Sendcloud's error body (JSON:API ``errors``), for the faults told on demand."""
    if status == 503:
        return UNAVAILABLE
    code = {429: "too_many_requests"}.get(status, "server_error" if status >= 500 else "bad_request")
    return {"errors": [{"status": str(status), "code": code, "detail": code.replace("_", " ").capitalize()}]}


def make_app(public_key: str = DEMO_PUBLIC_KEY, secret_key: str = DEMO_SECRET_KEY) -> Flask:
    app = Flask(__name__)
    app.config.update(CALLS=[], REQUESTS=[], SHIPMENTS={}, PARCELS={}, DOWN=False, FAIL_NEXT=0, DROP_ANSWERS=0,
                      SECRET=secret_key)

    EmulatorKit("sendcloud", calls=app.config["CALLS"], requests=app.config["REQUESTS"],
                error_body=error_body).attach(app)

    def base() -> str:
        return request.host_url.rstrip("/") + request.script_root

    @app.before_request
    def _authenticate():
        if request.path.startswith("/_emulator/"):
            return None
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return _unauthorized(NO_CREDENTIALS)
        if (auth.username, auth.password) != (public_key, secret_key):
            return _unauthorized(INVALID_CREDENTIALS)
        with _lock:
            if app.config["DOWN"] or app.config["FAIL_NEXT"] > 0:
                app.config["FAIL_NEXT"] = max(app.config["FAIL_NEXT"] - 1, 0)
                return jsonify(UNAVAILABLE), 503
        return None

    @app.after_request
    def _drop_answer(response: Response) -> Response:
        """``DROP_ANSWERS``: the work is done but the answer is lost (a 503 comes back)."""
        if request.path.startswith("/_emulator/") or response.status_code >= 400:
            return response
        with _lock:
            if app.config["DROP_ANSWERS"] <= 0:
                return response
            app.config["DROP_ANSWERS"] -= 1
        lost = jsonify(UNAVAILABLE)
        lost.status_code = 503
        return lost

    def _unauthorized(body: dict[str, Any]):
        res = jsonify(body)
        res.status_code = 401
        res.headers["WWW-Authenticate"] = 'Basic realm="api"'
        return res

    @app.post("/v3/shipping-options")
    def shipping_options():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify({"errors": [{"status": "400", "code": "parse_error",
                                        "detail": "JSON parse error."}]}), 400
        parcels = body.get("parcels")
        if not isinstance(parcels, list) or not parcels:
            return jsonify(EMPTY_PARCELS), 400
        weights = []
        for index, parcel in enumerate(parcels):
            kg = _kg((parcel or {}).get("weight")) if isinstance(parcel, dict) else None
            if kg is None or kg <= 0:
                return jsonify({"errors": [{"status": "400", "code": "invalid",
                                            "detail": "A valid weight must be provided.",
                                            "source": {"pointer": f"/parcels/{index}/weight"}}]}), 400
            weights.append(kg)
        origin, destination = body.get("from_country_code"), body.get("to_country_code")
        if not origin and not destination:
            return jsonify({"data": None})
        calculate = bool(body.get("calculate_quotes"))
        data = [_option(row, calculate) for row in DEMO_OPTIONS
                if (not origin or origin in row[5])
                and all(Decimal(row[3]) <= kg <= Decimal(row[4]) for kg in weights)
                and body.get("carrier_code") in (None, row[0].split(":", 1)[0])
                and body.get("shipping_option_code") in (None, row[0])]
        return jsonify({"data": data})


    # ------------------------------------------------------------------ v3 shipments
    @app.post("/v3/shipments/announce")
    def announce():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify({"errors": [{"status": "400", "code": "parse_error", "detail": "JSON parse error."}]}), 400
        for part in ("to_address", "from_address"):
            address = body.get(part)
            if not isinstance(address, dict):
                return _invalid("This field is required.", f"/{part}")
            for field in ("name", "address_line_1", "postal_code", "city", "country_code"):
                if not address.get(field):
                    return _invalid("This field is required.", f"/{part}/{field}")
        code = ((body.get("ship_with") or {}).get("properties") or {}).get("shipping_option_code")
        option = next((row for row in DEMO_OPTIONS if row[0] == code), None)
        if option is None:
            return _invalid("Shipping option code is not available for this account.",
                            "/ship_with/properties/shipping_option_code")
        parcels = body.get("parcels")
        if not isinstance(parcels, list) or not 1 <= len(parcels) <= 15:
            return _invalid("Between 1 and 15 parcels must be provided.", "/parcels")
        reference = body.get("external_reference_id")
        if reference and any(s.get("external_reference_id") == reference for s in app.config["SHIPMENTS"].values()):
            return _invalid("A shipment with this external_reference_id already exists.", "/external_reference_id")
        to, frm = body["to_address"], body["from_address"]
        customs = to["country_code"] != frm["country_code"] and not (to["country_code"] in EU
                                                                       and frm["country_code"] in EU)
        for index, parcel in enumerate(parcels):
            kg = _kg(parcel.get("weight"))
            if kg is None or not Decimal(option[3]) <= kg <= Decimal(option[4]):
                return _invalid("The weight is out of the range of the shipping option.", f"/parcels/{index}/weight")
            if customs:
                if not isinstance(body.get("customs_information"), dict):
                    return _invalid("Customs information is required for this destination.", "/customs_information")
                items = parcel.get("parcel_items") or []
                if not items:
                    return _invalid("Parcel items are required for this destination.", f"/parcels/{index}/parcel_items")
                for n, item in enumerate(items):
                    for field in ("hs_code", "origin_country", "weight", "price", "description"):
                        if not item.get(field):
                            return _invalid("This field is required.", f"/parcels/{index}/parcel_items/{n}/{field}")
        now = _iso(_now())
        shipment_id = f"{next(_ids):x}-{len(app.config['SHIPMENTS']) + 1:04d}"
        carrier = code.split(":", 1)[0]
        ids = []
        for parcel in parcels:
            pid = next(_ids)
            number, url = _tracking(carrier, pid, to["country_code"], to["postal_code"])
            app.config["PARCELS"][pid] = {
                "id": pid, "api": "v3", "status_id": 1000, "weight": parcel["weight"], "tracking_number": number,
                "tracking_url": url, "created_at": now, "updated_at": now, "date_created": _v2_date(),
                "items": parcel.get("parcel_items") or [], "items_v2": [], "to": to, "carrier": carrier,
                "method_v2": V2_METHOD_IDS[code], "method_name": option[1], "order_number": body.get("order_number", ""),
                "external_reference": reference or "", "uuid": shipment_id, "shipment_id": shipment_id,
                "total_value": str((body.get("total_order_price") or {}).get("value", "0")),
                "currency": (body.get("total_order_price") or {}).get("currency", "EUR")}
            ids.append(pid)
        shipment = {"id": shipment_id, "to_address": to, "from_address": frm, "ship_with": body["ship_with"],
                    "order_number": body.get("order_number", ""), "external_reference_id": reference or "",
                    "total_order_price": body.get("total_order_price"),
                    "customs_information": body.get("customs_information"),
                    "label_details": body.get("label_details") or {"mime_type": "application/pdf", "dpi": 72},
                    "parcel_ids": ids}
        app.config["SHIPMENTS"][shipment_id] = shipment
        return jsonify({"data": _v3_shipment(shipment, app.config["PARCELS"], base())}), 201

    @app.get("/v3/shipments")
    def list_shipments():
        reference = request.args.get("external_reference_id")
        found = [s for s in app.config["SHIPMENTS"].values()
                 if reference is None or s.get("external_reference_id") == reference]
        if not found:  # the list has at least one item: nothing found is a 404
            return jsonify(NOT_FOUND), 404
        return jsonify({"data": [_v3_shipment(s, app.config["PARCELS"], base()) for s in found]})

    @app.get("/v3/shipments/<shipment_id>")
    def get_shipment(shipment_id: str):
        shipment = app.config["SHIPMENTS"].get(shipment_id)
        if shipment is None:
            return jsonify(NOT_FOUND), 404
        return jsonify({"data": _v3_shipment(shipment, app.config["PARCELS"], base())})

    @app.post("/v3/shipments/<shipment_id>/cancel")
    def cancel_shipment(shipment_id: str):
        shipment = app.config["SHIPMENTS"].get(shipment_id)
        if shipment is None:
            return jsonify(NOT_FOUND), 404
        parcels = [app.config["PARCELS"][pid] for pid in shipment["parcel_ids"]]
        if any(p["status_id"] == 2000 for p in parcels):
            return jsonify({"errors": [{"status": "409", "code": "invalid",
                                        "detail": "This shipment is already being cancelled."}]}), 409
        if any(p["status_id"] == 11 for p in parcels):
            return jsonify({"errors": [{"status": "409", "code": "invalid",
                                        "detail": "A delivered shipment cannot be cancelled."}]}), 409
        for parcel in parcels:
            parcel["status_id"] = 2000
            parcel["updated_at"] = _iso(_now())
        return jsonify({"data": {"status": "cancelled", "message": "Shipment has been cancelled"}})

    @app.get("/v3/parcels/<int:parcel_id>/documents/<kind>")
    def parcel_document(parcel_id: int, kind: str):
        if kind not in ("label", "customs-declaration", "air-waybill"):
            return jsonify({"errors": [{"code": "invalid", "status": "400", "detail": "Invalid document type."}]}), 400
        parcel = app.config["PARCELS"].get(parcel_id)
        if parcel is None or kind != "label":
            return jsonify({"errors": [{"code": "not_found", "status": "404",
                                        "detail": "No Parcel matches the given query."}]}), 404
        return _label(parcel)

    # ------------------------------------------------------------------ v2 parcels
    @app.get("/v2/shipping_methods")
    def shipping_methods():
        methods = [{"id": V2_METHOD_IDS[row[0]], "name": row[1], "carrier": row[0].split(":", 1)[0],
                    "min_weight": row[3], "max_weight": row[4], "service_point_input":
                    "required" if row[8].get("last_mile") == "service_point" else "none", "price": 0,
                    "countries": [{"id": 1, "name": "France", "price": float(row[6]), "iso_2": "FR", "iso_3": "FRA",
                                   "lead_time_hours": row[7]}]}
                   for row in DEMO_OPTIONS]
        return jsonify({"shipping_methods": methods})

    @app.post("/v2/parcels")
    def create_parcel():
        body = request.get_json(silent=True)
        parcel = body.get("parcel") if isinstance(body, dict) else None
        if not isinstance(parcel, dict):
            return jsonify({"error": {"code": 400, "message": "parcel: This field is required.",
                                      "request": "api/v2/parcels"}}), 400
        for field in ("name", "address", "city", "postal_code", "country"):
            if not parcel.get(field):
                return jsonify({"error": {"code": 400, "message": f"{field}: This field is required.",
                                          "request": "api/v2/parcels"}}), 400
        method = (parcel.get("shipment") or {}).get("id")
        code = next((c for c, i in V2_METHOD_IDS.items() if i == method), None)
        if code is None:
            return jsonify({"error": {"code": 400, "message": "shipment: Invalid shipping method.",
                                      "request": "api/v2/parcels"}}), 400
        reference = parcel.get("external_reference")
        if reference and any(p["external_reference"] == reference for p in app.config["PARCELS"].values()):
            return jsonify({"error": {"code": 400, "message": "external_reference: Parcel with this external "
                                      "reference already exists.", "request": "api/v2/parcels"}}), 400
        country = parcel["country"]
        if country != parcel.get("from_country", "FR") and not (country in EU and parcel.get("from_country", "FR") in EU):
            if not parcel.get("parcel_items") or not parcel.get("customs_information"):
                return jsonify({"error": {"code": 400, "message": "parcel_items: Customs information is required "
                                          "for this destination.", "request": "api/v2/parcels"}}), 400
        pid = next(_ids)
        carrier = code.split(":", 1)[0]
        number, url = _tracking(carrier, pid, country, parcel["postal_code"])
        now = _iso(_now())
        option = next(row for row in DEMO_OPTIONS if row[0] == code)
        app.config["PARCELS"][pid] = {
            "id": pid, "api": "v2", "status_id": 1000 if parcel.get("request_label") else 999,
            "weight": {"value": parcel.get("weight") or "1.000", "unit": "kg"}, "tracking_number": number,
            "tracking_url": url, "created_at": now, "updated_at": now, "date_created": _v2_date(), "items": [],
            "items_v2": parcel.get("parcel_items") or [],
            "to": {"name": parcel["name"], "company_name": parcel.get("company_name", ""),
                   "address_line_1": parcel["address"], "address_line_2": parcel.get("address_2", ""),
                   "city": parcel["city"], "postal_code": parcel["postal_code"], "country_code": country,
                   "email": parcel.get("email", ""), "phone_number": parcel.get("telephone", "")},
            "carrier": carrier, "method_v2": method, "method_name": option[1],
            "order_number": parcel.get("order_number", ""), "external_reference": reference or "",
            "uuid": f"{pid:x}-v2", "shipment_id": None, "total_value": parcel.get("total_order_value", "0"),
            "currency": parcel.get("total_order_value_currency", "EUR")}
        return jsonify({"parcel": _v2_parcel(app.config["PARCELS"][pid], base())})

    @app.get("/v2/parcels")
    def list_parcels():
        reference = request.args.get("external_reference")
        found = [p for p in app.config["PARCELS"].values() if p["api"] == "v2"
                 and (reference is None or p["external_reference"] == reference)]
        if not found:
            return jsonify({"error": {"code": 404, "message": "No parcels found.", "request": "api/v2/parcels"}}), 404
        return jsonify({"next": None, "previous": None, "parcels": [_v2_parcel(p, base()) for p in found]})

    @app.get("/v2/parcels/<int:parcel_id>")
    def get_parcel(parcel_id: int):
        parcel = app.config["PARCELS"].get(parcel_id)
        if parcel is None:
            return jsonify({"error": {"code": 404, "message": "No Parcel matches the given query.",
                                      "request": f"api/v2/parcels/{parcel_id}"}}), 404
        return jsonify({"parcel": _v2_parcel(parcel, base())})

    @app.post("/v2/parcels/<int:parcel_id>/cancel")
    def cancel_parcel(parcel_id: int):
        parcel = app.config["PARCELS"].get(parcel_id)
        if parcel is None:
            return jsonify({"error": {"code": 404, "message": "No Parcel matches the given query.",
                                      "request": f"api/v2/parcels/{parcel_id}/cancel"}}), 404
        if parcel["status_id"] == 11:
            return jsonify({"status": "failed", "message": "Shipped parcels, or parcels being shipped, "
                            "can no longer be cancelled."}), 400
        parcel["status_id"] = 2000
        return jsonify({"status": "cancelled", "message": "Parcel has been cancelled"})

    @app.get("/v2/labels/label_printer/<int:parcel_id>")
    def label_printer(parcel_id: int):
        parcel = app.config["PARCELS"].get(parcel_id)
        if parcel is None:
            return jsonify({"error": {"code": 404, "message": "Not found.",
                                      "request": f"api/v2/labels/label_printer/{parcel_id}"}}), 404
        return _label(parcel)

    def _label(parcel: dict[str, Any]) -> Response:
        to = parcel["to"]
        pdf = label_pdf([parcel["method_name"], parcel["tracking_number"], to.get("name", ""),
                         to.get("address_line_1", ""), f"{to.get('postal_code', '')} {to.get('city', '')}",
                         to.get("country_code", ""), f"Commande {parcel['order_number']}"])
        return Response(pdf, mimetype="application/pdf")

    # ------------------------------------------------------------------ emulator controls
    @app.post("/_emulator/parcels/<int:parcel_id>/status")
    def move_parcel(parcel_id: int):
        """Move a parcel to ``status`` and post the signed webhook to ``webhook_url``."""
        parcel = app.config["PARCELS"].get(parcel_id)
        data = request.get_json(silent=True) or {}
        if parcel is None or not isinstance(data.get("status"), int):
            return jsonify({"error": "parcel or status unknown"}), 404
        parcel["status_id"] = data["status"]
        parcel["updated_at"] = _iso(_now())
        if not data.get("webhook_url"):
            return jsonify({"status": parcel["status_id"]})
        res = send_status_webhook(data["webhook_url"], app.config["SECRET"], webhook_payload(parcel, data["status"]))
        return jsonify({"status": parcel["status_id"], "webhook": res.status_code})

    return app


def _v2_date() -> str:
    return _now().strftime("%d-%m-%Y %H:%M:%S")


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"public_key": DEMO_PUBLIC_KEY, "secret_key": DEMO_SECRET_KEY, "from_country_code": "FR",
            "api_version": "v3", "api_base_url": base_url, "default_method": "colissimo:home",
            "sender_name": "Service expéditions", "sender_company": "Maison Lumière",
            "sender_address": "12 rue des Entrepôts", "sender_postal_code": "93200", "sender_city": "Saint-Denis",
            "sender_phone": "+33100000000", "sender_email": "expeditions@example.com"}
