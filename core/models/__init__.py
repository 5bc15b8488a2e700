"""Core domain model (SQLAlchemy 2.0, typed).

Every merchant-owned row carries ``organization_id`` (directly or through its parent) and
every query made for a signed-in user goes through :func:`core.tenancy.scoped`, so one
organization never reads another's rows.

One module per area, each importing only the areas before it; a relationship to a model of a
later area (an organization's shops, an order's shipments) is named by its class and resolved
by SQLAlchemy's registry once every module is loaded. Import the models from here:
``from core.models import Order`` keeps working whatever module a model lives in.
"""
from __future__ import annotations

from .base import append, build, utcnow, UTCDateTime, StrEnum
from .accounts import Role, Plan, PlanChange, Organization, User
from .shops import SyncMode, SYNC_INTERVALS, ConnectionStatus, Shop, ShopAddon, SettingChange
from .catalog import Product, Variant, VariantBinding
from .stock import WarehouseKind, Warehouse, BinLocation, StockLevel
from .orders import (
    OrderStatus,
    PaymentStatus,
    ServiceLevel,
    FulfillmentChannel,
    Customer,
    Order,
    LineSource,
    OrderLine,
    OrderEvent,
)
from .shipping import (
    ShipmentStatus,
    Shipment,
    ShipmentLine,
    ReturnStatus,
    ReturnReason,
    Return,
    ReturnLine,
    CarrierRule,
)
from .central_stock import (
    SkuAlias,
    StockPool,
    StockPoolWarehouse,
    ChannelStockRule,
    StockMovement,
    STOCK_DIRTY_SEQ,
    StockDirty,
    RoutingRule,
)
from .jobs import SyncStatus, SyncLog, OutboxJob, JobLease, ClockMark, RateBucket
from .picking import PickWaveStatus, PickWave, PickWaveOrderStatus, PickWaveOrder, PickWaveLine
from .analytics import (
    FxRate,
    AnalyticsFeeRule,
    AnalyticsActualFee,
    AnalyticsDirty,
    AnalyticsLineFact,
    AnalyticsOrderFact,
    AnalyticsReturnFact,
    AnalyticsDaily,
)

__all__ = [
    "append", "build", "utcnow", "UTCDateTime", "StrEnum", "Role", "Plan", "PlanChange", "Organization", "User",
    "SyncMode", "SYNC_INTERVALS", "ConnectionStatus", "Shop", "ShopAddon", "SettingChange", "Product", "Variant",
    "VariantBinding", "WarehouseKind", "Warehouse", "BinLocation", "StockLevel", "OrderStatus",
    "PaymentStatus", "ServiceLevel", "FulfillmentChannel", "Customer", "Order", "LineSource",
    "OrderLine", "OrderEvent", "ShipmentStatus", "Shipment", "ShipmentLine", "ReturnStatus",
    "ReturnReason", "Return", "ReturnLine", "CarrierRule", "SkuAlias", "StockPool", "StockPoolWarehouse",
    "ChannelStockRule", "StockMovement", "STOCK_DIRTY_SEQ", "StockDirty", "RoutingRule",
    "SyncStatus", "SyncLog", "OutboxJob", "JobLease", "ClockMark", "RateBucket", "PickWaveStatus",
    "PickWave", "PickWaveOrderStatus", "PickWaveOrder", "PickWaveLine", "FxRate",
    "AnalyticsFeeRule", "AnalyticsActualFee", "AnalyticsDirty", "AnalyticsLineFact",
    "AnalyticsOrderFact", "AnalyticsReturnFact", "AnalyticsDaily",
]
