"""DHL parcels' news from Shipment Tracking – Unified, within the key's small daily quota.

The quota belongs to the merchant's key (each merchant has their own: DHL asks third-party
integrators not to share one): 250 calls a day by default, at most one call a second, reset at
24:00 GMT. The poll therefore:

* counts every call on the key (``dhl_api_quota``, by the key's SHA-256) and stops at the
  quota, keeping a reserve for the parcels the merchant asks about by hand;
* asks about one parcel at most every :data:`MIN_INTERVAL` (DHL sizes quotas at ≤ 10 fetches a
  shipment a day, spread out), never again once delivered, and later for parcels DHL does not
  show yet (new waybills appear after 10 to 30 minutes);
* batches the due parcels of one key in one job, paced to one call a second, oldest news first;
* always sends ``service=express``: without it DHL may answer with another service's parcel.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import shipping
from core.extensions import db
from core.models import Shipment, ShipmentStatus, Shop, utcnow

from . import mapping
from .checks import tracking
from .client import DhlError
from .models import DhlApiQuota, DhlShipment
from core.i18n import _

ADDON = "dhl"
SERVICE = "express"
DEFAULT_QUOTA = 250
#: share of the quota the automatic poll leaves for "Actualiser" by hand
RESERVE = 0.1
#: one parcel is asked about at most this often (≤ 10 times a day)
MIN_INTERVAL = timedelta(hours=2, minutes=30)
#: a waybill DHL does not show yet is asked about again after this
NOT_VISIBLE_RETRY = timedelta(hours=1)
#: DHL's documented pace for the key
CALLS_PER_SECOND = 1.0
ON_THE_WAY = (ShipmentStatus.LABEL_CREATED, ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT,
              ShipmentStatus.EXCEPTION)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def dhl_day(now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date()


def quota_of(settings: dict[str, Any]) -> int:
    try:
        return max(1, int(settings.get("tracking_daily_quota") or DEFAULT_QUOTA))
    except (TypeError, ValueError):
        return DEFAULT_QUOTA


def spent(key: str, now: datetime | None = None) -> int:
    row = db.session.scalar(select(DhlApiQuota).where(DhlApiQuota.key_digest == key_digest(key),
                                                      DhlApiQuota.day == dhl_day(now)))
    return row.calls if row else 0


def spend(key: str, limit: int, now: datetime | None = None) -> bool:
    """Take one call from the key's quota of the day; False when it is used up. The counter is
    moved by one guarded UPDATE, so concurrent pollers never overspend."""
    digest, day = key_digest(key), dhl_day(now)
    if db.session.scalar(select(DhlApiQuota.id).where(DhlApiQuota.key_digest == digest, DhlApiQuota.day == day)) is None:
        try:
            with db.session.begin_nested():
                db.session.add(DhlApiQuota(key_digest=digest, day=day, calls=0))
        except IntegrityError:
            pass
    moved = db.session.execute(update(DhlApiQuota).where(DhlApiQuota.key_digest == digest, DhlApiQuota.day == day,
                                                         DhlApiQuota.calls < limit)
                               .values(calls=DhlApiQuota.calls + 1).execution_options(synchronize_session=False))
    return bool(moved.rowcount)


class QuotaReached(DhlError):
    def __init__(self, limit: int) -> None:
        super().__init__(_("Quota du jour de votre clé de suivi DHL atteint (%(limit)s appels) : le suivi reprend "
                           "demain (remise à zéro à minuit GMT) ; demandez une augmentation sur developer.dhl.com.",
                           limit=limit),
                         429, retryable=False)


def apply(row: DhlShipment, tracked: dict[str, Any] | None, now: datetime, *, source: str) -> bool:
    """Record DHL's answer on the parcel and move the OMS shipment; True when it changed."""
    row.updated_at = now
    if tracked is None:
        row.next_check_at = now + NOT_VISIBLE_RETRY
        row.shipment.carrier_checked_at = now
        return False
    status, words, at = mapping.status_of(tracked)
    if at is not None and row.status_at is not None and at < row.status_at:
        row.next_check_at = now + MIN_INTERVAL
        return False  # older news than what is known
    row.status_code = str((tracked.get("status") or {}).get("statusCode") or "")[:32] or row.status_code
    row.status_message = words or row.status_message
    row.status_at = at or now
    row.next_check_at = None if status == ShipmentStatus.DELIVERED else now + MIN_INTERVAL
    return shipping.update_from_carrier(row.shipment, status, source=source, message=f"DHL : {words}".strip())


