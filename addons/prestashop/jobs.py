"""PrestaShop's jobs: module-level functions taking ids. A retryable PrestaError escapes so the
job queue tries again later; a refused key also puts the shop in error with the reason, in
French, without switching its sync off. PrestaShop has no webhooks: orders are polled on
``date_upd``."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from core import stock
from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.intake import ingest_many
from core.models import ConnectionStatus, Order, Shipment, Shop, Variant, utcnow
from core.orders import shipped_quantity
from core.services import save_settings
from core.stock import sync_off

from . import mapping, slips
from .client import Client, PrestaError
from .models import PrestashopListing, PrestashopState, PrestashopTracking
from core.i18n import _, joined

ADDON = "prestashop"
DEFAULT_IMPORT_DAYS = 30
OVERLAP = timedelta(minutes=10)


def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(_("boutique %(shop_id)s introuvable", shop_id=shop_id))
    return shop


def client_for(shop: Shop, **options: Any) -> Client:
    sleep = current_app.config.get("PRESTASHOP_SLEEP")
    if sleep is not None:
        options.setdefault("sleep", sleep)
    return Client.from_settings(shop.addon_settings(ADDON), shop_id=shop.id, **options)


def settings_of(shop: Shop) -> tuple[int, str]:
    conf = shop.addon_settings(ADDON)
    return int(conf.get("id_shop") or 1), conf.get("timezone") or "Europe/Paris"


def state_of(shop: Shop) -> PrestashopState:
    state = db.session.get(PrestashopState, shop.id)
    if state is None:
        state = PrestashopState(shop_id=shop.id, order_states={})
        db.session.add(state)
        db.session.flush()
    return state


def load_states(shop: Shop, client: Client) -> dict[str, dict[str, Any]]:
    state = state_of(shop)
    if not state.order_states:
        rows = client.listing("order_states", {"display": "full"})
        state.order_states = {str(r["id"]): {k: r.get(k) for k in ("paid", "shipped", "delivery", "logable",
                                                                  "template", "name")} for r in rows}
    return state.order_states


def mark_error(shop_id: int, exc: PrestaError) -> None:
    db.session.rollback()
    shop = _shop(shop_id)
    row = shop.addon_row(ADDON)
    if row is not None:
        row.status, row.last_error, row.last_checked_at = ConnectionStatus.ERROR, str(exc), utcnow()
    shop.status, shop.last_error = ConnectionStatus.ERROR, str(exc)
    db.session.commit()


def _guarded(shop_id: int, work):
    shop = _shop(shop_id)
    client = client_for(shop)
    try:
        out = work(shop, client)
    except PrestaError as exc:
        if exc.credentials:
            mark_error(shop_id, exc)
        raise
    if client.switched_to_query:
        save_settings(shop, ADDON, {"key_in_query": True}, set())
    row = shop.addon_row(ADDON)
    if row is not None and row.status == ConnectionStatus.ERROR:
        row.status, row.last_error = ConnectionStatus.CONNECTED, None
        shop.status, shop.last_error = ConnectionStatus.CONNECTED, None
    db.session.commit()
    return out


def _by_ids(client: Client, resource: str, ids: set[str], cache: dict[str, dict[str, Any]]) -> None:
    missing = sorted(i for i in ids if i and i != "0" and i not in cache)
    for start in range(0, len(missing), 100):
        chunk = missing[start:start + 100]
        for row in client.listing(resource, {"display": "full", "filter[id]": "[" + "|".join(chunk) + "]"}):
            cache[str(row["id"])] = row


# ----------------------------------------------------------------------------- orders
def sync_orders(shop_id: int) -> str:
    """Import the orders updated since the cursor (minus the overlap), by ``date_upd`` in the
    shop's time zone with ``date=1``, oldest first, 100 a page; each page committed with its
    customers and addresses read in one call each, the cursor moved after the last page."""

    def work(shop: Shop, client: Client) -> str:
        id_shop, tz = settings_of(shop)
        days = int(shop.addon_settings(ADDON).get("import_days") or DEFAULT_IMPORT_DAYS)
        states = load_states(shop, client)
        countries = {str(r["id"]): r.get("iso_code", "") for page in client.pages(
            "countries", {"display": "[id,iso_code]", "filter[active]": "[1]"}) for r in page}
        currencies = {str(r["id"]): r.get("iso_code", "") for r in client.listing("currencies",
                                                                                  {"display": "[id,iso_code]"})}
        customers: dict[str, dict[str, Any]] = {}
        addresses: dict[str, dict[str, Any]] = {}

        def pages(since: datetime | None):
            start = since or utcnow() - timedelta(days=days)
            window = f"[{mapping.shop_param(start, tz)},{mapping.shop_param(utcnow() + timedelta(days=1), tz)}]"
            for page in client.pages("orders", {"display": "full", "filter[date_upd]": window, "date": "1",
                                                "sort": "[date_upd_ASC,id_ASC]", "id_shop": id_shop}):
                _by_ids(client, "customers", {str(o.get("id_customer")) for o in page}, customers)
                _by_ids(client, "addresses", {str(o.get(k)) for o in page for k in ("id_address_delivery",
                                                                                      "id_address_invoice")}, addresses)
                yield page

        def handle(page: list[dict[str, Any]]) -> None:
            ingest_many(shop, [mapping.normalize(o, customers=customers, addresses=addresses, countries=countries,
                                                 currencies=currencies, states=states, tz=tz) for o in page],
                        source="poll")

        def save(when: datetime) -> None:
            shop.sync_cursor, shop.last_sync_at = when.isoformat(), utcnow()

        cursor = Cursor(load=lambda: datetime.fromisoformat(shop.sync_cursor) if shop.sync_cursor else None,
                        save=save)
        result = Poller(cursor, pages, handle, db.session.commit, overlap=OVERLAP, now=utcnow).run()
        out = _("%(items)s commande(s) lue(s) sur %(pages)s page(s)", items=result.items, pages=result.pages)
        return joined(" ; ", [out, read_slips(shop, client)])

    return _guarded(shop_id, work)


def read_slips(shop: Shop, client: Client) -> str:
    """The credit slips after the orders (see ``slips``). A key without the ``order_slip``
    right leaves the orders' sync and the shop's connection alone: the reason is kept and
    shown on the shop's page, and the slips are read once the right is given."""
    id_shop, tz = settings_of(shop)
    days = int(shop.addon_settings(ADDON).get("import_days") or DEFAULT_IMPORT_DAYS)
    state = state_of(shop)
    try:
        counts = slips.read(shop, client, state, tz=tz, id_shop=id_shop, first_days=days, now=utcnow)
    except PrestaError as exc:
        if not (exc.not_granted or exc.status == 403):
            raise
        db.session.rollback()
        state = state_of(_shop(shop.id))
        state.slip_error = str(exc)
        db.session.commit()
        return "avoirs non lus : " + str(exc)
    return slips.summary(counts)


