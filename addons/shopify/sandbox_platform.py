"""Shopify as a platform of many stores, as the demo mounts it.

Behind ``https://{shop}/admin/...`` Shopify serves every store at its own host; the emulator
serves them under one base URL: ``{base}/stores/{shop}/admin/...`` is the store ``{shop}``
(its OAuth and Admin API at the same paths as on Shopify), and ``{base}/admin/...`` is the
platform's first store (the demo's own). The OMS reaches a store through
``SHOPIFY_API_BASE_URL = {base}/stores/{shop}``, the installation's setting; with no such
setting it calls ``https://{shop}`` as always.

The apps registered with the platform (client id, secret, name) are the same for every
store. Any ``*.myshopify.com`` store exists as soon as a merchant opens an app's install
screen on it: a new, small store, like a development store, selling a few products of the
demo catalogue (with their SKUs).
"""
from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from flask import Flask

from .client import SHOP_DOMAIN
from .sandbox_demo import Customers, demo_catalog
from .sandbox_emulator import ShopifyEmulator

STORES_PATH = "/stores"
#: the products a new store sells
DEV_STORE_PRODUCTS = 3
AUTHORIZE = "/admin/oauth/authorize"
#: ids each store draws from before the next store's (Shopify's ids are unique across stores)
STORE_IDS = 1_000_000

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def store_name(domain: str) -> str:
    """``atelier-bleu.myshopify.com`` → ``Atelier Bleu``."""
    return " ".join(w.capitalize() for w in domain.split(".", 1)[0].split("-") if w) or domain


class ShopifyPlatform:
    """Every store the platform serves (thread-safe), by domain; the first one is given."""

    def __init__(self, first: ShopifyEmulator, first_app: Flask, make_app: Callable[[ShopifyEmulator], Flask], *,
                 customers_interval: float | None = None, **options: Any) -> None:
        self.first = first
        self.make_app = make_app
        self.options = options  # a new store's clock, webhook sender…
        self.customers_interval = customers_interval
        self.lock = threading.Lock()
        self.stores: dict[str, ShopifyEmulator] = {first.domain: first}
        self.apps: dict[str, Flask] = {first.domain: first_app}
        self.customers: dict[str, Customers] = {}

    def store(self, domain: str) -> ShopifyEmulator | None:
        with self.lock:
            return self.stores.get(domain)

    def open_store(self, domain: str) -> ShopifyEmulator:
        """The store of this domain, created (with a few products) the first time."""
        with self.lock:
            found = self.stores.get(domain)
            if found is not None:
                return found
            emu = ShopifyEmulator(domain=domain, shop={**self.first.shop, "name": store_name(domain),
                                                       "myshopifyDomain": domain},
                                  tokens={}, catalog=None, first_id=STORE_IDS * len(self.stores) + 1001,
                                  **self.options)
            emu.apps = self.first.apps  # the platform's apps, registered once for every store
            emu.default_webhook_uri = self.first.default_webhook_uri
            seed_dev_store(emu, DEV_STORE_PRODUCTS)
            self.stores[domain] = emu
            self.apps[domain] = self.make_app(emu)
        if self.customers_interval is not None:
            customers = Customers(emu, interval=self.customers_interval, burst=0)
            self.customers[domain] = customers
            customers.start()
        return emu

    def stop(self) -> None:
        for customers in list(self.customers.values()):
            customers.stop()

    # ------------------------------------------------------------------ WSGI
    def middleware(self, first_wsgi: WSGIApp) -> WSGIApp:
        """``/stores/{shop}/…`` to that store, anything else to the first store."""

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO") or ""
            if not path.startswith(STORES_PATH + "/"):
                return first_wsgi(environ, start_response)
            domain, _, rest = path[len(STORES_PATH) + 1:].partition("/")
            domain, rest = domain.lower(), "/" + rest
            with self.lock:
                app = self.apps.get(domain)
            if app is None and SHOP_DOMAIN.match(domain) and rest == AUTHORIZE and self._known_app(environ):
                self.open_store(domain)
                with self.lock:
                    app = self.apps[domain]
            if app is None:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"errors":"Not Found"}']
            environ = {**environ, "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + f"{STORES_PATH}/{domain}",
                       "PATH_INFO": rest}
            return app(environ, start_response)

        return dispatch

    def _known_app(self, environ: dict[str, Any]) -> bool:
        client_id = (parse_qs(environ.get("QUERY_STRING") or "").get("client_id") or [""])[0]
        return self.first.app(client_id) is not None


def seed_dev_store(emu: ShopifyEmulator, count: int) -> None:
    """A new store: an online warehouse and ``count`` products of the demo catalogue (which
    ones depends on the domain, so two stores differ), each variant with 12 in stock."""
    online = emu.add_location("Entrepôt", online=True)
    entries = demo_catalog()
    start = zlib.crc32(emu.domain.encode()) % len(entries)
    for title, description, variants in (entries[(start + i) % len(entries)] for i in range(count)):
        emu.add_product(title, [{**v, "stock": {online: 12}} for v in variants], description=description)
