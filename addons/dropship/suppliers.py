"""Suppliers: their warehouse, their API key, their batch times."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from core.extensions import db
from core.models import Organization, Warehouse, WarehouseKind

from .models import DropshipSupplier
from core.i18n import _

API_KEY_PREFIX = "dsk_"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# ----------------------------------------------------------------------------- API keys
def hash_key(key: str) -> str:
    """SHA-256 (hex) of an API key: keys are long random strings, so a fast hash suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key(supplier: DropshipSupplier) -> str:
    """Give the supplier a new key (the old one stops working); returns it, to show once."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    supplier.api_key_hash = hash_key(key)
    return key


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def supplier_for_key(key: str) -> DropshipSupplier | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    return db.session.scalar(select(DropshipSupplier).where(DropshipSupplier.api_key_hash == hash_key(key),
                                                            DropshipSupplier.active.is_(True)))


# ----------------------------------------------------------------------------- warehouse
def ensure_warehouse(supplier: DropshipSupplier) -> Warehouse:
    """The supplier's warehouse (kind ``supplier``), created on first need."""
    if supplier.warehouse is not None:
        return supplier.warehouse
    if supplier.id is None:
        db.session.flush()
    code = f"FRN-{supplier.id}"
    taken = set(db.session.scalars(select(Warehouse.code).where(Warehouse.organization_id == supplier.organization_id,
                                                                Warehouse.code.like(f"{code}%"))))
    suffix = 1
    while code in taken:
        suffix += 1
        code = f"FRN-{supplier.id}-{suffix}"
    warehouse = Warehouse(organization_id=supplier.organization_id, code=code,
                          name=f"Fournisseur {supplier.name}"[:120], kind=WarehouseKind.SUPPLIER, priority=50,
                          active=True)
    db.session.add(warehouse)
    db.session.flush()
    supplier.warehouse = warehouse
    supplier.warehouse_id = warehouse.id
    return warehouse


def rename_warehouse(supplier: DropshipSupplier) -> None:
    if supplier.warehouse is not None:
        supplier.warehouse.name = f"Fournisseur {supplier.name}"[:120]
        supplier.warehouse.active = supplier.active


# ----------------------------------------------------------------------------- batches
def parse_batch_times(text: str | None) -> list[time]:
    """``"08:00, 14:00"`` → sorted times; raises ValueError (French) on a bad entry."""
    found: set[time] = set()
    for part in re.split(r"[,;\s]+", (text or "").strip()):
        if not part:
            continue
        match = _TIME.match(part)
        if not match:
            raise ValueError(_("heure invalide : « %(part)s » (attendu HH:MM, par exemple 08:00)", part=part))
        found.add(time(int(match.group(1)), int(match.group(2))))
    return sorted(found)


def batch_times_of(supplier: DropshipSupplier) -> list[time]:
    """The supplier's batch times; none (send at once) when unset or unreadable."""
    try:
        return parse_batch_times(supplier.batch_times)
    except ValueError:
        return []


def organization_zone(org_id: int) -> ZoneInfo | timezone:
    name = db.session.scalar(select(Organization.timezone).where(Organization.id == org_id)) or "Europe/Paris"
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return ZoneInfo("Europe/Paris")


def latest_slot(now: datetime, times: list[time], zone: ZoneInfo | timezone) -> datetime | None:
    """The most recent batch time at or before ``now`` (UTC), among today's and yesterday's."""
    local_today: date = now.astimezone(zone).date()
    slots = [datetime.combine(day, t, tzinfo=zone).astimezone(timezone.utc)
             for day in (local_today - timedelta(days=1), local_today) for t in times]
    past = [s for s in slots if s <= now]
    return max(past) if past else None
