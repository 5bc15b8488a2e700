"""Emulator of a Shopify shop and its apps, speaking Shopify's wire formats.

* OAuth: ``GET /admin/oauth/authorize`` is the install screen (the app's name, the store,
  the requested scopes in words, "Installer l'application" and "Annuler"); installing posts
  it and redirects to the app's ``redirect_uri`` with ``code``, ``hmac``, ``host``, ``shop``,
  ``state`` and ``timestamp``, signed like Shopify (hex HMAC-SHA256 of the sorted query with
  the app's secret); cancelling redirects there with OAuth's ``error=access_denied``;
  ``POST /admin/oauth/access_token`` exchanges the code (``expiring=1`` gives a 3600 s token
  and a 90-day refresh token) and refreshes (``grant_type=refresh_token``, rotating both).
* Admin GraphQL ``POST /admin/api/{version}/graphql.json``: the operations the add-on uses,
  validated against a schema with Shopify's type names; ``X-Shopify-Access-Token``
  checked (401 with Shopify's body otherwise); a leaky bucket charged with the query's cost,
  ``extensions.cost`` on every answer and ``THROTTLED`` errors when the bucket is short;
  ``userErrors`` on refused mutations; ``@idempotent`` required on inventory mutations.
* An in-memory shop: products, variants, inventory items and levels per location, orders
  (online and POS), their payment transactions (Shopify Payments ones carry their
  processing fees), refunds and the returns they close, fulfillment orders, fulfillments,
  webhook subscriptions.
* Webhooks: every change is delivered to the subscribed URIs (and the app's compliance
  URI) signed like Shopify: ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body
  with the app secret), ``X-Shopify-Topic``, ``X-Shopify-Shop-Domain``,
  ``X-Shopify-Webhook-Id``, ``X-Shopify-Event-Id``, ``X-Shopify-API-Version``,
  ``X-Shopify-Triggered-At``.

The demo mounts it with :func:`demo_app`: the shop sells the demo merchant's catalogue and a
customer places an order every few seconds, the first one buying the catalogue's first and
newest products. ``GET /`` shows the shop's orders as its customers see them: status,
shipments and their tracking (the emulator's own page, not part of Shopify's API).

The demo mounts the platform (:func:`platform_app`): besides its own store, any
``*.myshopify.com`` store at ``/stores/{shop}``, created on its first install.

The emulator is five modules beside this one, which serves it over HTTP and holds the demo's
app: ``sandbox_base`` (credentials, limits, records, money and dates), ``sandbox_emulator``
(the shop's state and every change it makes), ``sandbox_resolvers`` (the Admin GraphQL API),
``sandbox_demo`` (the demo catalogue and its customers) and ``sandbox_platform`` (many
stores behind one address). Their public names are read here
(``sandbox.ShopifyEmulator``, ``sandbox.DEMO_TOKEN``…).
"""
from __future__ import annotations

import base64
import os
import threading
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, render_template_string, request

from core.connectors.emulator import EmulatorKit, ManualClock, mount_path  # noqa: F401 (ManualClock: the tests')

from .client import API_VERSION, DEFAULT_API_VERSION
from .graphql import TOPICS
from .oauth import query_hmac

# besides what this module uses, the names the add-on, its tests and the benchmarks read as
# ``sandbox.X`` (noqa: F401)
from .sandbox_base import (  # noqa: F401
    CODE_TTL,
    DEMO_API_KEY,
    DEMO_API_SECRET,
    DEMO_DOMAIN,
    DEMO_SHOP,
    DEMO_TOKEN,
    INVALID_TOKEN,
    MAX_QUERY_COST,
    MOUNT_PATH,
    PAYMENTS_FLAT,
    PAYMENTS_RATE,
    REFRESH_TTL,
    TOKEN_TTL,
    WEBHOOK_PATH,
    Delivery,
    http_sender,
)
from .sandbox_demo import Customers, demo_sku, seed_demo_catalog  # noqa: F401
from .sandbox_emulator import ShopifyEmulator
from .sandbox_platform import STORES_PATH, ShopifyPlatform
from .sandbox_resolvers import _num


# ----------------------------------------------------------------------------- WSGI app
def error_body(status: int) -> dict[str, Any]:
    """Shopify's body of an HTTP error (``{"errors": "..."}``), for the faults told on demand."""
    return {"errors": {429: "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                            "uninterrupted service."}.get(status, "Internal Server Error" if status >= 500 else
                                                              "Bad Request")}


