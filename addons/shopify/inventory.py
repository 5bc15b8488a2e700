"""Stock from the OMS to Shopify with ``inventorySetQuantities``.

The OMS is master of stock. For each bound variant:

* the shop's stock-target location gets the shop's sellable figure
  (``core.stock.available_to_sell``: its stock pool and channel rule);
* each retail location gets what its store warehouse holds (on hand − reserved).

Quantities go in batches of at most 250 with ``changeFromQuantity`` (compare-and-swap,
required since 2026-04) set to the quantity the OMS last saw at that location, and an
``@idempotent`` key per batch. If Shopify's quantity moved meanwhile (a sale the OMS has not
received yet), the answer is ``CHANGE_FROM_QUANTITY_STALE``: the OMS records Shopify's
current quantities and the job is retried a little later, by which time the sale's webhook
has normally updated the OMS figure.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.models import Shop, StockLevel, VariantBinding
from core.stock import available_to_sell

from .client import ShopifyClient, ShopifyError, ShopifyUserErrors, gid, numeric_id
from .graphql import INVENTORY_LEVELS, INVENTORY_SET
from .models import ShopifyLocation
from core.i18n import _

BATCH = 250
REASON = "correction"


class StaleInventory(ShopifyError):
    """Shopify's quantities moved since the OMS last read them: retry after the next webhooks."""

    def __init__(self, count: int) -> None:
        super().__init__(_("%(count)s quantité(s) ont changé sur Shopify entre-temps (vente en cours de "
                           "réception) : nouvel envoi dans quelques secondes.", count=count), retryable=True)


@dataclass
class Target:
    binding: VariantBinding
    item: str
    location: str
    quantity: int


def targets(shop: Shop, variant_ids: Iterable[int] | None = None) -> list[Target]:
    """What each Shopify location of the shop should show, per bound variant."""
    locations = list(db.session.scalars(select(ShopifyLocation).where(
        ShopifyLocation.shop_id == shop.id, ShopifyLocation.active.is_(True), ShopifyLocation.ignored.is_(False))))
    stmt = select(VariantBinding).where(VariantBinding.shop_id == shop.id)
    if variant_ids is not None:
        stmt = stmt.where(VariantBinding.variant_id.in_(list(variant_ids)))
    bound = [b for b in db.session.scalars(stmt.order_by(VariantBinding.id)) if (b.data or {}).get("inventory_item_id")]
    if not bound or not locations:
        return []
    found: list[Target] = []
    target = next((loc for loc in locations if loc.stock_target), None)
    if target is not None:
        figures = available_to_sell(shop, [b.variant_id for b in bound])
        found += [Target(b, b.data["inventory_item_id"], target.location_gid, figures.get(b.variant_id, 0))
                  for b in bound]
    for loc in locations:
        if not loc.retail or loc.warehouse_id is None:
            continue
        levels = dict(db.session.execute(
            select(StockLevel.variant_id, StockLevel.on_hand - StockLevel.reserved)
            .where(StockLevel.warehouse_id == loc.warehouse_id,
                   StockLevel.variant_id.in_([b.variant_id for b in bound]))).all())
        found += [Target(b, b.data["inventory_item_id"], loc.location_gid, max(int(levels.get(b.variant_id) or 0), 0))
                  for b in bound]
    return found


def _known(binding: VariantBinding, location: str) -> int | None:
    value = ((binding.data or {}).get("levels") or {}).get(location)
    return int(value) if value is not None else None


def _remember(binding: VariantBinding, location: str, quantity: int) -> None:
    data = dict(binding.data or {})
    levels = dict(data.get("levels") or {})
    levels[location] = quantity
    data["levels"] = levels
    binding.data = data


def _read_current(client: ShopifyClient, batch: list[Target]) -> None:
    """Record Shopify's current available quantity for each target of ``batch``."""
    by_location: dict[str, list[Target]] = {}
    for t in batch:
        by_location.setdefault(t.location, []).append(t)
    for location, group in by_location.items():
        for start in range(0, len(group), BATCH):
            chunk = group[start:start + BATCH]
            data = client.graphql(INVENTORY_LEVELS, {"ids": [t.item for t in chunk], "locationId": location})
            current: dict[str, int] = {}
            for node in data.get("nodes") or []:
                if not node:
                    continue
                quantities = ((node.get("inventoryLevel") or {}).get("quantities") or [])
                current[node["id"]] = next((q["quantity"] for q in quantities if q["name"] == "available"), 0)
            for t in chunk:
                _remember(t.binding, location, current.get(t.item, 0))


def push(shop: Shop, client: ShopifyClient, variant_ids: Iterable[int] | None = None) -> int:
    """Send the current figures; returns how many quantities changed on Shopify."""
    wanted = targets(shop, variant_ids)
    unknown = [t for t in wanted if _known(t.binding, t.location) is None]
    if unknown:
        _read_current(client, unknown)
        db.session.flush()
    changes = [t for t in wanted if _known(t.binding, t.location) != t.quantity]
    sent = 0
    stale = 0
    for start in range(0, len(changes), BATCH):
        batch = changes[start:start + BATCH]
        quantities: list[dict[str, Any]] = [{"inventoryItemId": t.item, "locationId": t.location,
                                             "quantity": t.quantity,
                                             "changeFromQuantity": _known(t.binding, t.location)} for t in batch]
        variables = {"input": {"name": "available", "reason": REASON,
                               "referenceDocumentUri": f"gid://oms/StockSync/{shop.id}",
                               "quantities": quantities},
                     "key": str(uuid.uuid4())}
        try:
            client.mutate(INVENTORY_SET, variables, "inventorySetQuantities")
        except ShopifyUserErrors as exc:
            if "CHANGE_FROM_QUANTITY_STALE" not in exc.codes:
                raise
            _read_current(client, batch)
            stale += len(batch)
            continue
        for t in batch:
            _remember(t.binding, t.location, t.quantity)
        sent += len(batch)
    db.session.flush()
    if stale:
        db.session.commit()  # keep what was read: the retry compares against it
        raise StaleInventory(stale)
    return sent


def note_order(shop: Shop, payload: dict[str, Any], *, created: bool, cancelled: bool) -> None:
    """Shopify moved its own quantities for this order (a sale commits units at the online
    location, a POS sale takes them from the store, a cancellation restocks): keep the
    quantities the OMS believes Shopify shows in step, so the next push's compare-and-swap
    matches instead of going stale."""
    if not created and not cancelled:
        return
    if payload.get("source_name") == "pos" and payload.get("location_id"):
        location = gid("Location", str(payload["location_id"]))
    else:
        target = db.session.scalar(select(ShopifyLocation.location_gid).where(
            ShopifyLocation.shop_id == shop.id, ShopifyLocation.stock_target.is_(True)))
        if target is None:
            return
        location = target
    sign = -1 if created else 1
    for item in payload.get("line_items") or []:
        variant_id = numeric_id(item.get("variant_id"))
        quantity = int(item.get("current_quantity", item.get("quantity")) or 0)
        if not variant_id or quantity <= 0:
            continue
        binding = db.session.scalar(select(VariantBinding).where(
            VariantBinding.shop_id == shop.id, VariantBinding.external_id == gid("ProductVariant", variant_id)))
        known = _known(binding, location) if binding is not None else None
        if binding is not None and known is not None:
            _remember(binding, location, known + sign * quantity)
