"""Builders shared by the pipeline tests and the benchmarks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from core.extensions import db
from core.models import Order, Product, Shop, StockLevel, Variant, Warehouse, WarehouseKind
from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def norm(ext_id: str, lines: list[tuple[str, int]], *, country: str = "FR", updated: int = 0, **kw) -> NormalizedOrder:
    return NormalizedOrder(
        external_id=ext_id, number=f"#{ext_id}", placed_at=T0, updated_at=T0 + timedelta(minutes=updated),
        currency=kw.pop("currency", "EUR"), total=Decimal("10.00") * sum(q for _s, q in lines),
        lines=[NormalizedLine(sku=s, quantity=q, unit_price=Decimal("10.00"), title=s) for s, q in lines],
        customer_email=kw.pop("email", "client@exemple.fr"), customer_name="Client",
        shipping_address=NormalizedAddress(name="Client", line1="1 rue X", postal_code="75001", city="Paris",
                                           country=country), **kw)


def warehouse(org_id: int, code: str, kind: WarehouseKind = WarehouseKind.OWN, priority: int = 10,
              shop_id: int | None = None) -> Warehouse:
    wh = Warehouse(organization_id=org_id, code=code, name=code, kind=kind, priority=priority, shop_id=shop_id)
    db.session.add(wh)
    db.session.flush()
    return wh


def variant(org_id: int, sku: str, stock: dict[Warehouse, int] | None = None, tags: list[str] | None = None) -> Variant:
    product = Product(organization_id=org_id, title=f"Produit {sku}", tags=tags or [])
    db.session.add(product)
    db.session.flush()
    v = Variant(organization_id=org_id, product_id=product.id, sku=sku, price=Decimal("10.00"))
    db.session.add(v)
    db.session.flush()
    for wh, qty in (stock or {}).items():
        db.session.add(StockLevel(variant_id=v.id, warehouse_id=wh.id, on_hand=qty, reserved=0))
    db.session.flush()
    return v


def manual_order(org_id: int, external_id: str = "E-1") -> Order:
    """A shop of the manual add-on and one order of it, both written (flushed, not committed)."""
    shop = Shop(organization_id=org_id, addon="manual", name="Boutique")
    db.session.add(shop)
    db.session.flush()
    order = Order(organization_id=org_id, shop_id=shop.id, external_id=external_id, number=external_id,
                  currency="EUR")
    db.session.add(order)
    db.session.flush()
    return order
