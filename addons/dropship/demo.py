"""Dropshipping's part of the demo (``oms demo``): a ceramics workshop that ships the
merchant's vases itself, receives its purchase orders on its own system (the emulator in
:mod:`.sandbox`, by signed webhook) and publishes its stock, which the demo's shops sell."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.jobs import enqueue
from core.models import Organization, Product, StockLevel, StockPool, Variant, Warehouse, WarehouseKind
from core.services import save_settings, set_enabled
from core.stock import set_sell_buffer

from .models import DropshipSupplier, DropshipSupplierProduct
from .sandbox import demo_settings, supplier_settings
from .suppliers import ensure_warehouse

ADDON = "dropship"
SUPPLIER = {"name": "Atelier Grès de Puisaye", "contact_name": "Marc Delorme",
            "email": "commandes@atelier-gres-puisaye.example", "phone": "+33 3 86 00 00 00",
            "lead_time_days": 3, "currency": "EUR"}
#: the supplier's price to the merchant and the units it says it holds
UNIT_COST = Decimal("16.00")
SUPPLIER_STOCK = 40
#: units of each SKU held back from the channels out of the supplier's stock (its feed lags)
SUPPLIER_BUFFER = 2


def load_demo(org: Organization, shops: list, base_url: str) -> None:
    """A webhook supplier pointed at the emulator at ``base_url``, the demo products the
    merchant does not stock linked to it (dropship only), its stock in a supplier warehouse
    that the shops sell from, and the add-on enabled on every demo shop."""
    from core.demo import SUPPLIER_SHIPPED

    channel = supplier_settings(base_url)
    supplier = DropshipSupplier(organization_id=org.id, order_channel=channel["order_channel"],
                                webhook_url=channel["webhook_url"], **SUPPLIER)
    supplier.webhook_secret = channel["webhook_secret"]
    db.session.add(supplier)
    warehouse = ensure_warehouse(supplier)
    set_sell_buffer(warehouse, SUPPLIER_BUFFER)
    variants = db.session.scalars(
        select(Variant).join(Product, Product.id == Variant.product_id)
        .where(Variant.organization_id == org.id, Product.title.in_(sorted(SUPPLIER_SHIPPED)))
        .order_by(Variant.id)).all()
    for variant in variants:
        db.session.add(DropshipSupplierProduct(supplier_id=supplier.id, variant_id=variant.id,
                                               supplier_sku=f"AGP-{variant.sku}", unit_cost=UNIT_COST,
                                               currency=supplier.currency, priority=10, mode="dropship",
                                               dropship_only=True))
        db.session.add(StockLevel(variant_id=variant.id, warehouse_id=warehouse.id, on_hand=SUPPLIER_STOCK,
                                  reserved=0))
    # the shops sell the merchant's own stock and the supplier's
    own = db.session.scalars(select(Warehouse).where(Warehouse.organization_id == org.id,
                                                     Warehouse.kind == WarehouseKind.OWN,
                                                     Warehouse.active.is_(True))).all()
    pool = StockPool(organization_id=org.id, name="Stock propre et fournisseurs", warehouses=[*own, warehouse])
    db.session.add(pool)
    db.session.flush()
    for shop in shops:
        if shop.stock_pool_id is None:
            shop.stock_pool_id = pool.id
        set_enabled(shop, ADDON, True)
        save_settings(shop, ADDON, demo_settings(base_url), set())
        enqueue("core.services.connection_test_job", shop.id, ADDON, shop_id=shop.id)
