"""Parcel statuses from Sendcloud: signed webhooks, and a poll when webhooks go missing.

Webhook (``parcel_status_changed``): header ``Sendcloud-Signature`` = hex HMAC-SHA256 of
the raw body with the integration's secret key (or its webhook signature key), received on
the connector kit's inbox (:class:`SendcloudInbox`): verified, stored and answered at once,
applied by a job. Sendcloud signs no timestamp, so replays are stopped here: a delivery whose
``timestamp`` (seconds or milliseconds) is older than :data:`REPLAY_WINDOW` is refused, and
every delivery is stored under the SHA-256 of its body, so the same delivery is stored once.
Statuses are stored by their numeric id and mapped to OMS shipment statuses in one table.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select

from collections.abc import Mapping

from core import shipping
from core.connectors.inbox import Headers, Refused, WebhookInbox
from core.connectors.models import WebhookDelivery
from core.extensions import db
from core.inputs import checked_json
from core.models import ShipmentStatus, Shop, utcnow

from .checks import client_from_settings
from .models import SendcloudParcel
from core.i18n import _

ADDON = "sendcloud"
SIGNATURE_HEADER = "Sendcloud-Signature"
#: deliveries older than this are refused; processed ones are remembered a little longer
REPLAY_WINDOW = timedelta(minutes=30)
FUTURE_SKEW = timedelta(minutes=5)
PROCESS_JOB = "addons.sendcloud.jobs.process_webhooks"
#: a parcel without news for this long is polled
POLL_AFTER = timedelta(hours=2)

#: Sendcloud parcel status ids (``GET /parcels/statuses``) → OMS shipment status; ids not
#: listed (announced, ready to send, being announced, unknown…) change nothing
STATUS_IDS: dict[int, ShipmentStatus] = {
    3: ShipmentStatus.IN_TRANSIT, 4: ShipmentStatus.IN_TRANSIT, 5: ShipmentStatus.IN_TRANSIT,
    6: ShipmentStatus.IN_TRANSIT, 7: ShipmentStatus.IN_TRANSIT, 12: ShipmentStatus.IN_TRANSIT,
    22: ShipmentStatus.IN_TRANSIT, 91: ShipmentStatus.IN_TRANSIT, 92: ShipmentStatus.IN_TRANSIT,
    11: ShipmentStatus.DELIVERED, 93: ShipmentStatus.DELIVERED,
    8: ShipmentStatus.EXCEPTION, 15: ShipmentStatus.EXCEPTION, 80: ShipmentStatus.EXCEPTION,
    1002: ShipmentStatus.EXCEPTION,
    1998: ShipmentStatus.CANCELLED, 2000: ShipmentStatus.CANCELLED,
}
#: v3 parcel status codes (shipments API) → OMS shipment status
STATUS_CODES: dict[str, ShipmentStatus] = {
    "IN_TRANSIT": ShipmentStatus.IN_TRANSIT, "DELIVERED": ShipmentStatus.DELIVERED,
    "ANNOUNCEMENT_FAILED": ShipmentStatus.EXCEPTION, "CANCELLED": ShipmentStatus.CANCELLED,
}
FINAL = (ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED)


class SendcloudInbox(WebhookInbox):
    """Sendcloud's scheme on the connector kit's inbox: the URL names the shop (the
    ``webhook_url`` given to Sendcloud), ``Sendcloud-Signature`` is the hex HMAC-SHA256 of the
    raw body with the integration's secret key or its webhook signature key. Sendcloud sends
    no delivery id, so the SHA-256 of the body stands for one: a replayed body is stored no
    second time. A body whose ``timestamp`` is outside the replay window is refused before
    anything is stored. Sendcloud is enabled on shops of any channel."""

    addon = ADDON
    process_job = PROCESS_JOB
    channel_only = False
    store_raw = False

    def signature(self, headers: Headers) -> str | None:
        return (headers(SIGNATURE_HEADER) or "").strip().lower() or None

    def verify(self, body: bytes, signature: str, secret: str) -> bool:
        return hmac.compare_digest(sign(body, secret), signature)

    def shop_secrets(self, shop: Shop) -> tuple[str, ...]:
        return tuple(signing_keys(shop.addon_settings(ADDON)))

    def parse(self, body: bytes) -> dict[str, Any]:
        payload = super().parse(body)
        at = event_time(payload.get("timestamp"))
        now = utcnow()
        if at is None:
            raise Refused("horodatage manquant")
        if at < now - REPLAY_WINDOW:
            raise Refused(_("horodatage trop ancien : envoi rejoué ou trop tardif"), 409)
        if at > now + FUTURE_SKEW:
            raise Refused(_("horodatage dans le futur"), 409)
        payload["_body_sha256"] = hashlib.sha256(body).hexdigest()
        return payload

    def delivery_id(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return str(payload.get("_body_sha256") or "")

    def topic(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return str(payload.get("action") or "unknown")

    def columns(self, headers: Headers, payload: Mapping[str, Any]) -> dict[str, Any]:
        parcel = payload.get("parcel") if isinstance(payload.get("parcel"), dict) else {}
        return {"resource_id": str(_int(parcel.get("id")) or "")[:64] or None,
                "triggered_at": event_time(payload.get("timestamp"))}


INBOX = SendcloudInbox()


def sign(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


signature = sign  # the documented name of the scheme


def signing_keys(settings: dict[str, Any]) -> list[str]:
    return [k for k in (settings.get("webhook_signature_key"), settings.get("secret_key")) if k]


def event_time(value: Any) -> datetime | None:
    """A webhook timestamp in seconds or milliseconds (13 digits) since the epoch."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number > 1e11:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def handle(shop: Shop, row: WebhookDelivery) -> str:
    """Apply one stored delivery (the inbox's processing job calls it); says what it did."""
    payload = row.payload or {}
    parcel = payload.get("parcel") if isinstance(payload.get("parcel"), dict) else {}
    parcel_id = _int(parcel.get("id"))
    if row.topic != "parcel_status_changed" or parcel_id is None:
        return _("ignoré")
    at = event_time(payload.get("timestamp")) or row.received_at
    parcel_row = db.session.scalar(select(SendcloudParcel).where(SendcloudParcel.shop_id == shop.id,
                                                                 SendcloudParcel.parcel_id == parcel_id))
    if parcel_row is None:
        return _("colis %(parcel_id)s inconnu de l'OMS", parcel_id=parcel_id)
    status = parcel.get("status") if isinstance(parcel.get("status"), dict) else {}
    changed = apply_status(parcel_row, status_id=_int(status.get("id")), code=None,
                           message=str(status.get("message") or ""),
                           tracking_number=parcel.get("tracking_number") or None,
                           tracking_url=parcel.get("tracking_url") or None, at=at, source=f"{ADDON} (webhook)")
    return "appliqué" if changed else "sans changement"


