"""Emulator of the Amazon endpoints the add-on calls.

- ``POST /auth/o2/token``: Login with Amazon, ``grant_type=refresh_token`` (form-encoded).
  Errors as LWA returns them: 401 ``invalid_client`` for a wrong client id or secret, 400
  ``invalid_grant`` for an unknown refresh token, 400 ``invalid_request`` for a missing field.
- ``GET /sellers/v1/marketplaceParticipations``: the Sellers API v1 answer (``payload`` list of
  ``{marketplace, participation, storeName}``, ``x-amzn-RateLimit-Limit`` header), and a 403
  with the SP-API ``{"errors": [...]}`` body on a missing, unknown or expired access token.

Point ``token_url`` at ``{base}/auth/o2/token`` and ``api_base_url`` at ``{base}``.
"""
from __future__ import annotations

import secrets
import threading
import time
import uuid
from typing import Any

from flask import Flask, jsonify, request

from .client import EU_MARKETPLACES

DEMO_SELLER_ID = "A2OMSDEMO5ELLER"
DEMO_CLIENT_ID = "amzn1.application-oa2-client.0d3m0c11e47000000000000000000000"
DEMO_CLIENT_SECRET = "amzn1.oa2-cs.v1.0d3m05ecre70000000000000000000000000000000000000000000"
DEMO_REFRESH_TOKEN = "Atzr|IwEBIOMSdemoRefreshToken0000000000000000"
DEMO_PARTICIPATING = ("A13V1IB3VIYZZH", "A1PA6795UKMFR9", "A1RKKUPIHCS9HS", "APJ6JRA9NG5V4", "AMEN7PMS3EDWL")
STORE_NAME = "Boutique démo OMS"

DENIED = {"code": "Unauthorized", "message": "Access to requested resource is denied."}


def demo_participations(participating: tuple[str, ...] = DEMO_PARTICIPATING) -> list[dict[str, Any]]:
    return [{
        "marketplace": {"id": m.id, "countryCode": m.country_code, "name": m.name,
                        "defaultCurrencyCode": m.currency, "defaultLanguageCode": m.language,
                        "domainName": m.domain},
        "storeName": STORE_NAME,
        "participation": {"isParticipating": m.id in participating, "hasSuspendedListings": False},
    } for m in EU_MARKETPLACES]


def _lwa_error(status: int, error: str, description: str):
    return jsonify({"error_description": description, "error": error}), status


def _sp_error(status: int, details: str = ""):
    res = jsonify({"errors": [{**DENIED, "details": details}]})
    res.status_code = status
    res.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    return res


def make_app(client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
             refresh_token: str = DEMO_REFRESH_TOKEN, token_lifetime: int = 3600,
             participations: list[dict[str, Any]] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["CALLS"] = []  # (method, path) of every request received, for tests
    issued: dict[str, float] = {}  # access token -> expiry (monotonic clock)
    lock = threading.Lock()
    payload = participations if participations is not None else demo_participations()

    @app.before_request
    def _record() -> None:
        app.config["CALLS"].append((request.method, request.path))

    @app.post("/auth/o2/token")
    def token():
        form = request.form if request.form else (request.get_json(silent=True) or {})
        for field in ("grant_type", "client_id", "client_secret"):
            if not form.get(field):
                return _lwa_error(400, "invalid_request", f"The request is missing a required parameter : {field}")
        if form["grant_type"] != "refresh_token":
            return _lwa_error(400, "unsupported_grant_type", "The authorization grant type is not supported "
                                                             "by the authorization server")
        if form["client_id"] != client_id or form["client_secret"] != client_secret:
            return _lwa_error(401, "invalid_client", "Client authentication failed")
        if not form.get("refresh_token"):
            return _lwa_error(400, "invalid_request", "The request is missing a required parameter : refresh_token")
        if form["refresh_token"] != refresh_token:
            return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        access = "Atza|" + secrets.token_urlsafe(48)
        with lock:
            issued[access] = time.monotonic() + token_lifetime
        return jsonify({"access_token": access, "token_type": "bearer", "expires_in": token_lifetime})

    @app.get("/sellers/v1/marketplaceParticipations")
    def marketplace_participations():
        access = request.headers.get("x-amz-access-token", "")
        with lock:
            expiry = issued.get(access)
        if expiry is None:
            return _sp_error(403)
        if time.monotonic() >= expiry:
            return _sp_error(403, "The access token you provided has expired.")
        res = jsonify({"payload": payload})
        res.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        res.headers["x-amzn-RateLimit-Limit"] = "0.016"
        return res

    return app


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"region": "eu", "selling_partner_id": DEMO_SELLER_ID,
            "marketplaces": ["A13V1IB3VIYZZH", "A1PA6795UKMFR9"],
            "lwa_client_id": DEMO_CLIENT_ID, "lwa_client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": DEMO_REFRESH_TOKEN, "api_base_url": base_url,
            "token_url": f"{base_url}/auth/o2/token"}
