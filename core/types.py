"""Typed structures exchanged through the hooks (documented in docs/hooks.md)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable


@dataclass(frozen=True)
class ConnectionResult:
    """What an add-on's connection test found. ``details`` is shown as a list (for example
    the marketplaces an Amazon account sells on, or the shipping methods of a SendCloud
    account)."""

    ok: bool
    message: str
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CronJob:
    """A recurring job an add-on contributes: ``func`` is a dotted path; either
    ``interval`` (seconds) or ``cron`` (a crontab string, UTC) is set."""

    func: str
    interval: int | None = None
    cron: str | None = None
    args: tuple[Any, ...] = ()
    queue: str = "default"


@dataclass(frozen=True)
class Sandbox:
    """An add-on's emulator of its remote API: ``make_app()`` returns a WSGI app that
    speaks the remote wire format; the demo mounts it under ``/sandbox/<name>`` and points
    the add-on at it through ``settings`` (base URLs, credentials).

    ``demo(organization, shops, base_url)``, when given, adds the add-on's part of the demo
    data once the demo's shops exist (a fulfilment add-on's suppliers, say), before the demo's
    orders come in.

    ``installation(base_url)``, when given, is the installation's own configuration while
    the emulator runs (the keys an operator sets for the real service, e.g. a public app's
    credentials registered with the emulated platform); what the operator set is kept."""

    name: str
    make_app: Callable[[], Any]
    settings: Callable[[str], dict[str, Any]]
    demo: Callable[[Any, list[Any], str], None] | None = None
    installation: Callable[[str], dict[str, str]] | None = None


@dataclass(frozen=True)
class CatalogEntry:
    """One card an add-on offers in the integrations catalog (``register_catalog_entries``):
    one connector serving several remotes (each Mirakl-based marketplace) shows one card per
    remote. ``key`` is stable within the add-on and is what a shop created from the card
    stores in ``Shop.marketplace``. ``sector``/``sector_label`` is what the remote sells
    (the catalog's second filter); ``details`` are (label, value) pairs shown on the card;
    ``keywords`` are searched besides the title and summary. ``initials`` and ``color`` draw
    the card's logo placeholder when ``icon`` (a path inside the add-on) is empty."""

    key: str
    title: str
    summary: str = ""
    category: str | None = None  # a manifest category; the add-on's own when None
    sector: str = ""
    sector_label: str = ""
    website: str = ""
    help_url: str = ""
    details: tuple[tuple[str, str], ...] = ()
    keywords: tuple[str, ...] = ()
    initials: str = ""
    color: str = "#4f46e5"
    icon: str = ""


@dataclass
class NormalizedAddress:
    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    phone: str = ""
    email: str = ""


@dataclass
class NormalizedPickupPoint:
    """The relay point or locker the buyer chose at checkout (Mondial Relay, Chronopost
    Relais, InPost, Amazon Hub…). ``network`` names who runs it ("mondialrelay",
    "chronopost", "colissimo", "inpost", "ups"…), ``id`` is that network's own point id, the
    one its carrier API expects; ``country`` is ISO 3166-1 alpha-2."""

    id: str
    network: str = ""
    name: str = ""
    address: NormalizedAddress = field(default_factory=NormalizedAddress)
    #: what a search answers (``shipping_search_pickup_points``): one line a day
    #: ("lundi : 09:00–12:00, 14:00–19:00"), and the distance from the searched address
    opening_hours: list[str] = field(default_factory=list)
    distance_m: int | None = None


@dataclass
class NormalizedLine:
    sku: str
    quantity: int
    unit_price: Decimal
    title: str = ""
    external_id: str | None = None
    tax: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")


@dataclass
class NormalizedOrder:
    """A channel's order in core's terms; an add-on builds it from the remote payload."""

    external_id: str
    number: str
    placed_at: datetime
    currency: str
    lines: list[NormalizedLine]
    total: Decimal
    updated_at: datetime | None = None
    status: str = "open"  # open | pending | cancelled | shipped (as the channel says)
    customer_email: str | None = None
    customer_name: str = ""
    shipping_address: NormalizedAddress = field(default_factory=NormalizedAddress)
    billing_address: NormalizedAddress = field(default_factory=NormalizedAddress)
    presentment_currency: str | None = None
    presentment_total: Decimal | None = None
    subtotal: Decimal = Decimal("0")
    shipping_total: Decimal = Decimal("0")
    tax_total: Decimal = Decimal("0")
    discount_total: Decimal = Decimal("0")
    payment_status: str = "paid"
    service_level: str = "standard"
    fulfillment_channel: str = "merchant"
    tags: list[str] = field(default_factory=list)
    origin: str = "online"  # online | pos
    pos_location: str | None = None  # POS: the store's warehouse code
    pickup_point: NormalizedPickupPoint | None = None  # delivery to a relay point / locker
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutingDecision:
    """Where one order line is served from. ``source`` is a ``LineSource`` value."""

    source: str
    warehouse_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class StockChange:
    """The new quantity a channel should show for one SKU."""

    sku: str
    variant_id: int
    available: int


@dataclass(frozen=True)
class Rate:
    carrier: str
    service: str
    price: Decimal
    currency: str
    method_id: str = ""
    #: what the service promises: "standard", or "express" (next day, timed); "" counts as standard
    service_level: str = ""
    #: days in transit the carrier announces, when it does
    delivery_days: int | None = None


@dataclass(frozen=True)
class Label:
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str = ""
    pdf: bytes | None = None
    external_id: str | None = None
    cost: Decimal | None = None


@dataclass(frozen=True)
class ChannelAction:
    """What a channel add-on shows for one product on the product page: where the product
    stands on that shop (``status``, with ``kind`` ok | warning | error | muted for its
    badge) and, optionally, one button. ``endpoint`` and ``args`` name the page (GET) or the
    action (``method="post"``, sent with the page's CSRF token and ``shop_id``)."""

    label: str
    status: str = ""
    kind: str = "muted"
    endpoint: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    method: str = "get"