def sync_slips(shop_id: int) -> str:
    """The credit slips alone (the orders' sync reads them after the orders)."""
    return _guarded(shop_id, read_slips)


def _change_state(client: Client, order_ext: str, state_id: str) -> bool:
    """``POST /api/order_histories?sendemail=1`` (the customer gets PrestaShop's e-mail), unless
    the order is already in that state (an earlier attempt whose answer was lost)."""
    current = client.one("orders", order_ext)
    if str(current.get("current_state")) == str(state_id):
        return False
    client.post("order_histories", "order_history", {"id_order": order_ext, "id_order_state": state_id},
                params={"sendemail": 1})
    return True


def cancel_order(shop_id: int, order_id: int) -> str:
    def work(shop: Shop, client: Client) -> str:
        order = db.session.get(Order, order_id)
        cancelled = mapping.find_state(load_states(shop, client), "order_canceled")
        if cancelled is None:
            raise PrestaError(_("La boutique n'a pas d'état « Annulé » : annulez la commande dans PrestaShop."),
                              message_en="The shop has no \"Canceled\" state: cancel the order in PrestaShop.",
                              retryable=False)
        sent = _change_state(client, order.external_id, cancelled)
        return f"{order.number} " + ("annulée dans PrestaShop" if sent else "déjà annulée dans PrestaShop")

    return _guarded(shop_id, work)


