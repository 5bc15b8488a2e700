"""What the add-on's jobs share inside one app: the clock and the clients built from a shop's
settings.

Configuration keys (all optional):

- ``FNAC_CLOCK``: an object with ``time()`` and ``sleep()`` (default: the system clock);
- ``FNAC_MAX_WAIT``: seconds a job may wait in-process for an offers batch before it hands
  over to a delayed run of itself (default 0: a worker never sleeps on Fnac Darty);
- ``FNAC_HTTP_OPTIONS``: extra options of the kit's ``HttpClient`` (a benchmark's ``sleep``).
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from core.connectors.emulator import SystemClock

from .client import FnacClient

NAME = "fnac"


def clock() -> Any:
    ext = current_app.extensions
    if "fnac_clock" not in ext:
        ext["fnac_clock"] = current_app.config.get("FNAC_CLOCK") or SystemClock()
    return ext["fnac_clock"]


def max_wait() -> float:
    return float(current_app.config.get("FNAC_MAX_WAIT", 0.0))


def client_from_settings(settings: dict[str, Any], shop_id: int | None = None, **options: Any) -> FnacClient:
    extra = dict(current_app.config.get("FNAC_HTTP_OPTIONS") or {})
    extra.update(options)
    return FnacClient.from_settings(settings, shop_id, clock=clock(), **extra)


def client_for(shop, **options: Any) -> FnacClient:
    return client_from_settings(shop.addon_settings(NAME), shop.id, **options)
