"""Every hook core offers to add-ons. Documented one by one in docs/hooks.md.

Implementations take only the arguments they use. Hooks grow by adding arguments, never by
changing them (see docs/hooks.md, "Versioning"). Hooks fired for a shop are called only on
the add-ons enabled for that shop (``core.addons.call``).
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("oms")


# ============================================================================ intake
@hookspec(firstresult=True)
def intake_normalize_order(shop, payload):
    """Turn a channel's raw order payload into a ``core.types.NormalizedOrder``.

    Fires when an order payload reaches core (webhook delivery, poll, manual import).

    :param shop: the ``Shop`` the payload came from.
    :param payload: the decoded remote payload (dict).
    :return: a ``NormalizedOrder``, or None if this add-on does not handle the payload.
    Stops at the first non-None result.
    """


@hookspec
def intake_order_received(shop, order, created):
    """An order has been stored (created or updated) and committed to the session.

    :param shop: the ``Shop`` the order came from.
    :param order: the ``Order`` row.
    :param created: True the first time, False on an update.
    :return: nothing.
    """


# ============================================================================ routing
@hookspec(firstresult=True)
def routing_choose_source(shop, order, line):
    """Choose where one order line is served from.

    Fires for each line of an order being routed; core's default (``trylast``) picks an own
    warehouse. A dropship or POS add-on answers for the lines it serves.

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param line: the ``OrderLine`` to route.
    :return: a ``core.types.RoutingDecision``. Stops at the first non-None result.
    """


# ============================================================================ costs
@hookspec(firstresult=True)
def cost_of_line(shop, order, line):
    """The unit cost of an order line, when an add-on knows it better than the variant's cost
    price (a dropship supplier's price for a line it served). Analytics and margins ask it.

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param line: the ``OrderLine``.
    :return: a ``core.money.Money`` (unit cost, with its currency), or None to let the
        variant's cost price apply. Stops at the first non-None result.
    """


# ============================================================================ stock
@hookspec
def stock_available_changed(shop, changes):
    """The sellable quantity of some SKUs changed for this shop: push them to the channel.

    Fires after commit, with changes coalesced per shop (one entry per SKU, final figure).

    :param shop: the ``Shop`` whose channel should be updated.
    :param changes: a list of ``core.types.StockChange``.
    :return: nothing. Enqueue the remote call; do not call the network here.
    """


# ============================================================================ orders
@hookspec
def order_status_changed(shop, order, old, new):
    """An order moved from status ``old`` to ``new`` (``OrderStatus`` values).

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param old: the previous ``OrderStatus``.
    :param new: the new ``OrderStatus``.
    :return: nothing.
    """


@hookspec
def order_refund_recorded(shop, order, ret):
    """The merchant recorded a refund in the OMS (a return's refund, or a refund without
    return): channels where the seller refunds through the marketplace send it there.

    Does not fire for refunds a channel add-on imported itself (``core.returns.import_channel_return``).

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param ret: the ``Return`` carrying ``refund_amount`` and its lines (none for a refund
        without return).
    :return: nothing. Enqueue the remote call.
    """


@hookspec
def channel_order_decision(shop, order, accepted, reason):
    """Core has decided whether the merchant takes a new order: channels that make the seller
    accept or refuse each order (Mirakl-based marketplaces such as Fnac Darty, Cdiscount)
    report it; others ignore it.

    Fires once per order: ``accepted=True`` when the order is first allocated (or handed over
    in store), ``accepted=False`` when the merchant cancels an order never accepted.

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param accepted: True to accept, False to refuse.
    :param reason: a short French reason (shown to the marketplace where it asks for one).
    :return: nothing. Enqueue the remote call.
    """


# ============================================================================ shipping
@hookspec
def shipping_quote_rates(shop, order, parcels):
    """Offer shipping rates for an order.

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param parcels: a list of dicts ``{"weight_grams": int, "length_cm", "width_cm", "height_cm"}``.
    :return: a list of ``core.types.Rate`` (all add-ons' lists are gathered).
    """


@hookspec(firstresult=True)
def shipping_create_label(shop, order, shipment):
    """Create the carrier label for a shipment.

    Core's default (``trylast``) is the manual carrier: the merchant types the tracking
    number, so it returns None and the shipment stays a draft until then. Fired by
    ``core.shipping.fetch_label`` once the shipment is committed and the attempt counted
    (``shipment.label_attempts``); the label is committed before the parcel leaves. Key the
    carrier's idempotency on the shipment's id: with ``label_attempts > 1`` an earlier attempt
    may have reached the carrier, so look it up first.

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param shipment: the ``Shipment`` (carrier, service, weight filled in).
    :return: a ``core.types.Label``. Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def shipping_cancel_label(shop, shipment):
    """Cancel a shipment's label with its carrier.

    :param shop: the order's ``Shop``.
    :param shipment: the ``Shipment`` to cancel.
    :return: True when cancelled. Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def shipping_track(shop, shipment):
    """Ask the carrier where a shipment is (the fallback when its status webhooks are silent).

    Core asks every hour about each parcel on its way that its carrier has said nothing of
    for six hours (webhook or poll: ``core.shipping.update_from_carrier``), for 30 days after
    it left, and moves the shipment (and the order, once every parcel is delivered) on.

    :param shop: the order's ``Shop``.
    :param shipment: the ``Shipment`` (carrier, tracking number, external id).
    :return: a ``ShipmentStatus`` value (``in_transit``, ``delivered``, ``exception``…), or None
        when this add-on does not carry it. Stops at the first non-None result.
    """


@hookspec
def shipping_shipment_shipped(shop, order, shipment):
    """A shipment left the warehouse: channels send the tracking to the marketplace.

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param shipment: the ``Shipment`` with carrier, tracking number and URL.
    :return: nothing. Enqueue the remote call.
    """


@hookspec
def shipping_shipment_cancelled(shop, order, shipment):
    """A shipment was cancelled before it left (its label cancelled with the carrier).

    Core's default puts the order back in its pick wave, ready to be packed again.

    :param shop: the order's ``Shop``.
    :param order: the ``Order``.
    :param shipment: the cancelled ``Shipment``.
    :return: nothing.
    """


@hookspec
def shipping_search_pickup_points(shop, order, query):
    """Relay points or lockers of a carrier's network near an address, for the merchant who
    changes the point an order is delivered to (order page, ``core.pickup``).

    :param shop: the order's ``Shop``.
    :param order: the ``Order`` (its parcel's weight and country help the carrier filter).
    :param query: a dict ``{"postal_code", "city", "country", "network"}``; ``network`` empty
        for every network, else only that one's add-on answers.
    :return: a list of ``core.types.NormalizedPickupPoint`` (with ``opening_hours``), or None
        when this add-on runs no pick-up network. All add-ons' lists are gathered; a network
        that cannot be reached raises a ``core.connectors.RemoteError``.
    """


# ============================================================================ wiring
@hookspec
def register_blueprints(app):
    """Contribute Flask blueprints (views and their templates) at start-up.

    :param app: the Flask app being built.
    :return: a list of ``flask.Blueprint``.
    """


@hookspec(firstresult=True)
def register_settings_form():
    """The add-on's settings form, rendered by the catalog's "Configurer" page.

    Called on one add-on at a time. ``PasswordField`` values are stored encrypted and never
    shown again.

    :return: a ``flask_wtf.FlaskForm`` subclass. Stops at the first non-None result.
    """


@hookspec
def register_cron_jobs():
    """Recurring jobs the scheduler runs (besides each shop's periodic sync).

    :return: a list of ``core.types.CronJob``.
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``oms`` CLI.

    :param cli: the ``oms`` click group.
    :return: nothing.
    """


@hookspec(firstresult=True)
def connection_test(shop, settings):
    """Check the add-on can reach its remote service with these settings ("Tester la connexion").

    Called on one add-on at a time, from a request or the CLI: the only wiring hook allowed
    to call the network (with a short timeout).

    :param shop: the ``Shop`` being configured.
    :param settings: the add-on's settings for this shop, secrets decrypted.
    :return: a ``core.types.ConnectionResult``. Stops at the first non-None result.
    """


@hookspec
def shop_diagnose(shop):
    """What the add-on checks of a shop for its diagnostic ("Diagnostic" on the shop's page,
    ``oms shops diagnose N``), after core's own checks (connection, last import, stock sync,
    held orders, unknown SKUs): what is wrong, in the merchant's words, and where it is fixed.

    Called on the add-ons enabled for the shop, from a request or the CLI, when the merchant
    asks. Like ``connection_test``, it may make short, harmless read calls to its remote
    (Amazon: the seller's marketplace participations, the orders past the cursor), each
    bounded by ``core.diagnostics.REMOTE_TIMEOUT``; it writes nothing. The lines every
    channel shares (credentials' expiry, orders the remote has and the OMS has not, webhook
    subscriptions and deliveries, listings and products unmatched) are built by
    ``core.diagnostics``' helpers. An add-on that raises is isolated, and the diagnostic says
    a check could not run.

    :param shop: the ``Shop`` being diagnosed (answer only for your own channel's shops).
    :return: a list of ``core.diagnostics.Check`` (level ok | warn | error, title, detail,
        fix_url, fix_label), or None when the add-on has nothing to check. All add-ons' lists
        are gathered.
    """


@hookspec
def product_channel_actions(shop, product):
    """Where ``product`` stands on ``shop``, and what can be done there (Shopify's
    "Publier", Amazon's listing status), for the product page.

    Called for every shop of the product's organization, on the add-ons enabled for it.

    :param shop: the ``Shop``.
    :param product: the ``Product``.
    :return: a list of ``core.types.ChannelAction`` (or None when the add-on has nothing to say).
    """


@hookspec
def collect_alerts(organization, now):
    """What needs the merchant, in the add-on's own area (the bell and the daily digest).

    Called for the whole organization, on every loaded add-on: look only at the
    organization's own rows.

    :param organization: the ``Organization``.
    :param now: the current time (UTC).
    :return: a list of ``core.alerts.Alert`` (kind, severity error|warning|info, title,
        detail, endpoint and args of the page where it is fixed, the button's words).
    """


@hookspec(firstresult=True)
def channel_account_key(shop, settings):
    """Which remote account these settings connect to, so one organization cannot connect
    the same account twice (every order imported twice, stock reserved twice).

    Called on the shop's own channel add-on when its settings are saved.

    :param shop: the ``Shop`` being configured.
    :param settings: the settings about to be stored, secrets decrypted.
    :return: a stable string naming the account (Shopify: the shop domain; a Mirakl shop:
        instance and shop id…), or a list of them where one account can be split between
        shops (Amazon: one ``seller:marketplace`` per marketplace, so two shops of one seller
        on different marketplaces are fine, on the same one are not); ``None`` when the
        settings do not name one yet. Two shops sharing any string are the same account.
        Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def channel_sync_job(shop):
    """The job that pulls a shop's changes (orders since the cursor) on its schedule.

    Called on the shop's own channel add-on.

    :param shop: the ``Shop``.
    :return: the dotted path of a job function taking ``shop_id``. Stops at the first non-None result.
    """


@hookspec
def register_sandbox():
    """The add-on's emulator of its remote API, for tests and the demo.

    :return: a ``core.types.Sandbox``.
    """


@hookspec
def register_catalog_entries():
    """The catalog cards an add-on offers when one add-on serves several remotes (a Mirakl
    connector: one card per marketplace operator). Without it, an add-on has one card, its
    own. Called on each request of the catalog page (keep it to reading data).

    :return: a list of ``core.types.CatalogEntry`` (the add-on's cards), or None for one card.
    """