_last_call: dict[str, float] = {}
_pace_lock = threading.Lock()


def pace(key: str) -> None:
    """Wait until a second has passed since this key's last call (in this process)."""
    digest = key_digest(key)
    clock, sleep = _monotonic(), _sleep()
    with _pace_lock:
        last = _last_call.get(digest)
        if last is not None:
            wait = 1.0 / CALLS_PER_SECOND - (clock() - last)
            if wait > 0:
                sleep(wait)
        _last_call[digest] = clock()


def ask(shop: Shop, row: DhlShipment, *, now: datetime | None = None, reserve: bool = False) -> bool:
    """Ask DHL about one parcel (one call of the quota, paced); True when something changed.
    ``reserve``: an automatic poll leaves :data:`RESERVE` of the quota untouched."""
    now = now or utcnow()
    settings = shop.addon_settings(ADDON)
    key = settings.get("tracking_api_key") or ""
    client = tracking(settings, shop.id)
    limit = quota_of(settings)
    if not spend(key, int(limit * (1 - RESERVE)) if reserve else limit, now):
        raise QuotaReached(limit)
    pace(key)
    tracked = client.shipment(row.tracking_number or "", service=SERVICE)
    return apply(row, tracked, now, source=f"{ADDON} (suivi)")


def due(now: datetime | None = None, limit: int = 500) -> dict[int, list[int]]:
    """Shop id → DHL rows on their way whose next check is due, oldest news first."""
    now = now or utcnow()
    rows = db.session.execute(
        select(DhlShipment.shop_id, DhlShipment.id).join(Shipment, Shipment.id == DhlShipment.shipment_id)
        .where(DhlShipment.state == "created", DhlShipment.tracking_number.is_not(None),
               Shipment.status.in_(ON_THE_WAY), Shipment.status != ShipmentStatus.LABEL_CREATED,
               DhlShipment.next_check_at.is_not(None), DhlShipment.next_check_at <= now)
        .order_by(DhlShipment.next_check_at, DhlShipment.id).limit(limit)).all()
    out: dict[int, list[int]] = {}
    for shop_id, row_id in rows:
        out.setdefault(shop_id, []).append(row_id)
    return out


def _sleep() -> Callable[[float], None]:
    return current_app.config.get("DHL_SLEEP") or time.sleep


def _monotonic() -> Callable[[], float]:
    return current_app.config.get("DHL_MONOTONIC") or time.monotonic


def poll_shop(shop: Shop, row_ids: list[int] | None = None, *, now: datetime | None = None) -> tuple[int, int]:
    """Ask DHL about the shop's due parcels, one call a second, within the quota (committing
    after each answer, so a failure keeps what was learnt). Returns (asked, changed)."""
    now = now or utcnow()
    ids = row_ids if row_ids is not None else due(now).get(shop.id, [])
    asked = changed = 0
    for row_id in ids:
        row = db.session.get(DhlShipment, row_id)
        if row is None or row.state != "created" or row.next_check_at is None:
            continue
        try:
            changed += int(ask(shop, row, now=now, reserve=True))
        except QuotaReached:
            db.session.rollback()
            break
        except DhlError as exc:
            db.session.rollback()
            if exc.status == 429:
                break  # DHL says stop: the next run goes on
            raise
        asked += 1
        db.session.commit()
    return asked, changed