# ----------------------------------------------------------------------------- tracking
def push_tracking(shop_id: int, shipment_id: int) -> str:
    """The order carrier's tracking number (``PUT /api/order_carriers/{id}``, the whole object
    sent back), then, once every line has left, the "Expédié" state with ``sendemail=1`` so the
    customer receives PrestaShop's shipping e-mail with the tracking link."""

    def work(shop: Shop, client: Client) -> str:
        shipment = db.session.get(Shipment, shipment_id)
        order = shipment.order
        done = db.session.scalar(select(PrestashopTracking).where(PrestashopTracking.shop_id == shop.id,
                                                                  PrestashopTracking.shipment_id == shipment.id))
        if done is None:
            done = PrestashopTracking(shop_id=shop.id, shipment_id=shipment.id)
            db.session.add(done)
        number = shipment.tracking_number or ""
        carriers = client.listing("order_carriers", {"display": "full", "filter[id_order]": f"[{order.external_id}]"})
        if not carriers:
            raise PrestaError(_("La commande %(number)s n'a pas de transporteur dans PrestaShop : le suivi ne "
                                "peut pas y être ajouté.", number=order.number), message_en=f"Order {order.number} has no carrier in PrestaShop: "
                              "the tracking cannot be added.", retryable=False)
        carrier = carriers[0]
        numbers = [n for n in str(carrier.get("tracking_number") or "").split(", ") if n]
        if number and number not in numbers:  # a PUT sets the value: resending it is harmless
            client.put("order_carriers", carrier["id"], "order_carrier",
                       mapping.order_carrier_update(carrier, ", ".join(numbers + [number])))
        done.order_carrier_id = int(carrier["id"])
        db.session.commit()
        if all(shipped_quantity(ln) >= ln.quantity for ln in order.lines) and not done.state_sent:
            shipped = mapping.find_state(load_states(shop, client), "shipped")
            if shipped is not None:
                _change_state(client, order.external_id, shipped)
            done.state_sent = True
        return f"{order.number} : suivi {number}" + (", état « Expédié » envoyé" if done.state_sent else "")

    return _guarded(shop_id, work)


