"""The client of a shop, with the installation's action versions and clock."""
from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from core.connectors.emulator import SystemClock

from .client import Client
from .versions import current_versions


def clock() -> Any:
    """The add-on's clock (``RAKUTEN_CLOCK``: a simulated one in tests and the benchmark)."""
    found = current_app.config.get("RAKUTEN_CLOCK") if has_app_context() else None
    return found or SystemClock()


def client_from_settings(settings: dict[str, Any], shop_id: int | None = None, **options: Any) -> Client:
    options.setdefault("sleep", clock().sleep)
    return Client(settings.get("login") or "", settings.get("token") or "", current_versions(),
                  base_url=settings.get("api_base_url"), shop_id=shop_id, **options)


def client_for(shop: Any, **options: Any) -> Client:
    return client_from_settings(shop.addon_settings("rakuten"), shop_id=shop.id, **options)
