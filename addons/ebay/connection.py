"""One eBay shop as the add-on sees it: settings, the seller's tokens, the client, status.

The user token (2 h) lives in ``Shop.credentials`` (encrypted) with its expiry; it is
refreshed from the 18-month refresh token five minutes before it expires, and once on a
401, in a transaction of its own under a row lock: never one token request per call (eBay
allows 50,000 refresh grants per app per day, for every seller together).

Configuration keys (optional): ``EBAY_CLOCK`` (``time()``, ``sleep()``: tests and the
benchmark run on simulated time), ``EBAY_RETRY`` (a ``RetryPolicy``).
"""
from __future__ import annotations

import time
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.extensions import db
from core.models import ConnectionStatus, Shop, utcnow

from .client import EbayAuthError, EbayClient, Hosts, app_tokens, refresh_user_token
from .models import EbayAccount
from core.i18n import _

ADDON = "ebay"
REFRESH_MARGIN = 300.0  # seconds before expiry


def settings(shop: Shop) -> dict[str, Any]:
    return shop.addon_settings(ADDON)


def clock():
    return current_app.config.get("EBAY_CLOCK") or time


def hosts(shop: Shop) -> Hosts:
    return Hosts.for_override(settings(shop).get("api_base_url") or None)


def marketplace(shop: Shop) -> str:
    return settings(shop).get("marketplace") or "EBAY_FR"


def account_for(shop: Shop) -> EbayAccount:
    row = db.session.get(EbayAccount, shop.id)
    if row is None:
        row = EbayAccount(shop_id=shop.id, subscriptions={})
        db.session.add(row)
        db.session.flush()
    return row


class ShopTokens:
    """The seller's user token for :class:`EbayClient`, refreshed only when needed."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.refreshes = 0

    def _creds(self) -> dict[str, Any]:
        return dict(self.shop.credentials or {})

    def token(self) -> str:
        creds = self._creds()
        now = clock().time()
        if not creds.get("access_token") or float(creds.get("expires_at") or 0) - REFRESH_MARGIN <= now:
            if not self.refresh():
                raise EbayAuthError(_("Le compte eBay n'est pas autorisé : cliquez sur « Installer sur eBay » "
                                      "dans les réglages de la boutique."),
                                    message_en="The eBay account is not authorised: click \"Install on eBay\" in "
                                               "the shop's settings.", retryable=False)
            creds = self._creds()
        return str(creds["access_token"])

    def refresh(self) -> bool:
        creds = self._creds()
        old = creds.get("refresh_token")
        conf = settings(self.shop)
        if not old or not conf.get("client_id") or not conf.get("client_secret"):
            return False
        if creds.get("refresh_token_expires_at") and float(creds["refresh_token_expires_at"]) <= clock().time():
            raise EbayAuthError(_("L'autorisation eBay a expiré (18 mois) : cliquez sur « Installer sur eBay » "
                                  "pour la renouveler."), message_en="The eBay grant expired (18 months): click \"Install "
                                "on eBay\" to renew it.", retryable=False)
        fresh = _refresh_committed(self.shop.id, old, creds.get("access_token"), conf, hosts(self.shop))
        set_committed_value(self.shop, "credentials", fresh)
        self.refreshes += 1
        return bool(fresh.get("access_token"))

    def on_unauthorized(self) -> bool:
        try:
            return self.refresh()
        except EbayAuthError:
            return False


def _refresh_committed(shop_id: int, old_refresh: str, old_access: str | None, conf: dict[str, Any],
                       where: Hosts) -> dict[str, Any]:
    """Refresh under a row lock in a transaction of its own; a refresh another worker made
    meanwhile is reused."""
    with Session(db.engine) as session:
        stmt = select(Shop).where(Shop.id == shop_id)
        if db.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = session.scalars(stmt).one()
        creds = dict(row.credentials or {})
        now = clock().time()
        if (creds.get("access_token") and creds.get("access_token") != old_access
                and float(creds.get("expires_at") or 0) - REFRESH_MARGIN > now):
            return creds
        grant = refresh_user_token(where, conf["client_id"], conf["client_secret"], old_refresh, shop_id=shop_id)
        creds["access_token"] = grant.access_token
        creds["expires_at"] = now + grant.expires_in
        if grant.refresh_token:  # eBay keeps the same refresh token; a new one replaces it
            creds["refresh_token"] = grant.refresh_token
        row.credentials = creds
        session.commit()
        return creds


def store_grant(shop: Shop, grant) -> None:
    now = clock().time()
    creds = dict(shop.credentials or {})
    creds.update({"access_token": grant.access_token, "expires_at": now + grant.expires_in,
                  "refresh_token": grant.refresh_token or creds.get("refresh_token")})
    if grant.refresh_token_expires_in:
        creds["refresh_token_expires_at"] = now + grant.refresh_token_expires_in
    shop.credentials = creds


def client_for(shop: Shop, **options: Any) -> EbayClient:
    conf = settings(shop)
    tokens = ShopTokens(shop)
    where = hosts(shop)
    cfg = current_app.config
    options.setdefault("retry", cfg.get("EBAY_RETRY"))
    if cfg.get("EBAY_CLOCK") is not None:
        options.setdefault("sleep", cfg["EBAY_CLOCK"].sleep)
    return EbayClient(where, token=tokens.token, on_unauthorized=tokens.on_unauthorized,
                      marketplace=marketplace(shop), shop_id=shop.id,
                      app_token=lambda: app_tokens.get(where, conf.get("client_id") or "",
                                                       conf.get("client_secret") or "", now=clock().time()),
                      signing_key=(shop.credentials or {}).get("signing_key"), clock=clock(), **options)


def mark(shop: Shop, status: ConnectionStatus, message: str | None = None) -> None:
    shop.status = status
    shop.last_error = message
    row = shop.addon_row(ADDON)
    if row is not None:
        row.status, row.last_error, row.last_checked_at = status, message, utcnow()