# ----------------------------------------------------------------------------- catalog and stock
def import_catalog(shop_id: int) -> str:
    """Products and combinations (matched by reference, then EAN-13) and their stock_available
    rows of this shop (``filter[id_shop]``)."""

    def work(shop: Shop, client: Client) -> str:
        id_shop, _tz = settings_of(shop)
        products = {str(p["id"]): p for page in client.pages("products", {"display": "[id,reference,ean13,name]"})
                    for p in page}
        combos = [c for page in client.pages("combinations", {"display": "[id,id_product,reference,ean13]"})
                  for c in page]
        stocks = {(str(s["id_product"]), str(s["id_product_attribute"])): s["id"] for page in client.pages(
            "stock_availables", {"display": "[id,id_product,id_product_attribute,id_shop]",
                                 "filter[id_shop]": f"[{id_shop}]"}) for s in page}
        with_combos = {str(c["id_product"]) for c in combos}
        found = [(int(p["id"]), 0, p.get("reference") or "", p.get("ean13") or "", mapping.lang(p.get("name")))
                 for pid, p in products.items() if pid not in with_combos]
        found += [(int(c["id_product"]), int(c["id"]), c.get("reference") or "", c.get("ean13") or "",
                   mapping.lang(products.get(str(c["id_product"]), {}).get("name"))) for c in combos]
        rows = {(r.id_product, r.id_product_attribute): r for r in db.session.scalars(select(PrestashopListing).where(
            PrestashopListing.shop_id == shop.id))}
        skus = {f[2] for f in found if f[2]}
        eans = {f[3] for f in found if f[3]}
        by_sku = dict(db.session.execute(select(Variant.sku, Variant.id).where(
            Variant.organization_id == shop.organization_id, Variant.sku.in_(skus or {""}))).all())
        by_ean = dict(db.session.execute(select(Variant.barcode, Variant.id).where(
            Variant.organization_id == shop.organization_id, Variant.barcode.in_(eans or {""}))).all())
        matched = 0
        for pid, aid, ref, ean, title in found:
            row = rows.pop((pid, aid), None) or PrestashopListing(shop_id=shop.id, id_product=pid,
                                                                  id_product_attribute=aid)
            db.session.add(row)
            row.sku, row.barcode, row.title = ref[:255], ean or None, title[:500]
            sa_id = stocks.get((str(pid), str(aid)))
            row.stock_available_id = int(sa_id) if sa_id else None
            row.variant_id = by_sku.get(ref) or (by_ean.get(ean) if ean else None) or row.variant_id
            matched += row.variant_id is not None
        for row in rows.values():
            db.session.delete(row)
        state_of(shop).catalog_synced_at = utcnow()
        return _("%(found)s article(s) PrestaShop, %(matched)s relié(s) au catalogue",
                 found=len(found), matched=matched)

    return _guarded(shop_id, work)


def push_stock(shop_id: int, variant_ids: list[int]) -> str:
    """Each variant's sellable figure to its stock_available: read, the quantity changed, the
    whole object put back with ``id_shop`` (the webservice has no bulk stock call)."""

    if off := sync_off(_shop(shop_id)):
        return off

    def work(shop: Shop, client: Client) -> str:
        if state_of(shop).catalog_synced_at is None:
            db.session.commit()
            import_catalog(shop_id)
        return push_stock_with(_shop(shop_id), client_for(_shop(shop_id)), variant_ids)

    return _guarded(shop_id, work)


def push_stock_with(shop: Shop, client: Client, variant_ids: list[int]) -> str:
    id_shop, _tz = settings_of(shop)
    figures = stock.available_to_sell(shop, variant_ids)
    rows = db.session.scalars(select(PrestashopListing).where(
        PrestashopListing.shop_id == shop.id, PrestashopListing.variant_id.in_(list(figures) or [0]))
        .order_by(PrestashopListing.id)).all()
    pushed, failed = 0, []
    for row in rows:
        if row.stock_available_id is None:
            row.push_error = "pas de ligne de stock dans cette boutique"
            failed.append(f"{row.sku} : {row.push_error}")
            continue
        try:
            current = client.one("stock_availables", row.stock_available_id)
            client.put("stock_availables", row.stock_available_id, "stock_available",
                       mapping.stock_update(current, figures[row.variant_id], id_shop))
        except PrestaError as exc:
            if exc.retryable or exc.credentials:
                raise
            row.push_error = str(exc)
            failed.append(f"{row.sku} : {exc}")
            continue
        row.pushed_quantity, row.push_error = figures[row.variant_id], None
        pushed += 1
        db.session.commit()
    if failed:
        return _("%(pushed)s stock(s) envoyé(s) ; refusés : %(items)s", pushed=pushed, items=" ; ".join(failed))
    return _("%(pushed)s stock(s) envoyé(s)", pushed=pushed)


def reconcile_stock(shop_id: int) -> str:
    shop = _shop(shop_id)
    if off := sync_off(shop):
        return off
    ids = sorted({v for v in db.session.scalars(select(PrestashopListing.variant_id).where(
        PrestashopListing.shop_id == shop.id, PrestashopListing.variant_id.is_not(None)))})
    return push_stock(shop_id, ids) if ids else "rien à comparer"
