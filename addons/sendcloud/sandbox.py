"""Emulator of the Sendcloud API v3 endpoint the add-on calls.

``POST /shipping-options`` as in Sendcloud's OpenAPI v3 specification: HTTP Basic
authentication (401 with the JSON:API ``errors`` body of the spec, ``authentication_failed``,
when credentials are missing or wrong), a 400 ``invalid`` error when no parcel is given, and
``{"data": [shipping-option, ...]}`` filtered by departure country, parcel weight, carrier
and option code. Quotes are computed only when ``calculate_quotes`` is true.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, jsonify, request

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
        "functionalities": {**_FUNCTIONALITIES, **overrides},
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
                    "lead_time": lead_time}] if calculate_quotes else None,
    }


def _kg(weight: Any) -> Decimal | None:
    if not isinstance(weight, dict):
        return None
    factors = {"kg": Decimal(1), "g": Decimal("0.001"), "lbs": Decimal("0.45359237"), "oz": Decimal("0.028349523125")}
    try:
        return Decimal(str(weight.get("value"))) * factors[str(weight.get("unit", "kg"))]
    except (InvalidOperation, KeyError):
        return None


def make_app(public_key: str = DEMO_PUBLIC_KEY, secret_key: str = DEMO_SECRET_KEY) -> Flask:
    app = Flask(__name__)
    app.config["CALLS"] = []  # (method, path) of every request received, for tests

    @app.before_request
    def _authenticate():
        app.config["CALLS"].append((request.method, request.path))
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return _unauthorized(NO_CREDENTIALS)
        if (auth.username, auth.password) != (public_key, secret_key):
            return _unauthorized(INVALID_CREDENTIALS)
        return None

    def _unauthorized(body: dict[str, Any]):
        res = jsonify(body)
        res.status_code = 401
        res.headers["WWW-Authenticate"] = 'Basic realm="api"'
        return res

    @app.post("/shipping-options")
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

    return app


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"public_key": DEMO_PUBLIC_KEY, "secret_key": DEMO_SECRET_KEY, "from_country_code": "FR",
            "api_base_url": base_url}
