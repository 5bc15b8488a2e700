"""The add-on contract: what each kind of add-on implements.

A manifest's ``kind`` says which contract the add-on keeps. The loader checks it at start
(``missing_hooks``); the catalog and ``oms addons check`` show the gaps. The Protocol classes
below are the typed form of each contract, for partners' type checkers; the hooks and their
arguments are documented one by one in docs/hooks.md.
"""
from __future__ import annotations

from typing import Any, Protocol

from flask_wtf import FlaskForm

from .types import ConnectionResult, Label, Rate, RoutingDecision, Sandbox, StockChange


class Addon(Protocol):
    """Every add-on: a settings form, a connection test and an emulator of its remote API."""

    def register_settings_form(self) -> type[FlaskForm]: ...

    def connection_test(self, shop: Any, settings: dict[str, Any]) -> ConnectionResult: ...

    def register_sandbox(self) -> Sandbox: ...


class SalesChannel(Addon, Protocol):
    """``kind: "channel"`` — a marketplace or a shop front.

    * import orders since a cursor: ``channel_sync_job`` names the job; the job builds
      ``NormalizedOrder`` pages and hands them to ``core.intake.ingest_many``, then advances
      ``Shop.sync_cursor`` after commit;
    * push stock: ``stock_available_changed``;
    * push tracking: ``shipping_shipment_shipped``;
    * cancel (and any status the channel must hear of): ``order_status_changed``;
    * accept or refuse, where the channel asks for it: ``channel_order_decision``;
    * the remote API version it speaks: the manifest's ``api_version``.
    """

    def channel_sync_job(self, shop: Any) -> str: ...

    def stock_available_changed(self, shop: Any, changes: list[StockChange]) -> None: ...

    def shipping_shipment_shipped(self, shop: Any, order: Any, shipment: Any) -> None: ...

    def order_status_changed(self, shop: Any, order: Any, old: Any, new: Any) -> None: ...


class Carrier(Addon, Protocol):
    """``kind: "carrier"`` — methods and rates, labels, cancellation, tracking."""

    def shipping_quote_rates(self, shop: Any, order: Any, parcels: list[dict[str, Any]]) -> list[Rate]: ...

    def shipping_create_label(self, shop: Any, order: Any, shipment: Any) -> Label | None: ...

    def shipping_cancel_label(self, shop: Any, shipment: Any) -> bool | None: ...

    def shipping_track(self, shop: Any, shipment: Any) -> str | None: ...


class FulfilmentSource(Addon, Protocol):
    """``kind: "fulfilment"`` — somebody else serves some lines (a dropship supplier, a store):
    it answers routing for those lines and hears when the order moves on."""

    def routing_choose_source(self, shop: Any, order: Any, line: Any) -> RoutingDecision | None: ...

    def order_status_changed(self, shop: Any, order: Any, old: Any, new: Any) -> None: ...


CONTRACTS: dict[str, type] = {"channel": SalesChannel, "carrier": Carrier, "fulfilment": FulfilmentSource}
_BASE = {"register_settings_form", "connection_test", "register_sandbox"}
REQUIRED: dict[str, set[str]] = {
    "channel": _BASE | {"channel_sync_job", "stock_available_changed", "shipping_shipment_shipped",
                        "order_status_changed"},
    "carrier": _BASE | {"shipping_quote_rates", "shipping_create_label", "shipping_cancel_label", "shipping_track"},
    "fulfilment": _BASE | {"routing_choose_source", "order_status_changed"},
    "tool": set(),
}


def missing_hooks(kind: str, plugin: object) -> list[str]:
    """The hooks an add-on of ``kind`` must implement and ``plugin`` (its hooks module) lacks."""
    return sorted(name for name in REQUIRED.get(kind, set())
                  if not callable(getattr(plugin, name, None)) or not hasattr(getattr(plugin, name), "oms_impl"))
