"""Every request the client sends to the emulator and every answer it gives, checked against
the schemas in ``addons/ebay/specs/`` (written from eBay's OpenAPI contracts)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

from flask import request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SPEC_DIR = Path(__file__).resolve().parents[1] / "specs"


def _registry() -> Registry:
    resources = []
    for path in sorted(SPEC_DIR.glob("*.schema.json")):
        resources.append((path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref}, registry=REGISTRY)


F, I, N, ID, K, P, FIN = ("fulfillment.schema.json", "inventory.schema.json", "notification.schema.json",
                          "identity.schema.json", "key_management.schema.json", "post_order.schema.json",
                          "finances.schema.json")
#: (method, path) → (request schema, {status: answer schema})
ROUTES: list[tuple[str, re.Pattern, str | None, dict[int, str]]] = [
    ("POST", r"/identity/v1/oauth2/token", f"{ID}#/$defs/TokenRequest", {}),
    ("GET", r"/commerce/identity/v1/user/", None, {200: f"{ID}#/$defs/UserResponse"}),
    ("GET", r"/sell/account/v1/privilege", None, {200: f"{ID}#/$defs/SellingPrivileges"}),
    ("GET", r"/sell/account/v1/fulfillment_policy", None, {200: f"{ID}#/$defs/FulfillmentPolicyResponse"}),
    ("GET", r"/sell/fulfillment/v1/order", None, {200: f"{F}#/$defs/OrderSearchPagedCollection"}),
    ("GET", r"/sell/fulfillment/v1/order/[^/]+", None, {200: f"{F}#/$defs/Order"}),
    ("POST", r"/sell/fulfillment/v1/order/[^/]+/shipping_fulfillment", f"{F}#/$defs/ShippingFulfillmentDetails", {}),
    ("GET", r"/sell/fulfillment/v1/order/[^/]+/shipping_fulfillment", None,
     {200: f"{F}#/$defs/ShippingFulfillmentPagedCollection"}),
    ("POST", r"/sell/fulfillment/v1/order/[^/]+/issue_refund", f"{F}#/$defs/IssueRefundRequest",
     {200: f"{F}#/$defs/Refund"}),
    ("POST", r"/sell/inventory/v1/bulk_update_price_quantity", f"{I}#/$defs/BulkPriceQuantity",
     {200: f"{I}#/$defs/BulkPriceQuantityResponse", 207: f"{I}#/$defs/BulkPriceQuantityResponse"}),
    ("POST", r"/sell/inventory/v1/bulk_migrate_listing", f"{I}#/$defs/BulkMigrateListing",
     {200: f"{I}#/$defs/BulkMigrateListingResponse", 207: f"{I}#/$defs/BulkMigrateListingResponse"}),
    ("GET", r"/sell/inventory/v1/inventory_item", None, {200: f"{I}#/$defs/InventoryItems"}),
    ("GET", r"/sell/inventory/v1/offer", None, {200: f"{I}#/$defs/Offers"}),
    ("GET", r"/commerce/notification/v1/public_key/[^/]+", None, {200: f"{N}#/$defs/PublicKey"}),
    ("POST", r"/commerce/notification/v1/destination", f"{N}#/$defs/DestinationRequest", {}),
    ("GET", r"/commerce/notification/v1/destination", None, {200: f"{N}#/$defs/DestinationSearchResponse"}),
    ("POST", r"/commerce/notification/v1/subscription", f"{N}#/$defs/CreateSubscriptionRequest", {}),
    ("GET", r"/commerce/notification/v1/subscription", None, {200: f"{N}#/$defs/SubscriptionSearchResponse"}),
    ("POST", r"/developer/key_management/v1/signing_key", f"{K}#/$defs/CreateSigningKeyRequest",
     {200: f"{K}#/$defs/SigningKey"}),
    ("POST", r"/post-order/v2/cancellation/check_eligibility", f"{P}#/$defs/EligibilityRequest",
     {200: f"{P}#/$defs/EligibilityResponse"}),
    ("POST", r"/post-order/v2/cancellation", f"{P}#/$defs/CreateCancelRequest", {201: f"{P}#/$defs/CreateCancelResponse"}),
    ("GET", r"/post-order/v2/cancellation/search", None, {200: f"{P}#/$defs/CancellationSearchResponse"}),
    ("GET", r"/post-order/v2/return/search", None, {200: f"{P}#/$defs/ReturnSearchResponse"}),
    ("GET", r"/post-order/v2/return/[^/]+", None, {200: f"{P}#/$defs/GetReturnResponse"}),
    ("GET", r"/sell/finances/v1/transaction", None, {200: f"{FIN}#/$defs/Transactions"}),
]
ROUTES = [(m, re.compile(p + "$"), rq, rs) for m, p, rq, rs in ROUTES]
ERROR = validator("error.schema.json#/$defs/ErrorBody")
OAUTH_ERROR = validator("error.schema.json#/$defs/OAuthError")
TOKEN = validator(f"{ID}#/$defs/UserToken")


def _problems(v: Draft202012Validator, doc, where: str) -> list[str]:
    return [f"{where}: {e.json_path}: {e.message}" for e in v.iter_errors(doc)]


def attach(app, problems: list[str] | None = None) -> list[str]:
    """Check the emulator's traffic; the returned list collects every mismatch."""
    problems = [] if problems is None else problems
    checked: dict[str, int] = {}

    @app.after_request
    def _check(res):
        path = request.path
        if path.startswith("/_emulator/") or path.startswith("/oauth2/"):
            return res
        route = next((r for r in ROUTES if r[0] == request.method and r[1].match(path)), None)
        where = f"{request.method} {path}"
        if route is None:
            problems.append(f"{where}: no schema for this route")
            return res
        _m, _p, req_schema, answers = route
        if req_schema:
            if path == "/identity/v1/oauth2/token":
                body = request.form.to_dict() or dict(parse_qsl(request.get_data(as_text=True)))
            else:
                body = request.get_json(silent=True)
            problems.extend(_problems(validator(req_schema), body, where + " request"))
        try:
            answer = json.loads(res.get_data()) if res.get_data() else None
        except ValueError:
            answer = None
        if res.status_code >= 400:
            schema = OAUTH_ERROR if path == "/identity/v1/oauth2/token" else ERROR
            problems.extend(_problems(schema, answer, where + f" answer {res.status_code}"))
        elif path == "/identity/v1/oauth2/token":
            if answer and answer.get("token_type") == "User Access Token":
                problems.extend(_problems(TOKEN, answer, where + " answer"))
        elif res.status_code in answers:
            problems.extend(_problems(validator(answers[res.status_code]), answer, where + " answer"))
        checked[where] = checked.get(where, 0) + 1
        return res

    app.config["SPEC_CHECKED"] = checked
    return problems


def check_notification(body: bytes) -> list[str]:
    return _problems(validator(f"{N}#/$defs/Notification"), json.loads(body), "notification")


def check_challenge(answer) -> list[str]:
    return _problems(validator(f"{N}#/$defs/ChallengeResponse"), answer, "challenge")