def make_app(emulator: ShopifyEmulator | None = None, *, access_token: str | None = None,
             shop: dict[str, Any] | None = None, live: bool = False, order_interval: float = 1800.0,
             **options: Any) -> Flask:
    """The emulator as a WSGI app (``app.extensions["shopify"]`` is its state).

    ``live``: subscribe the demo app to every topic at the OMS it is mounted in and start a
    customer placing orders (the demo, see :func:`demo_app`)."""
    if emulator is None:
        if access_token is not None:
            options.setdefault("tokens", {access_token: DEMO_API_KEY})
        emulator = ShopifyEmulator(shop=shop, **options)
    emu = emulator
    app = Flask(__name__)
    app.config["CALLS"] = emu.calls
    app.extensions["shopify"] = emu
    EmulatorKit("shopify", calls=emu.calls, error_body=error_body).attach(app)

    learned = threading.Event()

    @app.before_request
    def _learn() -> None:
        if live and not learned.is_set():  # the OMS is where this emulator is mounted
            root = request.host_url.rstrip("/") + request.script_root.removesuffix(MOUNT_PATH)
            emu.default_webhook_uri = root + WEBHOOK_PATH
            learned.set()

    @app.post("/admin/api/<version>/graphql.json")
    def graphql(version: str):
        if not API_VERSION.match(version):
            return jsonify({"errors": "Not Found"}), 404
        if emu.failing:  # an outage on demand: 429 (with Retry-After) or a 5xx, as Shopify answers
            status = emu.failing
            headers = {"Retry-After": "1.0"} if status == 429 else {}
            return jsonify({"errors": "Throttled" if status == 429 else "Internal Server Error"}), status, headers
        answer, status = emu.execute(request.headers.get("X-Shopify-Access-Token"), request.get_json(silent=True),
                                     version)
        return jsonify(answer), status

    @app.route("/admin/oauth/authorize", methods=["GET", "POST"])
    def authorize():
        args = request.args if request.method == "GET" else request.form
        app_conf = emu.app(args.get("client_id", ""))
        redirect_uri = args.get("redirect_uri", "")
        if app_conf is None or not redirect_uri:
            return ("<h1>Oauth error invalid_request</h1><p>The client_id or redirect_uri is missing or "
                    "unknown.</p>"), 400
        if request.method == "GET":  # the merchant reads what the app asks for
            return consent_page(emu, app_conf, args)
        if request.form.get("action") != "install":
            return redirect(denied_location(emu, app_conf, redirect_uri, args.get("state", "")), 302)
        params = {"code": emu.issue_code(app_conf.client_id, args.get("scope", "")),
                  "host": base64.b64encode(f"admin.shopify.com/store/{emu.domain.split('.')[0]}".encode()).decode(),
                  "shop": emu.domain, "state": args.get("state", ""), "timestamp": str(int(emu.time()))}
        params["hmac"] = query_hmac(params, app_conf.secret)
        return redirect(f"{redirect_uri}?{urlencode(params)}", 302)

    @app.get("/")
    def storefront_orders():
        with emu.lock:
            orders = sorted(emu.orders.values(), key=lambda o: o["id"], reverse=True)[:100]
            rows = [{"name": o["name"], "created_at": o["created_at"], "email": o["email"],
                     "cancelled": bool(o["cancelled_at"]), "status": o["fulfillment_status"] or "unfulfilled",
                     "lines": [(li["quantity"], li["title"], li["sku"]) for li in o["line_items"]],
                     "fulfillments": list(o["fulfillments"])} for o in orders]
        return render_template_string(ORDERS_PAGE, shop=emu.shop, rows=rows)

    @app.post("/admin/oauth/access_token")
    def access_token_endpoint():
        form = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        answer, status = emu.exchange(form or {})
        return jsonify(answer), status

    if live:
        for topic in TOPICS:
            emu.subscribe(DEMO_API_KEY, topic, None)
        root = os.environ.get("OMS_PUBLIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
        emu.default_webhook_uri = root.rstrip("/") + WEBHOOK_PATH
        from core.demo import SEEDED_ORDERS

        emu.first_order_number = 1001 + SEEDED_ORDERS  # the demo's own orders are #1001…
        customers = Customers(emu, interval=order_interval, opening=opening_basket(emu))
        app.extensions["shopify_customers"] = customers
        customers.start()
    return app


# ----------------------------------------------------------------------------- the install screen
#: what each scope lets the app do, as Shopify's install screen says it (French, English)
SCOPE_WORDS = {
    "orders": ("les commandes", "orders"),
    "products": ("les produits", "products"),
    "inventory": ("le stock", "inventory"),
    "locations": ("les emplacements (entrepôts et magasins)", "locations (warehouses and stores)"),
    "merchant_managed_fulfillment_orders": ("les expéditions que vous gérez", "fulfillments you manage"),
    "returns": ("les retours", "returns"),
}


def scope_lines(scope: str, lang: str) -> list[str]:
    """The install screen's list of what the app asks for, in words."""
    lines = []
    for item in (s.strip() for s in scope.split(",") if s.strip()):
        verb, _, what = item.partition("_")
        words = SCOPE_WORDS.get(what)
        if words is None or verb not in ("read", "write"):
            lines.append(item)
            continue
        thing = words[0] if lang == "fr" else words[1]
        if lang == "fr":
            lines.append(("Voir et modifier " if verb == "write" else "Voir ") + thing)
        else:
            lines.append(("View and edit " if verb == "write" else "View ") + thing)
    return lines


def consent_page(emu: ShopifyEmulator, app_conf: Any, args: Any) -> str:
    lang = request.accept_languages.best_match(["fr", "en"]) or "fr"
    fields = {k: args.get(k, "") for k in ("client_id", "scope", "redirect_uri", "state")}
    return render_template_string(CONSENT_PAGE, lang=lang, shop=emu.shop, domain=emu.domain, app_name=app_conf.name,
                                  scopes=scope_lines(fields["scope"], lang), fields=fields)


def denied_location(emu: ShopifyEmulator, app_conf: Any, redirect_uri: str, state: str) -> str:
    """The merchant cancelled the install: back to the app with OAuth's ``access_denied``."""
    params = {"error": "access_denied", "error_description": "The merchant declined the installation.",
              "shop": emu.domain, "state": state, "timestamp": str(int(emu.time()))}
    params["hmac"] = query_hmac(params, app_conf.secret)
    return f"{redirect_uri}?{urlencode(params)}"


CONSENT_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ "Installer" if lang == "fr" else "Install" }} {{ app_name }} — {{ shop.name }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px system-ui,sans-serif;margin:0;background:#f1f1f1;color:#303030}
main{max-width:34rem;margin:2rem auto;background:#fff;border-radius:.75rem;padding:1.5rem;
box-shadow:0 1px 3px rgba(0,0,0,.15)}h1{font-size:1.25rem;margin:.2rem 0 1rem}small{color:#616161}
ul{padding-left:1.2rem;line-height:1.7}.actions{display:flex;gap:.75rem;justify-content:flex-end;flex-wrap:wrap;
margin-top:1.5rem}button{font:inherit;padding:.55rem 1rem;border-radius:.5rem;border:1px solid #8a8a8a;
background:#fff;cursor:pointer}button.primary{background:#303030;color:#fff;border-color:#303030}
@media (max-width:480px){main{margin:0;border-radius:0}.actions button{flex:1 1 100%}}</style></head>
<body><main data-shopify-consent>
<small>{{ shop.name }} · {{ domain }}</small>
{% if lang == "fr" %}<h1>Installer {{ app_name }} sur {{ shop.name }}</h1>
<p>Cette application demande à :</p>{% else %}<h1>Install {{ app_name }} on {{ shop.name }}</h1>
<p>This app is requesting to:</p>{% endif %}
<ul data-scopes>{% for line in scopes %}<li>{{ line }}</li>{% endfor %}</ul>
<form method="post">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<div class="actions">
<button type="submit" name="action" value="cancel">{{ "Annuler" if lang == "fr" else "Cancel" }}</button>
<button type="submit" name="action" value="install" class="primary">{{ "Installer l'application" if lang == "fr"
else "Install app" }}</button></div></form>
<p><small>{{ "Émulateur Shopify : l'écran d'installation d'une application." if lang == "fr"
else "Shopify emulator: an app's install screen." }}</small></p>
</main></body></html>"""


def opening_basket(emu: ShopifyEmulator) -> list[str]:
    """The first variant of the catalogue's first and newest products."""
    with emu.lock:
        products = sorted(emu.products.values(), key=lambda p: int(_num(p["id"])))
        firsts = [next((v["sku"] for v in emu.variants.values() if v["product"] == p["id"] and v["sku"]), None)
                  for p in (products[:1] + products[-1:] if len(products) > 1 else products)]
    return [sku for sku in firsts if sku]


ORDERS_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ shop.name }} — commandes</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px system-ui,sans-serif;margin:2rem;color:#202223}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e1e3e5;vertical-align:top}
.badge{padding:.1rem .5rem;border-radius:1rem;background:#e4e5e7}.fulfilled{background:#aee9d1}
.partial{background:#ffea8a}.cancelled{background:#fed3d1}small{color:#6d7175}</style></head>
<body><h1>{{ shop.name }}</h1>
<p><small>Émulateur Shopify : les commandes de la boutique telles que ses clients les suivent
(statut d'expédition, transporteur et numéro de suivi envoyés par l'OMS).</small></p>
<table><thead><tr><th>Commande</th><th>Client</th><th>Articles</th><th>Expédition</th><th>Suivi</th></tr></thead>
<tbody>{% for o in rows %}<tr data-order="{{ o.name }}">
<td><strong>{{ o.name }}</strong><br><small>{{ o.created_at }}</small></td><td>{{ o.email }}</td>
<td>{% for qty, title, sku in o.lines %}{{ qty }} × {{ title }} <small>{{ sku }}</small><br>{% endfor %}</td>
<td>{% if o.cancelled %}<span class="badge cancelled">Annulée</span>{% else %}
<span class="badge {{ o.status }}">{{ {"fulfilled": "Expédiée", "partial": "Expédiée en partie"}.get(o.status,
"Non expédiée") }}</span>{% endif %}</td>
<td>{% for f in o.fulfillments %}<div class="tracking">{{ f.tracking_company or "" }}
{% if f.tracking_url %}<a href="{{ f.tracking_url }}">{{ f.tracking_number }}</a>{% else %}{{ f.tracking_number or "—" }}{% endif %}
</div>{% endfor %}</td></tr>{% else %}<tr><td colspan="5">Aucune commande.</td></tr>{% endfor %}</tbody></table>
</body></html>"""


# ----------------------------------------------------------------------------- the platform (many stores)
#: what a new store takes from the platform's options (the first store's own data stays its own)
STORE_OPTIONS = ("time_fn", "monotonic", "sender", "token_ttl", "bucket_size", "restore_rate")


def platform_app(first: ShopifyEmulator | None = None, *, live: bool = False, order_interval: float = 1800.0,
                 **options: Any) -> Flask:
    """Shopify's platform of many stores (:mod:`.sandbox_platform`) as a WSGI app: the first
    store (``first``, or one built from ``options``) at ``/admin/…``, any other store at
    ``/stores/{shop}/admin/…``; ``app.extensions["shopify_platform"]`` holds them all.
    ``live``: the first store as in :func:`make_app`, and customers ordering on every store."""
    if first is None:
        first = ShopifyEmulator(**options)
    app = make_app(first, live=live, order_interval=order_interval)
    platform = ShopifyPlatform(first, app, make_app, customers_interval=order_interval if live else None,
                               **{k: v for k, v in options.items() if k in STORE_OPTIONS})
    app.extensions["shopify_platform"] = platform
    app.wsgi_app = platform.middleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def demo_app() -> Flask:
    """The emulator the demo mounts: Shopify's platform, its first store live (customers keep
    ordering), any new store installable."""
    return platform_app(live=True)


def stop_customers(app: Flask) -> None:
    """Stop every store's customers of a live platform app (the OMS app it is mounted in, or
    the platform app itself)."""
    mounted = app.extensions.get("oms_sandbox_apps", {}).get("shopify", app)
    for name in ("shopify_customers", "shopify_platform"):  # the first store's, then the others'
        running = mounted.extensions.get(name)
        if running is not None:
            running.stop()


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"shop_domain": DEMO_DOMAIN, "api_version": DEFAULT_API_VERSION, "access_token": DEMO_TOKEN,
            "api_key": DEMO_API_KEY, "api_secret": DEMO_API_SECRET, "api_base_url": base_url}


def installation(base_url: str) -> dict[str, str]:
    """The installation's Shopify configuration while the emulator runs: the OMS's public
    app is the demo app registered with the emulated platform, and every shop without an
    address of its own reaches its store on the platform."""
    return {"SHOPIFY_API_KEY": DEMO_API_KEY, "SHOPIFY_API_SECRET": DEMO_API_SECRET,
            "SHOPIFY_API_BASE_URL": base_url.rstrip("/") + STORES_PATH + "/{shop}"}


def load_demo(organization: Any, shops: list[Any], base_url: str) -> None:
    """The demo's Shopify shop holds its store as if it had installed the public app (whose
    secret signs the store's webhooks too)."""
    from core.connectors import ownership

    for shop in shops:
        if shop.addon == "shopify":
            try:
                ownership.claim("shopify", DEMO_DOMAIN, shop)
            except ownership.AccountClaimed:
                pass  # a second demo organization: the first one's shop holds the store
            break
