"""One Shopify shop as the add-on sees it: settings, app credentials, tokens, status.

App credentials (client id and secret) come from the shop's settings (a merchant's own
app) or, when left blank, from the deployment's configuration ``SHOPIFY_API_KEY`` /
``SHOPIFY_API_SECRET`` (environment or app config; ``SHOPIFY_API_SECRET_PREVIOUS`` keeps
webhooks verifiable during a secret rotation): the OMS's own public app, set once per
installation. ``SHOPIFY_API_BASE_URL`` (``…/{shop}``) likewise sends every shop without an
address of its own through one base (the demo's emulated platform).

The access token obtained by the OAuth install lives in ``Shop.credentials`` (encrypted);
a token pasted in the settings (custom app, emulator) is used otherwise. Expiring offline
tokens are refreshed a few minutes before expiry, and once more on a 401; the new pair is
committed in its own transaction at once, so a job that fails later never loses it.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.extensions import db
from core.models import ConnectionStatus, Shop, ShopAddon, utcnow

from .client import (
    DEFAULT_API_VERSION,
    SHOP_DOMAIN,
    ShopifyAuthError,
    ShopifyClient,
    check_domain,
    normalize_domain,
)
from .models import ShopifyShopState
from .oauth import refresh_token
from core.i18n import _

ADDON = "shopify"
REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str


def _config(name: str) -> str:
    value = current_app.config.get(name)
    if value is None:
        value = os.environ.get(name, "")
    return str(value or "")


def settings(shop: Shop) -> dict[str, Any]:
    return shop.addon_settings(ADDON)


def app_credentials(shop: Shop) -> AppCredentials | None:
    conf = settings(shop)
    key, secret = conf.get("api_key") or "", conf.get("api_secret") or ""
    if not (key and secret):
        key, secret = _config("SHOPIFY_API_KEY"), _config("SHOPIFY_API_SECRET")
    return AppCredentials(key, secret) if key and secret else None


def own_webhook_secrets(shop_settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The merchant's own app secret (custom app), which signs only this shop's deliveries."""
    secret = shop_settings.get("api_secret") or ""
    return (secret,) if secret else ()


def shared_webhook_secrets() -> tuple[str, ...]:
    """The deployment's public-app secrets (current and previous during a rotation): a
    delivery they sign is for the shop that completed the OAuth install of its domain."""
    found = [_config("SHOPIFY_API_SECRET"), _config("SHOPIFY_API_SECRET_PREVIOUS")]
    return tuple(dict.fromkeys(s for s in found if s))


def domain(shop: Shop) -> str:
    return check_domain(settings(shop).get("shop_domain") or "")


def base_url(shop: Shop) -> str | None:
    """The shop's own API address (advanced setting), else the installation's
    ``SHOPIFY_API_BASE_URL`` with ``{shop}`` standing for the shop's domain (a proxy, or an
    emulated platform of many stores); None: ``https://{domain}``."""
    own = settings(shop).get("api_base_url")
    if own:
        return own
    template = _config("SHOPIFY_API_BASE_URL")
    shop_domain = normalize_domain(settings(shop).get("shop_domain") or "")
    if not template or not SHOP_DOMAIN.match(shop_domain):
        return None
    return template.replace("{shop}", shop_domain)


def api_version(shop: Shop) -> str:
    return settings(shop).get("api_version") or DEFAULT_API_VERSION


def state_for(shop: Shop) -> ShopifyShopState:
    """The add-on's row for this shop, created on first use, with the current domain."""
    state = db.session.get(ShopifyShopState, shop.id)
    current = normalize_domain(settings(shop).get("shop_domain") or "")
    if state is None:
        state = ShopifyShopState(shop_id=shop.id, domain=current)
        db.session.add(state)
    elif current and state.domain != current:
        state.domain = current
    return state


