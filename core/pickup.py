"""Pick-up points: the relay point or locker an order is delivered to.

The buyer chooses it at checkout; the channel add-on fills ``NormalizedOrder.pickup_point``
and :mod:`core.intake` keeps it on the order (``Order.pickup_point``, a JSON dict). The
merchant sees it on the order and packing pages and may change it on the order page: core
gathers the carriers' answers to ``shipping_search_pickup_points`` and stores the chosen one
with ``chosen_by = "merchant"`` (a later update from the channel then leaves it alone). The
carrier add-ons read it back with :func:`point_of` when they make the label.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from . import orders as order_flow
from . import wording
from .addons import _isolate, registry
from .extensions import db
from .models import Order, OrderStatus
from .types import NormalizedAddress, NormalizedPickupPoint
from .i18n import _

#: networks no add-on of this installation is named after (what the order page shows); a
#: network named like a loaded add-on (mondialrelay, chronopost…) shows that add-on's title
NETWORKS = {"inpost": "InPost", "ups": "UPS Access Point"}
#: a parcel already gone can no longer change its destination
_FROZEN = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.CANCELLED)


class PickupError(ValueError):
    """A refusal the merchant can act on (French message)."""


def to_dict(point: NormalizedPickupPoint | None, chosen_by: str = "channel") -> dict[str, Any] | None:
    if point is None or not str(point.id or "").strip():
        return None
    data = asdict(point)
    data["id"] = str(point.id).strip()[:64]
    data["network"] = (point.network or "").strip().lower()[:32]
    data["chosen_by"] = chosen_by
    return data


def point_of(order: Order) -> NormalizedPickupPoint | None:
    """The order's pick-up point as the carrier hooks read it (None: home delivery)."""
    data = order.pickup_point
    if not data or not data.get("id"):
        return None
    address = NormalizedAddress(**{k: str(v or "") for k, v in (data.get("address") or {}).items()
                                   if k in NormalizedAddress.__dataclass_fields__})
    return NormalizedPickupPoint(id=str(data["id"]), network=str(data.get("network") or ""),
                                 name=str(data.get("name") or ""), address=address,
                                 opening_hours=list(data.get("opening_hours") or []),
                                 distance_m=data.get("distance_m"))


def network_name(network: str) -> str:
    addon = registry().get(network or "") if network else None
    if addon is not None and addon.ok:
        return addon.title
    return NETWORKS.get(network or "", network or "")


def from_channel(order: Order, point: NormalizedPickupPoint | None) -> bool:
    """The channel's point (intake, on creation and on each update); a point the merchant
    chose is kept. True when the order's point changed."""
    current = order.pickup_point or None
    if current and current.get("chosen_by") == "merchant":
        return False
    new = to_dict(point)
    if new == current:
        return False
    order.pickup_point = new
    return True


def search(order: Order, postal_code: str, city: str = "", country: str = "",
           network: str = "") -> tuple[list[NormalizedPickupPoint], list[str]]:
    """Points near an address from every carrier add-on of the shop, nearest first, and the
    French reasons of the networks that could not be asked."""
    postal_code = (postal_code or "").strip()
    if not postal_code:
        raise PickupError(_("indiquez le code postal autour duquel chercher"))
    query = {"postal_code": postal_code[:10], "city": (city or "").strip()[:60],
             "country": ((country or (order.shipping_address or {}).get("country") or "FR").strip().upper())[:2],
             "network": (network or "").strip().lower()}
    found: list[NormalizedPickupPoint] = []
    problems: list[str] = []
    shop = order.shop
    reg = registry()
    enabled = shop.enabled_addons()
    for addon in reg.loaded():  # each network on its own: one that fails is named, the others answer
        if addon.kind != "carrier" or addon.name not in enabled:
            continue
        try:
            with db.session.begin_nested():
                answer = reg.call_one(addon.name, "shipping_search_pickup_points", shop=shop, order=order,
                                      query=query)
        except Exception as exc:  # noqa: BLE001 - an add-on's failure is isolated, as core.addons.call does
            _isolate(shop, addon.name, "shipping_search_pickup_points", exc)
            problems.append(f"{addon.title} : {wording.for_merchant(exc)}")
            continue
        found.extend(p for p in answer or [] if isinstance(p, NormalizedPickupPoint))
    found.sort(key=lambda p: (p.distance_m is None, p.distance_m or 0, p.name))
    return found, problems


def choose(order: Order, point: NormalizedPickupPoint, *, user_id: int | None = None) -> None:
    """The merchant sends the parcel to ``point`` instead (kept over later channel updates)."""
    if order.status in _FROZEN:
        raise PickupError(_("la commande %(number)s est %(labels)s : son point de retrait ne change plus",
                            number=order.number, labels=order_flow.LABELS[order.status]))
    before = point_of(order)
    order.pickup_point = to_dict(point, chosen_by="merchant")
    was = f"{before.name} ({before.id})" if before else "livraison à domicile"
    order_flow.record(order, "pickup_point", _("point de retrait changé : %(was)s → %(name)s (%(id)s)",
                                               was=was, name=point.name, id=point.id),
                      user_id=user_id, data={"from": before.id if before else None, "to": point.id,
                                             "network": point.network})
