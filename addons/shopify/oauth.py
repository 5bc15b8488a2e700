"""Shopify's OAuth authorization-code grant for a standalone app, and its signatures.

* install: redirect the merchant to ``https://{shop}/admin/oauth/authorize`` with the app's
  client id, the scopes, the callback URL and a ``state`` nonce (offline access: no
  ``grant_options[]``);
* callback: ``state`` must be ours (signed, short-lived, and equal to the nonce kept in the
  merchant's signed session cookie), ``shop`` a ``*.myshopify.com`` domain, ``hmac`` the
  lowercase hex HMAC-SHA256 of every other query parameter sorted by name, ``timestamp``
  recent; only then is the code exchanged;
* exchange: ``POST https://{shop}/admin/oauth/access_token`` with ``expiring=1`` (expiring
  offline token and its refresh token); refresh with ``grant_type=refresh_token`` returns a
  new access token and a new refresh token.

Webhook deliveries are signed differently: base64 HMAC-SHA256 of the raw body
(:func:`webhook_hmac`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import httpx
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.connectors import NO_RETRY, HttpClient, TransportError

from .client import TIMEOUT, ShopifyError, api_base, check_domain, remote, ssl_context
from core.i18n import _

#: what the add-on needs (write implies read)
SCOPES = ("write_orders", "write_products", "write_inventory", "read_locations",
          "write_merchant_managed_fulfillment_orders", "read_returns")
STATE_MAX_AGE = 600  # seconds between the install click and the callback
TIMESTAMP_WINDOW = 90  # seconds, as Shopify's own library allows
STATE_SALT = "shopify-oauth-state"


class OAuthError(ShopifyError):
    """A refused install step, with a message for the merchant."""


@dataclass(frozen=True)
class InstallState:
    shop_id: int
    nonce: str


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    scope: str
    expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None

    def credentials(self) -> dict[str, Any]:
        """What ``Shop.credentials`` keeps (encrypted at rest)."""
        return {
            "access_token": self.access_token,
            "scope": self.scope,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "refresh_token": self.refresh_token,
            "refresh_token_expires_at": (self.refresh_token_expires_at.isoformat()
                                         if self.refresh_token_expires_at else None),
        }


# ----------------------------------------------------------------------------- state
def new_state(secret_key: str, shop_id: int) -> tuple[str, str]:
    """A signed ``state`` for this shop and its nonce (kept in the session cookie too)."""
    nonce = secrets.token_hex(16)
    token = URLSafeTimedSerializer(secret_key, salt=STATE_SALT).dumps({"shop": shop_id, "nonce": nonce})
    return token, nonce


def read_state(secret_key: str, token: str, expected_nonce: str | None,
               max_age: int = STATE_MAX_AGE) -> InstallState:
    try:
        data = URLSafeTimedSerializer(secret_key, salt=STATE_SALT).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise OAuthError(_("Le lien d'installation a expiré : relancez l'installation depuis l'OMS.")) from None
    except BadSignature:
        raise OAuthError(_("Paramètre « state » invalide : cette installation n'a pas été demandée par l'OMS.")) from None
    nonce = str(data.get("nonce", ""))
    if not expected_nonce or not hmac.compare_digest(nonce, expected_nonce):
        raise OAuthError(_("Paramètre « state » inattendu pour cette session : relancez l'installation depuis "
                           "l'OMS, dans le même navigateur."))
    return InstallState(shop_id=int(data["shop"]), nonce=nonce)


# ----------------------------------------------------------------------------- signatures
def _message(params: Mapping[str, str | list[str]]) -> str:
    pairs = []
    for key in sorted(k for k in params if k not in ("hmac", "signature")):
        value = params[key]
        text = ",".join(value) if isinstance(value, list) else str(value)
        pairs.append(f"{key}={text}")
    return "&".join(pairs)


def query_hmac(params: Mapping[str, str | list[str]], secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of the sorted ``name=value`` pairs, ``hmac`` left out."""
    return hmac.new(secret.encode(), _message(params).encode(), hashlib.sha256).hexdigest()


def verify_query(params: Mapping[str, str | list[str]], secret: str) -> bool:
    given = params.get("hmac")
    if not isinstance(given, str) or not given or not secret:
        return False
    return hmac.compare_digest(query_hmac(params, secret), given.lower())