# ----------------------------------------------------------------------------- tokens
def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class ShopTokens:
    """The shop's token for :class:`~addons.shopify.client.ShopifyClient`, refreshed as needed."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def token(self) -> str:
        token = (self.shop.credentials or {}).get("access_token") or settings(self.shop).get("access_token")
        if not token:
            raise ShopifyAuthError(_("Aucun jeton d'accès Shopify : installez l'application sur la boutique "
                                     "(bouton « Installer sur Shopify »)."))
        return str(token)

    def expires_at(self) -> datetime | None:
        return _parse((self.shop.credentials or {}).get("expires_at"))

    def ensure_fresh(self, now: datetime | None = None) -> None:
        expires = self.expires_at()
        if expires is not None and expires - (now or utcnow()) <= REFRESH_MARGIN:
            if not self.refresh():
                raise ShopifyAuthError(_("Le jeton Shopify a expiré et ne peut pas être renouvelé : réinstallez "
                                         "l'application sur la boutique."))

    def refresh(self) -> bool:
        creds = self.shop.credentials or {}
        old = creds.get("refresh_token")
        app = app_credentials(self.shop)
        if not old or app is None:
            return False
        refresh_expiry = _parse(creds.get("refresh_token_expires_at"))
        if refresh_expiry is not None and refresh_expiry <= utcnow():
            return False
        fresh = _refresh_committed(self.shop.id, old, app, domain(self.shop), base_url(self.shop))
        set_committed_value(self.shop, "credentials", fresh)
        return bool(fresh.get("access_token"))


def _refresh_committed(shop_id: int, old_refresh: str, app: AppCredentials, shop_domain: str,
                       api_base: str | None) -> dict[str, Any]:
    """Refresh under a row lock in a transaction of its own; a concurrent refresh done
    first is reused (refresh tokens rotate)."""
    with Session(db.engine) as session:
        stmt = select(Shop).where(Shop.id == shop_id)
        if db.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = session.scalars(stmt).one()
        creds = dict(row.credentials or {})
        if creds.get("refresh_token") != old_refresh:
            return creds
        grant = refresh_token(shop_domain, app.client_id, app.client_secret, old_refresh, base_url=api_base)
        creds.update(grant.credentials())
        row.credentials = creds
        session.commit()
        return creds


def client_for(shop: Shop, *, refresh: bool = True, timeout: float | None = None) -> ShopifyClient:
    """A GraphQL client for this shop (token refreshed first if it is about to expire);
    ``timeout`` makes it the diagnostic's: that timeout, and one attempt per call."""
    tokens = ShopTokens(shop)
    if refresh:
        tokens.ensure_fresh()
    conf = current_app.config
    extra = {"timeout": timeout, "max_attempts": 1} if timeout else {}
    return ShopifyClient(domain(shop), api_version=api_version(shop), base_url=base_url(shop), **extra,
                         token_source=tokens, sleep=conf.get("SHOPIFY_SLEEP") or time.sleep,
                         monotonic=conf.get("SHOPIFY_MONOTONIC") or time.monotonic)


# ----------------------------------------------------------------------------- status
def _row(shop: Shop) -> ShopAddon | None:
    return shop.addon_row(ADDON)


def mark_connected(shop: Shop) -> None:
    shop.status = ConnectionStatus.CONNECTED
    shop.last_error = None
    row = _row(shop)
    if row is not None:
        row.status, row.last_error, row.last_checked_at = ConnectionStatus.CONNECTED, None, utcnow()


def mark_error(shop: Shop, message: str) -> None:
    shop.status = ConnectionStatus.ERROR
    shop.last_error = message
    row = _row(shop)
    if row is not None:
        row.status, row.last_error, row.last_checked_at = ConnectionStatus.ERROR, message, utcnow()


def mark_disconnected(shop: Shop, message: str) -> None:
    shop.status = ConnectionStatus.DISCONNECTED
    shop.last_error = message
    shop.credentials = {}
    row = _row(shop)
    if row is not None:
        row.status, row.last_error, row.last_checked_at = ConnectionStatus.DISCONNECTED, message, utcnow()
