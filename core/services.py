"""What the catalog page and the ``oms`` CLI both do: shops, add-on activation, settings,
connection tests, syncs. Views and commands stay thin and behave the same."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from . import stock, wording
from .addons import Addon, registry
from .extensions import db
from .syncs import enqueue_shop_sync
from .models import ConnectionStatus, Organization, SettingChange, Shop, ShopAddon, SyncMode, utcnow
from .types import ConnectionResult
from .i18n import _


class ServiceError(ValueError):
    """A clear, user-facing refusal (unknown add-on, wrong kind, …)."""


class AccountAlreadyConnected(ServiceError):
    """The remote account is already connected to another shop of the organization."""

    def __init__(self, holder: Shop):
        self.holder = holder
        super().__init__(_("ce compte est déjà connecté à la boutique « %(name)s » : ouvrez-la plutôt que d'en "
                           "créer une seconde (chaque commande serait importée deux fois et le stock réservé deux "
                           "fois)", name=holder.name))


def account_holder(shop: Shop, addon_name: str, settings: dict[str, Any]) -> Shop | None:
    """Another shop of ``shop``'s organization already connected to the remote account these
    settings name (the channel add-on says which, through ``channel_account_key``)."""
    if addon_name != shop.addon:
        return None
    reg = registry()

    def keys(of: Shop, values: dict[str, Any]) -> set[str]:
        key = reg.call_one(addon_name, "channel_account_key", shop=of, settings=values)
        if not key:
            return set()
        return {key} if isinstance(key, str) else {k for k in key if k}

    mine = keys(shop, settings)
    if not mine:
        return None
    others = db.session.scalars(select(Shop).where(
        Shop.organization_id == shop.organization_id, Shop.addon == addon_name, Shop.id != shop.id)
        .order_by(Shop.id))
    for other in others:
        if mine & keys(other, other.addon_settings(addon_name)):
            return other
    return None


def get_addon(name: str) -> Addon:
    addon = registry().get(name)
    if addon is None:
        raise ServiceError(f"add-on inconnu : {name}")
    if not addon.ok:
        raise ServiceError(f"add-on {name} indisponible : {addon.error}")
    return addon


def create_shop(org: Organization, addon_name: str, name: str, *, marketplace: str | None = None,
                region: str | None = None, sync_mode: SyncMode | str = SyncMode.EVERY_15_MIN) -> Shop:
    """Connect a new shop to a channel add-on; the add-on is enabled for it at once."""
    addon = get_addon(addon_name)
    if addon.kind != "channel":
        raise ServiceError(_("%(title)s n'est pas un canal de vente : activez-le sur une boutique existante",
                             title=addon.title))
    if db.session.scalar(select(Shop.id).where(Shop.organization_id == org.id, Shop.name == name)):
        raise ServiceError(_("une boutique nommée « %(name)s » existe déjà", name=name))
    shop = Shop(organization_id=org.id, addon=addon_name, name=name, marketplace=marketplace,
                region=region, sync_mode=SyncMode(sync_mode))
    db.session.add(shop)
    db.session.flush()
    set_enabled(shop, addon_name, True)
    # add-ons declared for the whole organization follow every new shop
    for other in registry().loaded():
        if other.scope == "organization" and other.name != addon_name:
            if any(s.addon_row(other.name) and s.addon_row(other.name).active for s in org.shops if s.id != shop.id):
                set_enabled(shop, other.name, True)
    return shop


def set_enabled(shop: Shop, addon_name: str, active: bool) -> ShopAddon:
    """Enable or disable an add-on for a shop. Disabling keeps its settings and data."""
    addon = get_addon(addon_name)
    if not active and addon_name == shop.addon:
        raise ServiceError(_("le canal d'une boutique ne se désactive pas : déconnectez la boutique"))
    if active:
        for dep in addon.depends:
            dep_addon = registry().get(dep)
            if dep_addon is not None and dep_addon.kind != "channel":
                set_enabled(shop, dep, True)
    targets = [shop]
    if addon.scope == "organization":
        targets = list(shop.organization.shops)
    row = None
    for target in targets:
        r = target.addon_row(addon_name)
        if r is None:
            r = ShopAddon(shop=target, addon=addon_name, active=active, settings={}, secrets={})
            db.session.add(r)
        r.active = active
        if target.id == shop.id:
            row = r
    assert row is not None
    return row


def save_settings(shop: Shop, addon_name: str, data: dict[str, Any], secret_fields: set[str],
                  clear: set[str] = frozenset(), by: str | None = None) -> ShopAddon:
    """Store settings; secret fields go encrypted, and a blank secret keeps the stored one
    unless it is in ``clear`` (the merchant ticked "clear"), which removes it. The names of the
    fields that changed are recorded with who changed them (``by``, else the signed-in user,
    else the command line)."""
    row = shop.addon_row(addon_name) or set_enabled(shop, addon_name, True)
    settings = dict(row.settings or {})
    secrets = dict(row.secrets or {})
    for key, value in data.items():
        if key in secret_fields:
            if value:
                secrets[key] = value
            elif key in clear:
                secrets.pop(key, None)
        else:
            settings[key] = value
    holder = account_holder(shop, addon_name, {**settings, **secrets})
    if holder is not None:
        raise AccountAlreadyConnected(holder)
    changed = sorted(k for k in set(settings) | set(secrets) | set(row.settings or {}) | set(row.secrets or {})
                     if settings.get(k) != (row.settings or {}).get(k) or secrets.get(k) != (row.secrets or {}).get(k))
    row.settings, row.secrets = settings, secrets
    if changed:
        record_setting_change(shop, addon_name, changed, by)
    return row


def set_stock_sync(shop: Shop, on: bool, by: str | None = None) -> bool:
    """The shop's "Sync stock automatique" switch, from its settings page or the CLI: off, no
    stock is sent to the channel; back on, every figure is sent again. The change is recorded
    with the shop's settings changes. Returns True when it changed."""
    if not stock.set_stock_sync(shop, on):
        return False
    record_setting_change(shop, shop.addon, ["stock_sync"], by)
    return True


