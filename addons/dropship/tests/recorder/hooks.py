"""Records the tracking and the stock figures core hands to the shop's channel."""
from __future__ import annotations

from typing import Any

from core import hookimpl

#: one entry per shipment sent to the channel
SHIPPED: list[dict[str, Any]] = []
#: last figure pushed per (shop id, sku)
STOCK: dict[tuple[int, str], int] = {}


@hookimpl
def shipping_shipment_shipped(shop, order, shipment):
    SHIPPED.append({
        "shop": shop.id, "order": order.number, "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url, "carrier": shipment.service or shipment.carrier,
        "lines": sorted((sl.order_line.sku, sl.quantity) for sl in shipment.lines),
    })


@hookimpl
def stock_available_changed(shop, changes):
    for change in changes:
        STOCK[(shop.id, change.sku)] = change.available
