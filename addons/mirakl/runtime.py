"""What the add-on's jobs share inside one app: the clock, the frequency buckets and the
clients built from a shop's settings.

Configuration keys (optional): ``MIRAKL_CLOCK`` (an object with ``time()`` and ``sleep()``,
the system clock by default), ``MIRAKL_HTTP`` (an ``httpx.Client`` to send the calls with).

Documented call frequencies (seller OpenAPI, "Call Frequency" of each operation), enforced
per instance and key (``client.account_key``):

* OR11 list orders: every 5 minutes recommended, at most once a minute (one sync run; its
  pages follow each other);
* STO01 stock import: at most once a minute; STO02 its status: at most every 15 seconds;
* SH21 carriers: once a day; RE02 reasons: once a day;
* OR21, OR23, OR24: at each order / tracking event.
"""
from __future__ import annotations

import time
from typing import Any

from flask import current_app

from core.connectors import bucket_key, buckets_for

from . import operators
from .client import MiraklClient

#: operation → (rate per second, burst)
FREQUENCIES = {
    "OR11": (1 / 60, 1),
    "STO01": (1 / 60, 1),
    "STO02": (1 / 15, 1),
    "SH21": (1 / 86400, 1),
    "RE02": (1 / 86400, 2),
    "RT11": (1 / 300, 1),
}


class SystemClock:
    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def clock() -> Any:
    ext = current_app.extensions
    if "mirakl_clock" not in ext:
        ext["mirakl_clock"] = current_app.config.get("MIRAKL_CLOCK") or SystemClock()
    return ext["mirakl_clock"]


def instance_url(shop, settings: dict[str, Any] | None = None) -> str:
    settings = settings if settings is not None else shop.addon_settings("mirakl")
    url = (settings.get("instance_url") or "").strip()
    if url:
        return url.rstrip("/")
    op = operators.for_shop(shop)
    return op.instance_url if op else ""


def operator(shop) -> operators.Operator:
    return operators.for_shop(shop) or operators.GENERIC


def client_for(shop, settings: dict[str, Any] | None = None, **options: Any) -> MiraklClient:
    settings = settings if settings is not None else shop.addon_settings("mirakl")
    http = current_app.config.get("MIRAKL_HTTP")
    if http is not None:
        options.setdefault("http", http)
    options.setdefault("sleep", clock().sleep)
    return MiraklClient(instance_url(shop, settings), settings.get("api_key") or "",
                        shop_id=settings.get("shop_id") or None, oms_shop_id=shop.id, **options)


def wait_for(client: MiraklClient, operation: str, max_wait: float = 0.0) -> float:
    """Take the operation's token for this instance and key: 0 when the call may go now,
    else the seconds to wait (nothing reserved when over ``max_wait``)."""
    rate, burst = FREQUENCIES[operation]
    store = buckets_for(current_app, clock(), name="mirakl")
    return store.acquire(bucket_key("mirakl", client.account, operation), rate, burst, max_wait)