def webhook_hmac(body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body (``X-Shopify-Hmac-Sha256``)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_webhook(body: bytes, header: str | None, secrets_: Iterable[str]) -> bool:
    """Constant-time check of a delivery against each accepted secret (rotation)."""
    if not header:
        return False
    try:
        given = base64.b64decode(header.encode(), validate=True)
    except (ValueError, TypeError):
        return False
    ok = False
    for secret in secrets_:
        if secret:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
            ok |= hmac.compare_digest(digest, given)
    return ok


# ----------------------------------------------------------------------------- install and callback
def authorize_url(domain: str, client_id: str, redirect_uri: str, state: str,
                  scopes: Iterable[str] = SCOPES, base_url: str | None = None) -> str:
    domain = check_domain(domain)
    base = (base_url or f"https://{domain}").rstrip("/")
    query = urlencode({"client_id": client_id, "scope": ",".join(scopes), "redirect_uri": redirect_uri,
                       "state": state})
    return f"{base}/admin/oauth/authorize?{query}"


def check_callback(params: Mapping[str, str | list[str]], *, secret: str, domain: str,
                   now: float | None = None) -> str:
    """Every check of the callback except ``state``; returns the authorization code."""
    shop = params.get("shop")
    if not isinstance(shop, str) or check_domain(shop) != domain:
        raise OAuthError(_("Le domaine renvoyé par Shopify ne correspond pas à la boutique configurée."))
    if not verify_query(params, secret):
        raise OAuthError(_("Signature (hmac) invalide : la réponse ne vient pas de Shopify."))
    try:
        stamp = int(str(params.get("timestamp", "")))
    except ValueError:
        raise OAuthError(_("Horodatage absent ou invalide dans la réponse de Shopify.")) from None
    if abs((now if now is not None else time.time()) - stamp) > TIMESTAMP_WINDOW:
        raise OAuthError(_("Réponse de Shopify trop ancienne : relancez l'installation."))
    code = params.get("code")
    if not isinstance(code, str) or not code:
        raise OAuthError(_("Shopify n'a pas renvoyé de code d'autorisation."))
    return code


def missing_scopes(granted: str, required: Iterable[str] = SCOPES) -> list[str]:
    have = {s.strip() for s in (granted or "").split(",") if s.strip()}
    missing = []
    for scope in required:
        verb, _, what = scope.partition("_")
        if scope in have or (verb == "read" and f"write_{what}" in have):
            continue
        missing.append(scope)
    return missing


# ----------------------------------------------------------------------------- token endpoint
def _token_request(domain: str, body: dict[str, Any], base_url: str | None,
                   transport: httpx.BaseTransport | None = None) -> TokenGrant:
    domain = check_domain(domain)
    http = HttpClient(remote(domain), api_base(domain, base_url), shop_id=domain, timeout=TIMEOUT, retry=NO_RETRY,
                      transport=transport, verify=ssl_context())
    try:
        res = http.request("POST", "/admin/oauth/access_token", json=body, headers={"Accept": "application/json"})
    except TransportError as exc:
        raise ShopifyError(_("Impossible de joindre Shopify pour obtenir le jeton : réessayez dans quelques "
                             "minutes."),
                           retryable=True, raw=exc.raw) from None
    finally:
        if transport is not None:
            http.close()
    if res.status_code >= 500:
        raise ShopifyError(_("Shopify est indisponible (%(status_code)s) : réessayez plus tard.",
                             status_code=res.status_code),
                           res.status_code, retryable=True)
    try:
        data = res.json()
    except ValueError:
        data = {}
    if res.status_code >= 400 or not isinstance(data, dict) or not data.get("access_token"):
        detail: object = res.status_code
        if isinstance(data, dict):
            detail = data.get("error_description") or data.get("error") or res.status_code
        raise OAuthError(_("Shopify a refusé la demande de jeton (%(detail)s).", detail=detail), res.status_code)
    now = datetime.now(timezone.utc)
    expires = data.get("expires_in")
    refresh_expires = data.get("refresh_token_expires_in")
    return TokenGrant(access_token=str(data["access_token"]), scope=str(data.get("scope", "")),
                      expires_at=now + timedelta(seconds=int(expires)) if expires else None,
                      refresh_token=data.get("refresh_token"),
                      refresh_token_expires_at=(now + timedelta(seconds=int(refresh_expires))
                                                if refresh_expires else None))


def exchange_code(domain: str, client_id: str, client_secret: str, code: str, *, base_url: str | None = None,
                  expiring: bool = True, transport: httpx.BaseTransport | None = None) -> TokenGrant:
    return _token_request(domain, {"client_id": client_id, "client_secret": client_secret, "code": code,
                                   "expiring": 1 if expiring else 0}, base_url, transport)


def refresh_token(domain: str, client_id: str, client_secret: str, token: str, *, base_url: str | None = None,
                  transport: httpx.BaseTransport | None = None) -> TokenGrant:
    return _token_request(domain, {"client_id": client_id, "client_secret": client_secret,
                                   "grant_type": "refresh_token", "refresh_token": token}, base_url, transport)
