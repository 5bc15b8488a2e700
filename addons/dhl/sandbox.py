"""Emulator of the DHL APIs the add-on calls, in their wire format:

* MyDHL API under ``/mydhlapi`` (HTTP Basic key/secret, the account number in the body or
  query): ``GET|POST /rates``, ``POST /shipments`` (201 with ``shipmentTrackingNumber``,
  ``packages[]`` and base64 ``documents[]``; the customs declaration required when
  ``isCustomsDeclarable``), ``GET /tracking`` (by ``shipmentReference``),
  ``GET /shipments/{n}/get-image``, ``POST /pickups``, ``DELETE /pickups/{n}``; errors as
  problem documents (``status`` a string, numeric prefixes in ``detail``);
* Shipment Tracking – Unified under ``/track``: ``GET /shipments?trackingNumber=…&service=…``
  with the ``DHL-API-Key`` header, its quota (``DAILY_QUOTA`` calls a day per key, one a
  second; 429 with DHL's body), 404 for a number it does not show, and the documented pitfall:
  without ``service`` it answers with another service's parcel of the same number.

``app.config``: ``SHIPMENTS`` (waybill → record), ``PICKUPS``, ``TRACK_CALLS`` (key → calls of
the day), ``DROP_ANSWERS`` (that many shipment requests are carried out but answer 503, as
when the answer is lost), ``LATENCY`` (seconds each shipment request takes, on the clock).
``POST /_emulator/shipments/<n>/events`` adds a checkpoint (the demo's "DHL scanned it").
"""
from __future__ import annotations

import base64
import itertools
import threading
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from flask import Flask, Response, jsonify, request

from core.connectors.emulator import EmulatorKit, SystemClock

DEMO_API_KEY = "demoOMSmydhlKey01"
DEMO_API_SECRET = "D3moS3cretMyDHL!"
DEMO_ACCOUNT = "950000001"
DEMO_TRACKING_KEY = "demoOMStrackingKey0123456789abcd"
DAILY_QUOTA = 250
EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
TOO_MANY = {"status": 429, "title": "Too Many Requests",
            "detail": "Too many requests within defined time period, please try again later."}
NO_RESULT = {"title": "No result found", "status": 404, "detail": "No shipment with given tracking number found."}


def problem(status: int, detail: str, title: str = "", *, instance: str = "", extra: list[str] | None = None):
    body = {"instance": instance or request.path, "detail": detail, "title": title or _titles.get(status, "Error"),
            "message": title or _titles.get(status, "Error"), "status": str(status)}
    if extra:
        body["additionalDetails"] = extra
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


