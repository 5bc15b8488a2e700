"""Colissimo parcels' news from La Poste's Suivi v2: the due parcels of a shop, ten numbers a
call (the API's batch), every two hours, never again once delivered."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from core import shipping
from core.extensions import db
from core.models import Shipment, ShipmentStatus, Shop, utcnow

from . import mapping
from .client import TRACK_BATCH, ColissimoError, SuiviClient
from .models import ColissimoParcel

ADDON = "colissimo"
EVERY = timedelta(hours=2)
ON_THE_WAY = (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION)


def suivi(shop: Shop) -> SuiviClient:
    settings = shop.addon_settings(ADDON)
    return SuiviClient(settings.get("okapi_key") or "", settings.get("tracking_base_url") or None, shop.id)


def due(now: datetime | None = None, limit: int = 1000) -> dict[int, list[int]]:
    now = now or utcnow()
    last = func.coalesce(Shipment.carrier_checked_at, Shipment.shipped_at)
    rows = db.session.execute(
        select(ColissimoParcel.shop_id, ColissimoParcel.id).join(Shipment, Shipment.id == ColissimoParcel.shipment_id)
        .where(ColissimoParcel.state == "created", Shipment.status.in_(ON_THE_WAY),
               or_(last.is_(None), last <= now - EVERY)).order_by(last, ColissimoParcel.id).limit(limit)).all()
    out: dict[int, list[int]] = {}
    for shop_id, row_id in rows:
        out.setdefault(shop_id, []).append(row_id)
    return out


def apply(row: ColissimoParcel, entry: dict[str, Any], now: datetime, source: str) -> bool:
    row.shipment.carrier_checked_at = now
    if int(entry.get("returnCode") or 200) >= 400:
        return False
    status, words = mapping.status_of(entry)
    code = words.split(" ", 1)[0] if words else None
    row.event_code, row.status_message, row.status_at = code or row.event_code, words or row.status_message, now
    return shipping.update_from_carrier(row.shipment, status, source=source, message=f"La Poste : {words}".strip())


def poll_shop(shop: Shop, row_ids: list[int] | None = None, *, now: datetime | None = None) -> tuple[int, int]:
    """(calls, changed): the due parcels asked about ten at a time, committed call by call."""
    now = now or utcnow()
    ids = row_ids if row_ids is not None else due(now).get(shop.id, [])
    rows = [r for r in (db.session.get(ColissimoParcel, i) for i in ids) if r is not None and r.parcel_number]
    api = suivi(shop)
    calls = changed = 0
    for start in range(0, len(rows), TRACK_BATCH):
        batch = rows[start:start + TRACK_BATCH]
        entries = api.idships([r.parcel_number for r in batch])
        calls += 1
        by_number = {str((e.get("shipment") or {}).get("idShip") or e.get("idShip") or ""): e for e in entries}
        for row in batch:
            entry = by_number.get(row.parcel_number)
            if entry is not None:
                changed += int(apply(row, entry, now, f"{ADDON} (suivi)"))
        db.session.commit()
    return calls, changed


def status_now(shop: Shop, shipment: Shipment) -> str | None:
    """One parcel, for core's ``shipping_track``."""
    row = db.session.scalar(select(ColissimoParcel).where(ColissimoParcel.shipment_id == shipment.id))
    if row is None or not row.parcel_number:
        return None
    try:
        entries = suivi(shop).idships([row.parcel_number])
    except ColissimoError:
        return None
    if entries:
        apply(row, entries[0], utcnow(), f"{ADDON} (suivi)")
    return shipment.status.value