def _actor() -> tuple[int | None, str]:
    """Who is acting: the signed-in user of the request, else the command line."""
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, ""


def record_setting_change(shop: Shop, addon_name: str, fields: list[str], by: str | None = None) -> SettingChange:
    user_id, email = _actor()
    change = SettingChange(shop_id=shop.id, addon=addon_name, fields=list(fields), user_id=user_id,
                           by=(by or email or "oms (ligne de commande)")[:254])
    db.session.add(change)
    return change


def setting_changes(shop: Shop, limit: int = 20) -> list[SettingChange]:
    return list(db.session.scalars(select(SettingChange).where(SettingChange.shop_id == shop.id)
                                   .order_by(SettingChange.at.desc(), SettingChange.id.desc()).limit(limit)))


def test_connection(shop: Shop, addon_name: str) -> ConnectionResult:
    """Run the add-on's connection test and record the outcome on the shop."""
    get_addon(addon_name)
    try:
        result = registry().call_one(addon_name, "connection_test", shop=shop,
                                     settings=shop.addon_settings(addon_name))
    except Exception as exc:  # a failing add-on reports, it does not crash the page
        result = ConnectionResult(False, wording.for_merchant(exc), [wording.raw(exc)[:500]])
    if result is None:
        result = ConnectionResult(True, _("aucun test nécessaire pour cet add-on"))
    row = shop.addon_row(addon_name) or set_enabled(shop, addon_name, True)
    row.status = ConnectionStatus.CONNECTED if result.ok else ConnectionStatus.ERROR
    row.last_error = None if result.ok else wording.plain(result.message)
    row.last_checked_at = utcnow()
    if addon_name == shop.addon:
        shop.status = row.status
        shop.last_error = row.last_error
    return result


def sync_now(shop: Shop):
    """Queue the shop's channel sync now (a no-op if one is already queued or running)."""
    job = enqueue_shop_sync(shop)
    if job is None:
        raise ServiceError(_("%(addon)s ne propose pas de synchronisation", addon=shop.addon))
    return job


def connection_test_job(shop_id: int, addon: str) -> str:
    """Run an add-on's connection test in the background (raises on failure, so it retries)."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        return "shop gone"
    result = test_connection(shop, addon)
    db.session.commit()
    if not result.ok:
        raise RuntimeError(result.message)
    return result.message