_titles = {400: "Bad request", 401: "Unauthorized", 404: "Not Found", 422: "Unprocessable Entity",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def error_body(status: int) -> dict[str, Any]:
    return {"instance": "/mydhlapi", "detail": f"{status}: {_titles.get(status, 'Error')}",
            "title": _titles.get(status, "Error"), "message": _titles.get(status, "Error"), "status": str(status)}


def label_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF printing ``lines`` (10×15 label)."""
    def esc(text: str) -> str:
        return text.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\").replace("(", "\\(") \
            .replace(")", "\\)")

    ops = ["BT", "/F1 13 Tf", "20 380 Td", "17 TL"] + [f"({esc(t)}) Tj T*" for t in lines] + ["ET"]
    stream = "\n".join(ops).encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 283 425] /Resources << /Font << /F1 4 0 R >> >> "
               b"/Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _lane(origin: str, destination: str) -> list[tuple[str, str, str, int]]:
    """(product code, name, base price EUR, transit days) offered on a lane."""
    if origin == destination:
        return [("N", "EXPRESS DOMESTIC", "14.90", 1), ("T", "EXPRESS 12:00", "24.50", 1)]
    if destination in EU:
        return [("U", "EXPRESS WORLDWIDE EU", "29.90", 1), ("W", "ECONOMY SELECT EU", "19.40", 3)]
    return [("P", "EXPRESS WORLDWIDE", "49.90", 2), ("T", "EXPRESS 12:00", "64.00", 2),
            ("W", "ECONOMY SELECT", "38.20", 5)]


def _price(base: str, kg: float) -> Decimal:
    extra = max(0.0, kg - 0.5)
    return (Decimal(base) + Decimal(str(round(extra * 2.1, 2)))).quantize(Decimal("0.01"))


def make_app(clock: Any = None) -> Flask:
    app = Flask(__name__)
    clock = clock or SystemClock()
    kit = EmulatorKit("dhl", clock=clock, error_body=error_body)
    kit.attach(app)
    lock = threading.Lock()
    waybills = itertools.count(1234567000)
    pieces = itertools.count(1)
    pickups = itertools.count(1)
    app.config.update(SHIPMENTS={}, PICKUPS={}, TRACK_CALLS={}, TRACK_LAST={}, DROP_ANSWERS=0, LATENCY=0.0,
                      CLOCK=clock, KIT=kit, SECRET=DEMO_API_SECRET)

    def now() -> datetime:
        return datetime.fromtimestamp(clock.time(), tz=timezone.utc)

    def authorised() -> bool:
        auth = request.authorization
        return bool(auth and auth.username == DEMO_API_KEY and auth.password == DEMO_API_SECRET)

    @app.before_request
    def guard():
        if request.path.startswith("/mydhlapi") and not authorised():
            return problem(401, "Invalid Credentials", "Unauthorized")
        if request.path.startswith("/mydhlapi") and request.method in ("POST", "PATCH"):
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return problem(400, "Request body is not valid JSON", "Bad request")
            accounts = body.get("accounts")
            if accounts is not None and not any(a.get("number") == DEMO_ACCOUNT for a in accounts
                                                if isinstance(a, dict)):
                return problem(400, "8003: Account not allowed for this service", "Bad request")
        return None

    # ------------------------------------------------------------------ rates
    def _products(origin: str, destination: str, kg: float, day: str) -> dict[str, Any]:
        products = []
        for code, name, base, days in _lane(origin, destination):
            price = float(_price(base, kg))
            products.append({
                "productName": name, "productCode": code, "localProductCode": code, "networkTypeCode": "TD",
                "isCustomerAgreement": False, "weight": {"volumetric": 1.2, "provided": kg, "unitOfMeasurement": "metric"},
                "totalPrice": [{"currencyType": "BILLC", "priceCurrency": "EUR", "price": price},
                               {"currencyType": "PULCL", "priceCurrency": "EUR", "price": price},
                               {"currencyType": "BASEC", "priceCurrency": "EUR", "price": price}],
                "deliveryCapabilities": {"deliveryTypeCode": "QDDC", "estimatedDeliveryDateAndTime": f"{day}T23:59:00",
                                         "destinationServiceAreaCode": "PAR", "totalTransitDays": days}})
        return {"products": products}

    @app.get("/mydhlapi/rates")
    def rates_get():
        args = request.args
        if args.get("accountNumber") != DEMO_ACCOUNT:
            return problem(400, "8003: Account not allowed for this service", "Bad request")
        missing = [k for k in ("originCountryCode", "destinationCountryCode", "weight", "plannedShippingDate")
                   if not args.get(k)]
        if missing:
            return problem(400, "Missing required query parameters", extra=[f"{m} is required" for m in missing])
        return jsonify(_products(args["originCountryCode"], args["destinationCountryCode"], float(args["weight"]),
                                 args["plannedShippingDate"]))

    @app.post("/mydhlapi/rates")
    def rates_post():
        body = request.get_json()
        details = body.get("customerDetails") or {}
        origin = (details.get("shipperDetails") or {}).get("countryCode")
        destination = (details.get("receiverDetails") or {}).get("countryCode")
        packages = body.get("packages") or []
        if not origin or not destination or not packages:
            return problem(422, "Multiple problems found, see Additional Details", extra=[
                "#/customerDetails/receiverDetails/countryCode: is required", "#/packages: expected minItems: 1"])
        kg = sum(float(p.get("weight") or 0) for p in packages)
        return jsonify(_products(origin, destination, kg, str(body.get("plannedShippingDateAndTime", ""))[:10]))

    # ------------------------------------------------------------------ shipments
    def _invalid_shipment(body: dict[str, Any]) -> list[str]:
        problems = []
        details = body.get("customerDetails") or {}
        for who in ("shipperDetails", "receiverDetails"):
            party = details.get(who) or {}
            postal = party.get("postalAddress") or {}
            for field in ("cityName", "countryCode", "addressLine1"):
                if not postal.get(field):
                    problems.append(f"#/customerDetails/{who}/postalAddress/{field}: is required")
            if len(str(postal.get("cityName") or "")) > 45:
                problems.append(f"#/customerDetails/{who}/postalAddress/cityName: expected maxLength: 45")
            contact = party.get("contactInformation") or {}
            for field in ("fullName", "companyName", "phone"):
                if not contact.get(field):
                    problems.append(f"#/customerDetails/{who}/contactInformation/{field}: is required")
        content = body.get("content") or {}
        if not content.get("packages"):
            problems.append("#/content/packages: expected minItems: 1")
        if not body.get("productCode"):
            problems.append("#/productCode: is required")
        if content.get("isCustomsDeclarable"):
            declaration = content.get("exportDeclaration") or {}
            items = declaration.get("lineItems") or []
            if not items:
                problems.append("#/content/exportDeclaration/lineItems: expected minItems: 1")
            for n, item in enumerate(items):
                if not item.get("commodityCodes"):
                    problems.append(f"#/content/exportDeclaration/lineItems/{n}/commodityCodes: is required")
                if not item.get("manufacturerCountry"):
                    problems.append(f"#/content/exportDeclaration/lineItems/{n}/manufacturerCountry: is required")
            if not (declaration.get("invoice") or {}).get("number"):
                problems.append("#/content/exportDeclaration/invoice/number: is required")
            if content.get("declaredValue") is None:
                problems.append("#/content/declaredValue: is required")
        return problems

    def _documents(record: dict[str, Any], types: set[str]) -> list[dict[str, Any]]:
        to = record["receiver"]
        docs = []
        if "label" in types:
            docs.append({"imageFormat": "PDF", "typeCode": "label", "content": _b64(label_pdf([
                f"DHL {record['product']}", f"WAYBILL {record['number']}", to.get("cityName", ""),
                to.get("countryCode", ""), record["reference"]]))})
        if "waybill" in types:
            docs.append({"imageFormat": "PDF", "typeCode": "waybill", "shipmentTrackingNumber": record["number"],
                         "content": _b64(label_pdf([f"DHL WAYBILL {record['number']}", record["reference"]]))})
        if "invoice" in types and record["customs"]:
            docs.append({"imageFormat": "PDF", "typeCode": "invoice", "content": _b64(label_pdf([
                "COMMERCIAL INVOICE", record["invoice_number"], record["number"]]))})
        return docs

    @app.post("/mydhlapi/shipments")
    def create_shipment():
        body = request.get_json()
        problems = _invalid_shipment(body)
        if problems:
            return problem(422, "Multiple problems found, see Additional Details", extra=problems)
        if app.config["LATENCY"]:
            clock.sleep(app.config["LATENCY"])
        content = body["content"]
        reference = next((r.get("value") for r in body.get("customerReferences") or [] if r.get("typeCode") == "CU"),
                         "")
        with lock:
            number = str(next(waybills))
            record = {"number": number, "reference": reference, "product": body["productCode"],
                      "receiver": body["customerDetails"]["receiverDetails"]["postalAddress"],
                      "customs": bool(content.get("isCustomsDeclarable")),
                      "paperless": any(v.get("serviceCode") == "WY" for v in body.get("valueAddedServices") or []),
                      "invoice_number": ((content.get("exportDeclaration") or {}).get("invoice") or {}).get("number", ""),
                      "created_at": now().isoformat(), "events": [], "request": body,
                      "pieces": [f"JD0146000{next(pieces):011d}" for _ in content["packages"]]}
            app.config["SHIPMENTS"][number] = record
            drop = app.config["DROP_ANSWERS"] > 0
            if drop:
                app.config["DROP_ANSWERS"] -= 1
        if drop:
            return problem(503, "Service Unavailable", "Service Unavailable")
        requested = {o.get("typeCode") for o in (body.get("outputImageProperties") or {}).get("imageOptions") or []
                     if o.get("isRequested", True)} | {"label"}
        answer = {
            "shipmentTrackingNumber": number,
            "trackingUrl": f"{request.host_url.rstrip('/')}/mydhlapi/shipments/{number}/tracking",
            "packages": [{"referenceNumber": n, "trackingNumber": p,
                          "trackingUrl": f"{request.host_url.rstrip('/')}/mydhlapi/shipments/{number}/tracking?"
                                         f"PieceID={p}"} for n, p in enumerate(record["pieces"], start=1)],
            "documents": _documents(record, requested),
            "shipmentDetails": [{"serviceHandlingFeatureCodes": ["WY"] if record["paperless"] else [],
                                 "volumetricWeight": 1.2, "billingCode": "IEA", "serviceContentCode": "WPX"}],
            "estimatedDeliveryDate": {"estimatedDeliveryDate": str(body.get("plannedShippingDateAndTime", ""))[:10],
                                      "estimatedDeliveryType": "QDDC"},
        }
        return jsonify(answer), 201

    @app.get("/mydhlapi/tracking")
    def track_multi():
        reference = request.args.get("shipmentReference")
        numbers = request.args.getlist("shipmentTrackingNumber")
        found = [r for r in app.config["SHIPMENTS"].values()
                 if (reference and r["reference"] == reference) or r["number"] in numbers]
        if reference and request.args.get("shipperAccountNumber") != DEMO_ACCOUNT:
            return problem(400, "shipperAccountNumber is required with shipmentReference", "Bad request")
        if not found:
            return problem(404, "896: Shipment not found", "Not Found")
        return jsonify({"shipments": [{"shipmentTrackingNumber": r["number"], "status": "Success",
                                       "shipmentTimestamp": r["created_at"][:19], "productCode": r["product"],
                                       "description": "Shipment", "numberOfPieces": len(r["pieces"]),
                                       "events": []} for r in found]})

    @app.get("/mydhlapi/shipments/<number>/get-image")
    def get_image(number: str):
        record = app.config["SHIPMENTS"].get(number)
        if record is None or request.args.get("shipperAccountNumber") != DEMO_ACCOUNT:
            return problem(404, "896: Shipment not found", "Not Found")
        kind = request.args.get("typeCode", "waybill")
        if kind not in ("waybill", "commercial-invoice"):
            return problem(400, f"Invalid typeCode {kind}", "Bad request")
        return jsonify({"documents": _documents(record, {"waybill"} if kind == "waybill" else {"invoice"})})

    # ------------------------------------------------------------------ pickups
    @app.post("/mydhlapi/pickups")
    def create_pickup():
        body = request.get_json()
        if not body.get("plannedPickupDateAndTime") or not body.get("shipmentDetails"):
            return problem(422, "Multiple problems found, see Additional Details",
                           extra=["#/plannedPickupDateAndTime: is required", "#/shipmentDetails: is required"])
        number = f"CBJ{now():%y%m%d}{next(pickups):06d}"
        app.config["PICKUPS"][number] = {"request": body, "state": "booked"}
        return jsonify({"dispatchConfirmationNumbers": [number], "readyByTime": "10:00", "nextPickupDate": None,
                        "warnings": []}), 201

    @app.delete("/mydhlapi/pickups/<number>")
    def cancel_pickup(number: str):
        pickup = app.config["PICKUPS"].get(number)
        if pickup is None:
            return problem(404, "Pickup not found", "Not Found")
        if not request.args.get("requestorName") or not request.args.get("reason"):
            return problem(400, "requestorName and reason are required", "Bad request")
        pickup["state"] = "cancelled"
        return "", 200

    # ------------------------------------------------------------------ Unified tracking
    @app.get("/track/shipments")
    def unified():
        key = request.headers.get("DHL-API-Key", "")
        if key != DEMO_TRACKING_KEY:
            return jsonify({"status": 401, "title": "Unauthorized", "detail": "Unauthorized for given resource."}), 401
        at = clock.time()
        day = datetime.fromtimestamp(at, tz=timezone.utc).date().isoformat()
        with lock:
            calls = app.config["TRACK_CALLS"]
            used = calls.get((key, day), 0)
            last = app.config["TRACK_LAST"].get(key)
            if used >= DAILY_QUOTA or (last is not None and at - last < 1.0):
                response = jsonify(TOO_MANY)
                response.status_code = 429
                return response
            calls[(key, day)] = used + 1
            app.config["TRACK_LAST"][key] = at
        number = request.args.get("trackingNumber", "")
        record = app.config["SHIPMENTS"].get(number)
        if record is None:
            return Response(status=404, response=jsonify(NO_RESULT).get_data(), mimetype="application/problem+json")
        service = request.args.get("service")
        if service is None:  # another DHL service's parcel bearing the same number
            return jsonify({"shipments": [{"id": number, "service": "parcel-de",
                                           "status": {"timestamp": now().isoformat(), "statusCode": "delivered",
                                                      "status": "DELIVERED", "description": "Zugestellt"},
                                           "events": []}]})
        events = record["events"]
        latest = events[-1] if events else {"timestamp": record["created_at"], "statusCode": "pre-transit",
                                            "status": "SHIPMENT INFORMATION RECEIVED",
                                            "description": "Shipment information received"}
        return jsonify({"shipments": [{
            "id": number, "service": "express",
            "origin": {"address": {"countryCode": "FR", "addressLocality": "PARIS - FRANCE"}},
            "destination": {"address": {"countryCode": record["receiver"].get("countryCode"),
                                        "addressLocality": record["receiver"].get("cityName")}},
            "status": {**latest, "location": {"address": {"addressLocality": "PARIS - FRANCE"}}},
            "details": {"product": {"productName": record["product"]}, "totalNumberOfPieces": len(record["pieces"]),
                        "pieceIds": record["pieces"]},
            "events": list(reversed(events))}]})

    @app.post("/_emulator/shipments/<number>/events")
    def add_event(number: str):
        record = app.config["SHIPMENTS"].get(number)
        if record is None:
            return jsonify({"error": "unknown waybill"}), 404
        data = request.get_json(silent=True) or {}
        code = data.get("statusCode", "transit")
        record["events"].append({"timestamp": data.get("timestamp") or now().isoformat(), "statusCode": code,
                                 "status": code.upper(), "description": data.get("description") or code})
        return jsonify({"events": len(record["events"])})

    return app


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"api_key": DEMO_API_KEY, "api_secret": DEMO_API_SECRET, "account_number": DEMO_ACCOUNT,
            "default_product": "P", "paperless_trade": True, "tracking_api_key": DEMO_TRACKING_KEY,
            "tracking_daily_quota": DAILY_QUOTA, "sender_company": "Maison Lumière",
            "sender_name": "Service expéditions", "sender_address": "12 rue des Entrepôts",
            "sender_postal_code": "93200", "sender_city": "Saint-Denis", "sender_country": "FR",
            "sender_phone": "+33100000000", "sender_email": "expeditions@example.com",
            "api_base_url": f"{base_url.rstrip('/')}/mydhlapi", "tracking_base_url": f"{base_url.rstrip('/')}/track"}