def apply_status(row: SendcloudParcel, *, status_id: int | None, code: str | None, message: str,
                 tracking_number: str | None, tracking_url: str | None, at: datetime, source: str) -> bool:
    """Record Sendcloud's status on the parcel and move the OMS shipment (older news is ignored)."""
    if row.status_at is not None and at < row.status_at:
        return False
    row.status_at = at
    row.status_id = status_id if status_id is not None else row.status_id
    row.status_code = code or row.status_code
    row.status_message = message[:200] or row.status_message
    new = STATUS_IDS.get(status_id) if status_id is not None else STATUS_CODES.get((code or "").upper())
    text = f"Sendcloud : {message or code or status_id}"
    return shipping.update_from_carrier(row.shipment, new, source=source, message=text,
                                        tracking_number=tracking_number, tracking_url=tracking_url)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------- poll
def parcels_to_poll(now: datetime | None = None, limit: int = 500) -> dict[int, list[int]]:
    """Shop id → parcel rows announced, not final, and without news for :data:`POLL_AFTER`."""
    now = now or utcnow()
    from core.models import Shipment

    rows = db.session.execute(
        select(SendcloudParcel.shop_id, SendcloudParcel.id)
        .join(Shipment, Shipment.id == SendcloudParcel.shipment_id)
        .where(SendcloudParcel.state == "announced",
               Shipment.status.in_([ShipmentStatus.LABEL_CREATED, ShipmentStatus.SHIPPED,
                                    ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION]),
               (SendcloudParcel.status_at.is_(None) & (SendcloudParcel.updated_at < now - POLL_AFTER))
               | (SendcloudParcel.status_at < now - POLL_AFTER))
        .order_by(SendcloudParcel.id).limit(limit)).all()
    out: dict[int, list[int]] = {}
    for shop_id, row_id in rows:
        out.setdefault(shop_id, []).append(row_id)
    return out


@dataclass(frozen=True)
class RemoteStatus:
    status_id: int | None
    code: str | None
    message: str
    tracking_number: str | None
    tracking_url: str | None

    @property
    def shipment_status(self) -> ShipmentStatus | None:
        if self.status_id is not None:
            return STATUS_IDS.get(self.status_id)
        return STATUS_CODES.get((self.code or "").upper())


def fetch_status(shop: Shop, row: SendcloudParcel) -> RemoteStatus | None:
    """Ask Sendcloud for one parcel's status (v3 shipment or v2 parcel); None if unknown there."""
    client = client_from_settings(shop.addon_settings(ADDON), shop.id)
    if row.api_version == "v3" and row.remote_shipment_id:
        data = client.get_shipment(row.remote_shipment_id)
        parcel = next((p for p in data.get("parcels") or [] if _int(p.get("id")) == row.parcel_id), None)
        if parcel is None:
            return None
        status = parcel.get("status") or {}
        return RemoteStatus(None, str(status.get("code") or ""), str(status.get("message") or ""),
                            parcel.get("tracking_number") or None, parcel.get("tracking_url") or None)
    if row.parcel_id is not None:
        parcel = client.get_parcel(row.parcel_id)
        status = parcel.get("status") or {}
        return RemoteStatus(_int(status.get("id")), None, str(status.get("message") or ""),
                            parcel.get("tracking_number") or None, parcel.get("tracking_url") or None)
    return None


def poll_shop(shop: Shop, row_ids: list[int] | None = None, *, now: datetime | None = None) -> int:
    """Ask Sendcloud for the status of the shop's parcels; return how many changed."""
    now = now or utcnow()
    ids = row_ids if row_ids is not None else parcels_to_poll(now).get(shop.id, [])
    changed = 0
    for row in db.session.scalars(select(SendcloudParcel).where(SendcloudParcel.id.in_(ids))):
        remote = fetch_status(shop, row)
        row.updated_at = now
        if remote is None:
            continue
        changed += int(apply_status(row, status_id=remote.status_id, code=remote.code, message=remote.message,
                                    tracking_number=remote.tracking_number, tracking_url=remote.tracking_url,
                                    at=now, source=f"{ADDON} (suivi)"))
    return changed
