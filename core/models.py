"""Core domain model (SQLAlchemy 2.0, typed).

Every merchant-owned row carries ``organization_id`` (directly or through its parent) and
every query made for a signed-in user goes through :func:`core.tenancy.scoped`, so one
organization never reads another's rows.
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .crypto import EncryptedJSON
from .extensions import db
from .money import Amount, Money, UnitCost


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(db.TypeDecorator):  # type: ignore[name-defined]
    """Timezone-aware UTC datetimes on every database (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use an aware UTC datetime")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------- accounts
class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    PICKER = "picker"


class Plan(db.Model):
    """A subscription plan; ``monthly_order_limit`` None means unlimited."""

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    monthly_order_limit: Mapped[int | None] = mapped_column(Integer)
    monthly_price: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")


class PlanChange(db.Model):
    """A change of an organization's plan: who made it (the operator's command) and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    from_plan: Mapped[str | None] = mapped_column(String(32))
    to_plan: Mapped[str] = mapped_column(String(32))
    by: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Organization(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    plan_code: Mapped[str] = mapped_column(ForeignKey("plan.code"), default="free")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Paris")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship()
    shops: Mapped[list["Shop"]] = relationship(back_populates="organization", order_by="Shop.id")


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.STAFF)
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: part of the session and remember-me cookies; changed on logout and password change,
    #: which revokes every cookie issued before
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))

    organization: Mapped[Organization] = relationship()

    def set_password(self, password: str) -> None:
        from flask import current_app

        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)
        self.revoke_sessions()

    def revoke_sessions(self) -> None:
        """Sign out every browser of this user (sessions and remember-me cookies)."""
        self.session_token = secrets.token_hex(16)

    def get_id(self) -> str:  # Flask-Login: what the session and remember cookie carry
        if not self.session_token:
            self.revoke_sessions()
        return f"{self.id}:{self.session_token}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


# --------------------------------------------------------------------------- shops & add-ons
class SyncMode(StrEnum):
    WEBHOOK = "webhook"
    EVERY_15_MIN = "every_15_min"
    HOURLY = "hourly"
    MANUAL = "manual"


SYNC_INTERVALS = {SyncMode.EVERY_15_MIN: 15 * 60, SyncMode.HOURLY: 3600,
                  # webhooks deliver in real time; a reconciliation poll still runs hourly
                  SyncMode.WEBHOOK: 3600}


class ConnectionStatus(StrEnum):
    NOT_CONFIGURED = "not_configured"
    CONNECTED = "connected"
    ERROR = "error"
    DISCONNECTED = "disconnected"


class Shop(db.Model):
    """One connection to a sales channel, served by the add-on named in ``addon``."""

    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    addon: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    marketplace: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(32))
    credentials: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    sync_mode: Mapped[SyncMode] = mapped_column(_enum(SyncMode), default=SyncMode.EVERY_15_MIN)
    status: Mapped[ConnectionStatus] = mapped_column(_enum(ConnectionStatus),
                                                     default=ConnectionStatus.NOT_CONFIGURED)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sync_cursor: Mapped[str | None] = mapped_column(String(255))
    #: None: the organization's default (shared) stock pool
    stock_pool_id: Mapped[int | None] = mapped_column(ForeignKey("stock_pool.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="shops")
    addons: Mapped[list["ShopAddon"]] = relationship(back_populates="shop", cascade="all, delete-orphan")

    def addon_row(self, addon: str) -> "ShopAddon | None":
        return next((a for a in self.addons if a.addon == addon), None)

    def addon_settings(self, addon: str) -> dict[str, Any]:
        """The add-on's settings for this shop, secrets included (decrypted)."""
        row = self.addon_row(addon)
        if row is None:
            return {}
        return {**(row.settings or {}), **(row.secrets or {})}

    def enabled_addons(self) -> set[str]:
        return {a.addon for a in self.addons if a.active}


class ShopAddon(db.Model):
    """An add-on enabled (or disabled, data kept) for one shop, with its settings."""

    __table_args__ = (UniqueConstraint("shop_id", "addon"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    addon: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    status: Mapped[ConnectionStatus] = mapped_column(_enum(ConnectionStatus),
                                                     default=ConnectionStatus.NOT_CONFIGURED)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shop: Mapped[Shop] = relationship(back_populates="addons")


# --------------------------------------------------------------------------- catalog
class Product(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    variants: Mapped[list["Variant"]] = relationship(back_populates="product", order_by="Variant.id",
                                                     cascade="all, delete-orphan")


class Variant(db.Model):
    """A sellable unit. The SKU is unique within an organization and is the join key with
    every channel."""

    __table_args__ = (UniqueConstraint("organization_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    barcode: Mapped[str | None] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    price: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    options: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    cost_price: Mapped[Decimal | None] = mapped_column(UnitCost)
    hs_code: Mapped[str | None] = mapped_column(String(16))
    country_of_origin: Mapped[str | None] = mapped_column(String(2))

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def price_money(self) -> Money:
        return Money(self.price, self.currency)


class VariantBinding(db.Model):
    """A variant's identity in one shop (Shopify variant id, Amazon seller SKU/ASIN…)."""

    __table_args__ = (UniqueConstraint("shop_id", "external_id"),
                      UniqueConstraint("shop_id", "variant_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(128))
    external_sku: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --------------------------------------------------------------------------- warehouses & stock
class WarehouseKind(StrEnum):
    OWN = "own"
    MARKETPLACE = "marketplace"  # fulfilled by the marketplace (Amazon FBA)
    SUPPLIER = "supplier"  # a dropship supplier's stock
    STORE = "store"  # point of sale


class Warehouse(db.Model):
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[WarehouseKind] = mapped_column(_enum(WarehouseKind), default=WarehouseKind.OWN)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="SET NULL"))
    country: Mapped[str | None] = mapped_column(String(2))
    address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=10)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: units of each SKU held back from the channels (a supplier's feed that is never quite
    #: up to date, a store's display stock); orders routed here are not limited by it
    sell_buffer: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    locations: Mapped[list["BinLocation"]] = relationship(back_populates="warehouse",
                                                          order_by="BinLocation.sort_key",
                                                          cascade="all, delete-orphan")


class BinLocation(db.Model):
    """A bin (aisle-shelf-level) in a warehouse; ``sort_key`` orders the picking walk."""

    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    sort_key: Mapped[str] = mapped_column(String(64), default="")

    warehouse: Mapped[Warehouse] = relationship(back_populates="locations")


class StockLevel(db.Model):
    """Stock of one variant in one warehouse. ``reserved`` units belong to open orders."""

    __table_args__ = (UniqueConstraint("variant_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    bin_location_id: Mapped[int | None] = mapped_column(ForeignKey("bin_location.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    variant: Mapped[Variant] = relationship()
    warehouse: Mapped[Warehouse] = relationship()
    bin_location: Mapped[BinLocation | None] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


# --------------------------------------------------------------------------- orders
class OrderStatus(StrEnum):
    NEW = "new"  # nouvelle
    ON_HOLD = "on_hold"  # en attente
    ALLOCATED = "allocated"  # allouée
    PICKING = "picking"  # en préparation
    PACKED = "packed"  # emballée
    SHIPPED = "shipped"  # expédiée
    DELIVERED = "delivered"  # livrée
    CANCELLED = "cancelled"  # annulée
    RETURNED = "returned"  # retournée


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


class ServiceLevel(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    PRIME = "prime"


class FulfillmentChannel(StrEnum):
    MERCHANT = "merchant"  # FBM: the merchant picks, packs, ships
    MARKETPLACE = "marketplace"  # FBA: the marketplace ships ("expédié par Amazon")


class Customer(db.Model):
    __table_args__ = (Index("ix_customer_org_email", "organization_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Order(db.Model):
    """A customer order from one shop; ``(shop_id, external_id)`` is unique, so a
    re-import updates instead of duplicating."""

    __table_args__ = (
        UniqueConstraint("shop_id", "external_id"),
        Index("ix_order_org_status", "organization_id", "status"),
        Index("ix_order_org_created", "organization_id", "created_at"),
        Index("ix_order_org_placed", "organization_id", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    billing_address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    presentment_currency: Mapped[str | None] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    shipping_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    presentment_total: Mapped[Decimal | None] = mapped_column(Amount)
    payment_status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus), default=PaymentStatus.PENDING)
    service_level: Mapped[ServiceLevel] = mapped_column(_enum(ServiceLevel), default=ServiceLevel.STANDARD)
    fulfillment_channel: Mapped[FulfillmentChannel] = mapped_column(
        _enum(FulfillmentChannel), default=FulfillmentChannel.MERCHANT)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.NEW)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    #: why the order waits: unknown_sku | backorder | no_source | manual (None when not held)
    hold_code: Mapped[str | None] = mapped_column(String(32))
    #: online (web, marketplace) or pos (sold and handed over in a store)
    origin: Mapped[str] = mapped_column(String(16), default="online")
    #: for POS sales: the store's warehouse code
    pos_location: Mapped[str | None] = mapped_column(String(64))
    #: received past the plan's monthly limit (kept and processed; the UI shows the limit)
    over_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    external_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: preparation time: first item picked (or checked at packing), packed, last parcel shipped
    picking_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shop: Mapped[Shop] = relationship()
    customer: Mapped[Customer | None] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                    cascade="all, delete-orphan")
    events: Mapped[list["OrderEvent"]] = relationship(back_populates="order", order_by="OrderEvent.id",
                                                      cascade="all, delete-orphan")
    shipments: Mapped[list["Shipment"]] = relationship(back_populates="order", order_by="Shipment.id")

    @property
    def total_money(self) -> Money:
        return Money(self.total, self.currency)


class LineSource(StrEnum):
    WAREHOUSE = "warehouse"
    MARKETPLACE = "marketplace"
    DROPSHIP = "dropship"
    POS = "pos"


class OrderLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(128))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    source: Mapped[LineSource | None] = mapped_column(_enum(LineSource))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
    reserved_quantity: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    variant: Mapped[Variant | None] = relationship()
    warehouse: Mapped[Warehouse | None] = relationship()

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


class OrderEvent(db.Model):
    """One entry of an order's history: what came from where, when, what changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(64), default="core")
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    order: Mapped[Order] = relationship(back_populates="events")


# --------------------------------------------------------------------------- shipping & returns
class ShipmentStatus(StrEnum):
    DRAFT = "draft"
    LABEL_CREATED = "label_created"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXCEPTION = "exception"


class Shipment(db.Model):
    #: the hourly tracking job looks for parcels on their way that left in the last 30 days
    __table_args__ = (Index("ix_shipment_status_shipped", "status", "shipped_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
    carrier: Mapped[str] = mapped_column(String(64), default="manual")
    service: Mapped[str | None] = mapped_column(String(120))
    tracking_number: Mapped[str | None] = mapped_column(String(128))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    label: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_format: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[ShipmentStatus] = mapped_column(_enum(ShipmentStatus), default=ShipmentStatus.DRAFT)
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: why the carrier has not produced the label yet (refused data, carrier unreachable)
    label_error: Mapped[str | None] = mapped_column(Text)
    #: when the carrier last told about the parcel (webhook or poll): core asks again after a while
    carrier_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: label requests made so far, each committed before the carrier is called: the carrier
    #: add-on knows a request may already have reached the carrier (and looks it up first)
    label_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: when the running label request started (a lease: another one waits until it is stale)
    label_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="shipments")
    lines: Mapped[list["ShipmentLine"]] = relationship(back_populates="shipment", cascade="all, delete-orphan")


class ShipmentLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


class ReturnStatus(StrEnum):
    OPEN = "open"
    RECEIVED = "received"
    INSPECTED = "inspected"
    RESTOCKED = "restocked"
    WRITTEN_OFF = "written_off"
    CLOSED = "closed"


class ReturnReason(StrEnum):
    SIZE = "size"
    DEFECT = "defect"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    WRONG_ITEM = "wrong_item"


class Return(db.Model):
    """A return (RMA ``RMA-<id>``) of some units of an order: received, inspected, then
    restocked or written off; the refund is recorded beside it. A channel's own return is
    imported once per ``(shop_id, external_id)``."""

    __table_args__ = (UniqueConstraint("shop_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    status: Mapped[ReturnStatus] = mapped_column(_enum(ReturnStatus), default=ReturnStatus.OPEN)
    reason: Mapped[ReturnReason] = mapped_column(_enum(ReturnReason))
    refund_status: Mapped[PaymentStatus | None] = mapped_column(_enum(PaymentStatus))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the channel that reported it (None: opened by the merchant) and its id there
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(128))
    #: what was refunded to the customer, in ``currency`` (the order's)
    refund_amount: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str | None] = mapped_column(String(3))
    #: where restocked units went back
    restock_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    lines: Mapped[list["ReturnLine"]] = relationship(back_populates="ret", cascade="all, delete-orphan",
                                                     order_by="ReturnLine.id")
    restock_warehouse: Mapped[Warehouse | None] = relationship()

    @property
    def rma(self) -> str:
        return f"RMA-{self.id}"


class ReturnLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    ret: Mapped[Return] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


# --------------------------------------------------------------------------- central stock
class SkuAlias(db.Model):
    """A channel SKU mapped by the merchant to one of their variants (resolves a hold)."""

    __table_args__ = (UniqueConstraint("organization_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    sku: Mapped[str] = mapped_column(String(64))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockPool(db.Model):
    """The warehouses whose stock a set of shops sells. Shops without a pool use the
    organization's default pool: every active own warehouse."""

    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    warehouses: Mapped[list[Warehouse]] = relationship(secondary="stock_pool_warehouse",
                                                       order_by="Warehouse.priority")


class StockPoolWarehouse(db.Model):
    stock_pool_id: Mapped[int] = mapped_column(ForeignKey("stock_pool.id", ondelete="CASCADE"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"), primary_key=True)


class ChannelStockRule(db.Model):
    """What a channel is shown of the pool: (available − buffer) × percentage, capped at
    maximum. The most specific rule applies: the shop's, else its add-on's, else none."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    addon: Mapped[str | None] = mapped_column(String(64))
    buffer: Mapped[int] = mapped_column(Integer, default=0)
    percentage: Mapped[int] = mapped_column(Integer, default=100)
    maximum: Mapped[int | None] = mapped_column(Integer)


class StockMovement(db.Model):
    """The stock ledger: every change of on-hand or reserved, with who and why."""

    __table_args__ = (Index("ix_stock_movement_variant_at", "variant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # reserve | release | ship | adjust | sale | receive
    delta_on_hand: Mapped[int] = mapped_column(Integer, default=0)
    delta_reserved: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    variant: Mapped[Variant] = relationship()
    warehouse: Mapped[Warehouse] = relationship()


#: numbers each write of a dirty mark (PostgreSQL; SQLite, one writer at a time, uses the clock)
STOCK_DIRTY_SEQ = Sequence("stock_dirty_seq", metadata=db.metadata)


class StockDirty(db.Model):
    """Variants whose sellable quantity changed and awaits its push to the channels.
    Written in the same transaction as the change; the coalesced push job drains it.

    Every write gives the mark a new ``seq``; the push deletes only the marks whose ``seq`` it
    read before reading the figures, so a change committed meanwhile keeps its mark."""

    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                 primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class RoutingRule(db.Model):
    """An editable routing rule; rules run in ``position`` order and the first matching
    rule whose warehouse can serve the line wins. Empty conditions match everything."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # add-on names
    shop_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    sku_pattern: Mapped[str | None] = mapped_column(String(64))  # shell pattern, e.g. MUG-*
    tag: Mapped[str | None] = mapped_column(String(64))  # product or order tag
    service_levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"))
    allow_split: Mapped[bool] = mapped_column(Boolean, default=True)

    warehouse: Mapped[Warehouse] = relationship()


# --------------------------------------------------------------------------- jobs
class SyncStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    OK = "ok"
    RETRYING = "retrying"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its worker stopped mid-job; RQ runs it again


class SyncLog(db.Model):
    """What a background job did for a shop: visible per shop, with a retry button."""

    __table_args__ = (Index("ix_sync_log_shop_started", "shop_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    addon: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(200))
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[SyncStatus] = mapped_column(_enum(SyncStatus), default=SyncStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxJob(db.Model):
    """A job written in the same transaction as the data it follows (transactional outbox).

    A rollback removes it with the data; after commit it is relayed to RQ (or run in-process
    on the embedded default). A crash between commit and relay leaves the row, which the next
    relay pass picks up, so committed data never loses its job.
    """

    __table_args__ = (Index("ix_outbox_due", "state", "run_after"), Index("ix_outbox_job_id", "job_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(200))
    unique: Mapped[bool] = mapped_column(Boolean, default=False)
    queue: Mapped[str] = mapped_column(String(64), default="default")
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    max_retries: Mapped[int] = mapped_column(Integer, default=3)
    intervals: Mapped[list[int]] = mapped_column(JSON, default=lambda: [30, 120, 600])
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | running | failed
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobLease(db.Model):
    """A lease held by one process of the installation (the embedded job runner): renewed
    while it lives, taken over by another process once ``expires_at`` has passed."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClockMark(db.Model):
    """When something recurring last ran (cron jobs of the embedded runner, the nightly
    analytics pass), shared by every process and kept across restarts."""

    __tablename__ = "clock_mark"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    at: Mapped[float] = mapped_column(db.Float)


class RateBucket(db.Model):
    """A token bucket shared by every process through the database (no Redis configured)."""

    __tablename__ = "rate_bucket"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tokens: Mapped[float] = mapped_column(db.Float)
    at: Mapped[float] = mapped_column(db.Float)
    rate: Mapped[float | None] = mapped_column(db.Float)


# --------------------------------------------------------------------------- picking
class PickWaveStatus(StrEnum):
    OPEN = "open"  # built, the walk has not started
    PICKING = "picking"  # items are being picked
    SORTING = "sorting"  # walk done, items go to their order's slot
    PACKING = "packing"  # every item is in its slot, orders are being packed
    DONE = "done"  # every order of the wave is shipped or removed
    CANCELLED = "cancelled"


class PickWave(db.Model):
    """Allocated orders of one warehouse picked together in one walk, then sorted into one
    slot (tote) per order and packed."""

    __table_args__ = (Index("ix_pick_wave_org_status", "organization_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    status: Mapped[PickWaveStatus] = mapped_column(_enum(PickWaveStatus), default=PickWaveStatus.OPEN)
    #: the filters the wave was built with (shops, channels, carriers, service levels…)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    warehouse: Mapped[Warehouse] = relationship()
    orders: Mapped[list["PickWaveOrder"]] = relationship(back_populates="wave", order_by="PickWaveOrder.slot",
                                                         cascade="all, delete-orphan")
    lines: Mapped[list["PickWaveLine"]] = relationship(back_populates="wave", order_by="PickWaveLine.id",
                                                       cascade="all, delete-orphan")


class PickWaveOrderStatus(StrEnum):
    PICKING = "picking"
    PACKED = "packed"  # every unit checked at the packing station
    SHIPPED = "shipped"
    REMOVED = "removed"  # taken out of the wave (cancelled order, missing stock)


class PickWaveOrder(db.Model):
    """One order of a wave, with the slot (tote) its items are sorted into."""

    __table_args__ = (UniqueConstraint("wave_id", "slot"), Index("ix_pick_wave_order_order", "order_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("pick_wave.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    status: Mapped[PickWaveOrderStatus] = mapped_column(_enum(PickWaveOrderStatus),
                                                        default=PickWaveOrderStatus.PICKING)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id", ondelete="SET NULL"))

    wave: Mapped[PickWave] = relationship(back_populates="orders")
    order: Mapped[Order] = relationship()
    shipment: Mapped[Shipment | None] = relationship()
    lines: Mapped[list["PickWaveLine"]] = relationship(back_populates="wave_order", order_by="PickWaveLine.id",
                                                       viewonly=True)


class PickWaveLine(db.Model):
    """Units of one order line to pick from one bin, with what was picked, sorted into the
    order's slot and checked at packing. ``bin_code`` and ``sort_key`` are copied when the
    wave is built, so the printed list and the walk never change under the picker."""

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("pick_wave.id", ondelete="CASCADE"), index=True)
    wave_order_id: Mapped[int] = mapped_column(ForeignKey("pick_wave_order.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"))
    bin_code: Mapped[str | None] = mapped_column(String(32))
    sort_key: Mapped[str] = mapped_column(String(64), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    slotted: Mapped[int] = mapped_column(Integer, default=0)
    packed: Mapped[int] = mapped_column(Integer, default=0)
    #: why a unit was counted without its barcode (damaged label, unlabelled item…)
    override_reason: Mapped[str | None] = mapped_column(Text)

    wave: Mapped[PickWave] = relationship(back_populates="lines")
    wave_order: Mapped[PickWaveOrder] = relationship()
    order_line: Mapped[OrderLine] = relationship()
    variant: Mapped[Variant | None] = relationship()


# --------------------------------------------------------------------------- analytics
class FxRate(db.Model):
    """A euro reference rate: 1 EUR = ``rate`` units of ``currency`` on ``day`` (the European
    Central Bank's convention). An amount is converted with the latest rate on or before its
    order's date (``core.fx``)."""

    __tablename__ = "fx_rate"
    __table_args__ = (UniqueConstraint("organization_id", "currency", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    currency: Mapped[str] = mapped_column(String(3))
    day: Mapped[date] = mapped_column(db.Date)
    rate: Mapped[Decimal] = mapped_column(db.Numeric(18, 6, asdecimal=True))
    source: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AnalyticsFeeRule(db.Model):
    """What a channel (add-on name) charges: a commission and a payment fee in percent of
    what the customer pays, plus fixed amounts per order. ``category`` is a product tag, or
    ``*`` for every product; the fixed amounts are read on the ``*`` rule."""

    __tablename__ = "analytics_fee_rule"
    __table_args__ = (UniqueConstraint("organization_id", "channel", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    channel: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64), default="*")
    commission_pct: Mapped[Decimal] = mapped_column(db.Numeric(7, 4, asdecimal=True), default=Decimal("0"))
    fixed_per_order: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    payment_pct: Mapped[Decimal] = mapped_column(db.Numeric(7, 4, asdecimal=True), default=Decimal("0"))
    payment_fixed: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    #: still the shipped default (public range), until the merchant edits it
    is_default: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AnalyticsActualFee(db.Model):
    """A fee a channel actually charged for an order (commission, payment, fixed…), as its
    settlement reports it. When an order has any, they replace the fee schedule for it."""

    __tablename__ = "analytics_actual_fee"
    __table_args__ = (Index("ix_analytics_actual_fee_order", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    external_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: the summed columns of the fact tables (covered by their indexes)
_FIGURES = ("units", "revenue", "product_cost", "fees", "shipping", "returns", "returned_units")


class AnalyticsDirty(db.Model):
    """An order whose figures await their refresh, written in the transaction that changed
    it; the organization's one refresh job drains the marks it saw (``seq`` tells a mark
    written again meanwhile, which stays for the next pass)."""

    __tablename__ = "analytics_dirty"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                 primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(db.BigInteger)


class AnalyticsLineFact(db.Model):
    """One order line's figures, converted to the organization's currency with the rate of
    the order's date and stored in hundredths (exact integers, summed exactly on every
    database). Written by ``core.analytics.refresh_orders``; cancelled orders have none."""

    __tablename__ = "analytics_line_fact"
    __table_args__ = (
        # Both carry the figures (PostgreSQL INCLUDE), so the views read the index only:
        # short periods scan a day range, long ones stream SKU by SKU (and shop by shop)
        Index("ix_analytics_line_fact_org_day", "organization_id", "day",
              postgresql_include=["variant_id", "shop_id", "warehouse_id", *_FIGURES]),
        Index("ix_analytics_line_fact_org_variant", "organization_id", "variant_id", "shop_id", "day",
              postgresql_include=["warehouse_id", *_FIGURES]),
        Index("ix_analytics_line_fact_order", "order_id"),
    )

    line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[int | None] = mapped_column(Integer)
    variant_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(db.Date)
    units: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[int] = mapped_column(db.BigInteger, default=0)
    product_cost: Mapped[int] = mapped_column(db.BigInteger, default=0)
    fees: Mapped[int] = mapped_column(db.BigInteger, default=0)
    shipping: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returns: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returned_units: Mapped[int] = mapped_column(Integer, default=0)
    cost_known: Mapped[bool] = mapped_column(Boolean, default=True)


class AnalyticsOrderFact(db.Model):
    """One order's figures (the sum of its line facts), its preparation time and the
    warehouse that shipped it (its first parcel, else its lines' warehouse)."""

    __tablename__ = "analytics_order_fact"
    __table_args__ = (
        # roll-up rebuilds by day, and the customer view of short periods
        Index("ix_analytics_order_fact_org_day", "organization_id", "day",
              postgresql_include=["customer_id", "shop_id", "warehouse_id", *_FIGURES]),
        # the customer view of long periods, customer by customer from the index only
        Index("ix_analytics_order_fact_org_customer", "organization_id", "customer_id", "day",
              postgresql_include=["shop_id", "warehouse_id", *_FIGURES]),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    shop_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(db.Date)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[int] = mapped_column(db.BigInteger, default=0)
    product_cost: Mapped[int] = mapped_column(db.BigInteger, default=0)
    fees: Mapped[int] = mapped_column(db.BigInteger, default=0)
    shipping: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returns: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returned_units: Mapped[int] = mapped_column(Integer, default=0)
    #: first unit picked → first parcel shipped, in seconds (None until both happened)
    prep_seconds: Mapped[int | None] = mapped_column(Integer)
    cost_missing_lines: Mapped[int] = mapped_column(Integer, default=0)
    #: ok | stale (rate older than a month) | later (only a later rate) | missing (no rate)
    fx_status: Mapped[str] = mapped_column(String(8), default="ok")


class AnalyticsReturnFact(db.Model):
    """One returned order line of an RMA: units, reason, outcome and its cost (refund share
    minus the cost of restocked units), dated by its order."""

    __tablename__ = "analytics_return_fact"
    __table_args__ = (Index("ix_analytics_return_fact_org_day", "organization_id", "day"),
                      Index("ix_analytics_return_fact_order", "order_id"))

    return_line_id: Mapped[int] = mapped_column(ForeignKey("return_line.id", ondelete="CASCADE"), primary_key=True)
    return_id: Mapped[int] = mapped_column(Integer)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    line_id: Mapped[int] = mapped_column(Integer)
    shop_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[int | None] = mapped_column(Integer)
    variant_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(db.Date)
    reason: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # pending | restocked | written_off
    units: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[int] = mapped_column(db.BigInteger, default=0)


class AnalyticsDaily(db.Model):
    """Roll-up of the order facts per day, shop (channel) and shipping warehouse: the
    overview, channel, return-rate and preparation views read only this table."""

    __tablename__ = "analytics_daily"
    __table_args__ = (Index("ix_analytics_daily_org_day", "organization_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    day: Mapped[date] = mapped_column(db.Date)
    shop_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[int | None] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[int] = mapped_column(db.BigInteger, default=0)
    product_cost: Mapped[int] = mapped_column(db.BigInteger, default=0)
    fees: Mapped[int] = mapped_column(db.BigInteger, default=0)
    shipping: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returns: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returned_units: Mapped[int] = mapped_column(Integer, default=0)
    prep_orders: Mapped[int] = mapped_column(Integer, default=0)
    prep_seconds: Mapped[int] = mapped_column(db.BigInteger, default=0)
    cost_missing_lines: Mapped[int] = mapped_column(Integer, default=0)
    fx_issue_orders: Mapped[int] = mapped_column(Integer, default=0)
