"""What every part of the Shopify emulator shares: the demo shop and app's credentials, the
query-cost bucket's limits, the records kept for apps, tokens and webhook deliveries, and how
Shopify writes money and dates."""
from __future__ import annotations

import functools

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

import httpx

from core.connectors.emulator import mount_path

from .client import ssl_context


DEMO_DOMAIN = "maison-lumiere.myshopify.com"
DEMO_TOKEN = "shpat_0d3m0t0k3n0f0m50000000000000"
DEMO_API_KEY = "0d3m0a5b7c9e1f3a5b7c9e1f3a5b7c9e"
DEMO_API_SECRET = "shpss_0d3m0s3cr3t0f0m5000000000000"
DEMO_SHOP = {
    "name": "Maison Lumière",
    "myshopifyDomain": DEMO_DOMAIN,
    "currencyCode": "EUR",
    "plan": {"publicDisplayName": "Basic"},
}
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
#: where the OMS receives webhooks, relative to its root
WEBHOOK_PATH = "/apps/shopify/webhooks"
MOUNT_PATH = mount_path("shopify")

# Standard plan: a 2000-point bucket refilled at 100 points per second
BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
MAX_QUERY_COST = 1000
TOKEN_TTL = 3600
REFRESH_TTL = 7_776_000
CODE_TTL = 600
INVENTORY_REASONS = {"correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
                     "movement_received", "movement_canceled", "other", "promotion", "quality_control",
                     "received", "reservation_created", "reservation_deleted", "reservation_updated",
                     "restock", "safety_stock", "shrinkage"}
TAX_RATE = Decimal("0.20")
CENT = Decimal("0.01")
SHOPIFY_PAYMENTS = "shopify_payments"
#: the emulated Shopify Payments card rate (percentage, flat fee in the shop's currency)
PAYMENTS_RATE = Decimal("1.5")
PAYMENTS_FLAT = Decimal("0.25")


def _money(value: Decimal | str | int) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_precise(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.lru_cache(maxsize=65536)
def _parse_iso(text: str) -> float:
    """Seconds since the epoch of an ISO 8601 time (remembered: a search over every order
    reads the same stamps page after page)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


#: the app's name on Shopify's install screen
DEMO_APP_NAME = "OMS"


@dataclass
class _App:
    client_id: str
    secret: str
    compliance_uri: str | None = None
    name: str = DEMO_APP_NAME


@dataclass
class _Token:
    client_id: str
    scope: str
    expires_at: float | None = None


@dataclass
class Delivery:
    webhook_id: str
    topic: str
    uri: str
    body: bytes
    headers: dict[str, str]
    status: int = 0


@dataclass
class _Bucket:
    size: float
    rate: float
    clock: Callable[[], float]
    available: float = field(init=False)
    at: float = field(init=False)

    def __post_init__(self) -> None:
        self.available = self.size
        self.at = self.clock()

    def level(self) -> float:
        now = self.clock()
        self.available = min(self.size, self.available + (now - self.at) * self.rate)
        self.at = now
        return self.available


Sender = Callable[[str, bytes, dict[str, str]], int]


_HTTP: httpx.Client | None = None


def http_sender(url: str, body: bytes, headers: dict[str, str]) -> int:
    """Deliver like Shopify: POST, 5 s in total (1 s to connect), keep-alive; any answer but
    2xx is a failure."""
    global _HTTP
    if _HTTP is None:
        _HTTP = httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0), verify=ssl_context())
    try:
        return _HTTP.post(url, content=body, headers=headers).status_code
    except httpx.HTTPError:
        return 0
