"""The merchant's pages of the order pipeline: order list filters and bulk actions, order
actions (transitions, cancellation, SKU mapping, re-run), stock levels, adjustments and
movements, routing rules, pools and channel rules, the exceptions view, the plan quota
banner, error pages, and tenant isolation on every new route."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import orders as order_flow
from core import stock
from core.extensions import db
from core.intake import ingest
from core.jobs import run_pending
from core.models import (
    ChannelStockRule,
    ConnectionStatus,
    Order,
    OrderStatus,
    OutboxJob,
    Plan,
    Role,
    RoutingRule,
    Shop,
    StockLevel,
    StockMovement,
    StockPool,
    SyncLog,
    SyncStatus,
    WarehouseKind,
    utcnow,
)
from tests.fixtures import FAKE_ADDONS, csrf_token
from tests.pipeline_helpers import norm, variant, warehouse


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture
def shop(shop_factory):
    return shop_factory("beta", "Boutique A")


@pytest.fixture
def wh(org):
    w = warehouse(org.id, "PAR", priority=1)
    db.session.commit()
    return w


def text(res) -> str:
    return html.unescape(res.get_data(as_text=True))


def order_of(shop, ext: str, lines, **kw) -> Order:
    order = db.session.get(Order, ingest(shop, norm(ext, lines, **kw)).order_id)
    db.session.commit()
    return order


def fresh(model, ident):
    """The row as the last request left it (reloaded from the database)."""
    db.session.commit()
    return db.session.get(model, ident)


def run_jobs() -> None:
    while run_pending(now=utcnow() + timedelta(seconds=10)):
        pass


@pytest.fixture
def manager(client, login):
    """Signed in as the owner; ``manager(url, data)`` posts like the browser, with its CSRF token."""
    login(client, Role.OWNER)
    token = csrf_token(client, "/")

    def post(url: str, data: dict | None = None, follow: bool = True):
        return client.post(url, data={**(data or {}), "csrf_token": token}, follow_redirects=follow)

    return post


@pytest.fixture
def pipeline(org, shop, wh):
    """One of everything the new pages show."""
    v = variant(org.id, "MUG", {wh: 5})
    lyon = warehouse(org.id, "LYS", priority=2)
    db.session.commit()
    held = order_of(shop, "h1", [("AMZ-UNKNOWN", 1)])
    allocated = order_of(shop, "a1", [("MUG", 2)])
    rule = RoutingRule(organization_id=org.id, position=1, name="Belgique", countries=["BE"], warehouse_id=lyon.id)
    pool = StockPool(organization_id=org.id, name="Outlet", warehouses=[lyon])
    channel_rule = ChannelStockRule(organization_id=org.id, addon="beta", buffer=1)
    db.session.add_all([rule, pool, channel_rule])
    db.session.commit()
    return {"variant": v, "held": held, "allocated": allocated, "rule": rule, "pool": pool,
            "channel_rule": channel_rule, "lyon": lyon}


def page_urls(p) -> list[str]:
    return ["/orders", "/orders?exception=any&from=2026-11-01&to=2026-11-30&channel=beta&q=MUG&status=on_hold",
            "/orders?hold=unknown_sku", f"/orders/{p['held'].id}", f"/orders/{p['allocated'].id}",
            "/stock", "/stock?q=MUG", f"/stock/variants/{p['variant'].id}/movements",
            "/stock/routing", "/stock/routing/new", f"/stock/routing/{p['rule'].id}",
            "/stock/pools/new", f"/stock/pools/{p['pool'].id}",
            "/stock/channel-rules/new", f"/stock/channel-rules/{p['channel_rule'].id}", "/exceptions"]


# ----------------------------------------------------------------------------- roles
@pytest.mark.parametrize("role", ["owner", "staff"])
def test_pages_render_for_managers(client, login, pipeline, role):
    login(client, role)
    for url in page_urls(pipeline):
        res = client.get(url)
        assert res.status_code == 200, (url, res.status_code)
        assert "<html" in res.get_data(as_text=True)
    assert 'href="/exceptions"' in client.get("/").get_data(as_text=True)


def test_pages_forbidden_for_picker(client, login, pipeline):
    login(client, Role.PICKER)
    for url in page_urls(pipeline):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/preparation")
    order_id, rule_id = pipeline["allocated"].id, pipeline["rule"].id
    for url in ["/orders/bulk", f"/orders/{order_id}/cancel", f"/orders/{order_id}/status", "/stock/adjust",
                "/stock/push", "/stock/routing/rerun", f"/stock/routing/{rule_id}/delete",
                f"/stock/routing/{rule_id}/up", "/stock/pools/new"]:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    nav = client.get("/preparation").get_data(as_text=True)
    assert 'href="/exceptions"' not in nav
    assert fresh(RoutingRule, rule_id) is not None


# ----------------------------------------------------------------------------- orders
def test_order_filters(client, manager, org, shop, shop_factory, wh):
    variant(org.id, "MUG", {wh: 10})
    other = shop_factory("beta", "Boutique B")
    order_of(shop, "f1", [("MUG", 1)])
    order_of(other, "f2", [("MUG", 1)])
    order_of(shop, "f3", [("NOPE", 1)])
    listed = lambda q: text(client.get("/orders" + q))  # noqa: E731
    assert all(n in listed("") for n in ("#f1", "#f2", "#f3"))
    page = listed(f"?shop={other.id}")
    assert "#f2" in page and "#f1" not in page
    page = listed("?exception=on_hold")
    assert "#f3" in page and "#f1" not in page
    page = listed("?hold=unknown_sku")
    assert "#f3" in page and "#f2" not in page
    assert "#f1" in listed("?channel=beta") and "#f1" not in listed("?channel=alpha")
    assert "#f1" in listed("?from=2026-11-02&to=2026-11-02")  # placed 2 Nov 2026, 10:00 in Paris
    assert "#f1" not in listed("?from=2026-11-03") and "#f1" not in listed("?to=2026-11-01")
    assert "#f3" in listed("?q=NOPE") and "#f1" not in listed("?q=NOPE")


def test_bulk_cancel_releases_stock_and_reports_refusals(manager, org, shop, wh):
    v = variant(org.id, "MUG", {wh: 5})
    db.session.commit()
    a = order_of(shop, "b1", [("MUG", 2)])
    b = order_of(shop, "b2", [("MUG", 1)])
    order_flow.transition(b, OrderStatus.SHIPPED)
    db.session.commit()
    assert stock.level(v.id, wh.id).reserved == 3
    page = text(manager("/orders/bulk", {"action": "cancel", "ids": [a.id, b.id]}))
    assert "Indiquez la raison" in page and fresh(Order, a.id).status == OrderStatus.ALLOCATED
    page = text(manager("/orders/bulk", {"action": "cancel", "ids": [a.id, b.id], "reason": "client injoignable"}))
    assert "Annulées : #b1" in page
    assert "#b2 refusée : une commande expédiée ne peut pas passer à « annulée »" in page
    assert fresh(Order, a.id).status == OrderStatus.CANCELLED
    assert fresh(Order, b.id).status == OrderStatus.SHIPPED
    assert stock.level(v.id, wh.id) == stock.Level(5, 1)  # b2's units stay reserved (core ships them)
    event = [e for e in fresh(Order, a.id).events if e.kind == "status"][-1]
    assert "client injoignable" in event.message and event.user_id is not None


def test_bulk_picking_and_rerun(manager, org, shop, wh):
    v = variant(org.id, "MUG", {wh: 1})
    db.session.commit()
    a = order_of(shop, "p1", [("MUG", 1)])
    held = order_of(shop, "p2", [("MUG", 1)])
    fba = order_of(shop, "p3", [("MUG", 1)], fulfillment_channel="marketplace")
    assert held.hold_code == "backorder"
    page = text(manager("/orders/bulk", {"action": "picking", "ids": [a.id, held.id, fba.id]}))
    assert "En préparation : #p1" in page
    assert "#p2 refusée : seules les commandes allouées" in page
    assert "#p3 refusée : expédiée par la marketplace" in page
    assert fresh(Order, a.id).status == OrderStatus.PICKING
    assert fresh(Order, fba.id).status != OrderStatus.PICKING
    page = text(manager("/orders/bulk", {"action": "rerun", "ids": [held.id, a.id]}))
    assert "#p2 refusée : toujours en attente" in page and "#p1 refusée : elle n'est pas en attente" in page
    db.session.get(StockLevel, db.session.scalar(select(StockLevel.id).where(StockLevel.variant_id == v.id))).on_hand = 2
    db.session.commit()
    page = text(manager("/orders/bulk", {"action": "rerun", "ids": [held.id]}))
    assert "Reprises : #p2" in page and fresh(Order, held.id).status == OrderStatus.ALLOCATED


def test_order_page_transitions_and_refusal(client, manager, org, shop, wh):
    variant(org.id, "MUG", {wh: 5})
    db.session.commit()
    order = order_of(shop, "t1", [("MUG", 1)])
    page = text(client.get(f"/orders/{order.id}"))
    assert 'value="picking"' in page and 'value="cancelled"' not in page and 'value="delivered"' not in page
    page = text(manager(f"/orders/{order.id}/status", {"status": "delivered"}))
    assert "Refusé : une commande allouée ne peut pas passer à « livrée »" in page
    assert fresh(Order, order.id).status == OrderStatus.ALLOCATED
    manager(f"/orders/{order.id}/status", {"status": "picking"})
    assert fresh(Order, order.id).status == OrderStatus.PICKING
    page = text(manager(f"/orders/{order.id}/hold", {"reason": "adresse à vérifier"}))
    assert "Refusé : une commande en préparation ne peut pas passer à « en attente »" in page
    assert fresh(Order, order.id).status == OrderStatus.PICKING
    page = text(manager(f"/orders/{order.id}/cancel", {"reason": ""}))
    assert "Indiquez la raison" in page and fresh(Order, order.id).status == OrderStatus.PICKING
    manager(f"/orders/{order.id}/cancel", {"reason": "rupture fournisseur"})
    assert fresh(Order, order.id).status == OrderStatus.CANCELLED
    assert "rupture fournisseur" in text(client.get(f"/orders/{order.id}"))


def test_manual_hold_then_allocate_and_ship(client, manager, org, shop, wh):
    v = variant(org.id, "MUG", {wh: 5})
    db.session.commit()
    order = order_of(shop, "m1", [("MUG", 2)])
    manager(f"/orders/{order.id}/hold", {"reason": "adresse à vérifier"})
    held = fresh(Order, order.id)
    assert (held.status, held.hold_code, held.hold_reason) == (OrderStatus.ON_HOLD, "manual", "adresse à vérifier")
    page = text(client.get(f"/orders/{order.id}"))
    assert "adresse à vérifier" in page and "Mise en attente manuelle" in page
    manager(f"/orders/{order.id}/status", {"status": "allocated"})
    assert fresh(Order, order.id).status == OrderStatus.ALLOCATED
    manager(f"/orders/{order.id}/status", {"status": "shipped"})
    assert fresh(Order, order.id).status == OrderStatus.SHIPPED
    assert stock.level(v.id, wh.id) == stock.Level(3, 0)  # the reserved units left with the shipment


def test_marketplace_order_has_no_picking(client, manager, org, shop, wh):
    fba = warehouse(org.id, "FBA", kind=WarehouseKind.MARKETPLACE, shop_id=shop.id)
    variant(org.id, "MUG", {wh: 5, fba: 5})
    db.session.commit()
    order = order_of(shop, "fba1", [("MUG", 1)], fulfillment_channel="marketplace")
    page = text(client.get(f"/orders/{order.id}"))
    assert "Expédiée par Beta" in page
    assert 'value="picking"' not in page and 'value="packed"' not in page
    page = text(manager(f"/orders/{order.id}/status", {"status": "picking"}))
    assert "Refusé" in page and fresh(Order, order.id).status == OrderStatus.ALLOCATED
    assert "#fba1" not in text(client.get("/preparation"))


def test_map_sku_form_resumes_held_order(client, manager, org, make_org, shop, wh):
    variant(org.id, "MUG-BLEU", {wh: 3})
    theirs = make_org("Concurrent SARL")
    variant(theirs.id, "LEUR-SKU")
    db.session.commit()
    order = order_of(shop, "u1", [("AMZ-MUG-B", 2)])
    assert order.hold_code == "unknown_sku"
    page = text(client.get(f"/orders/{order.id}"))
    assert "SKU inconnu" in page and 'name="variant_sku"' in page and "AMZ-MUG-B" in page
    for wrong in ("NOPE", "LEUR-SKU"):  # unknown, or another organization's
        page = text(manager(f"/orders/{order.id}/map-sku", {"sku": "AMZ-MUG-B", "variant_sku": wrong}))
        assert f"n'a le SKU « {wrong} »" in page and fresh(Order, order.id).status == OrderStatus.ON_HOLD
    page = text(manager(f"/orders/{order.id}/map-sku", {"sku": "AMZ-MUG-B", "variant_sku": "MUG-BLEU"}))
    assert "1 commande reprise" in page
    assert fresh(Order, order.id).status == OrderStatus.ALLOCATED
    assert 'name="variant_sku"' not in text(client.get(f"/orders/{order.id}"))


def test_rerun_button_on_held_order(client, manager, org, shop, wh):
    v = variant(org.id, "MUG", {wh: 0})
    db.session.commit()
    order = order_of(shop, "r1", [("MUG", 1)])
    page = text(manager(f"/orders/{order.id}/rerun"))
    assert "Toujours en attente : Rupture de stock" in page
    db.session.get(StockLevel, db.session.scalar(select(StockLevel.id).where(StockLevel.variant_id == v.id))).on_hand = 1
    db.session.commit()
    page = text(manager(f"/orders/{order.id}/rerun"))
    assert "reprise" in page and fresh(Order, order.id).status == OrderStatus.ALLOCATED


# ----------------------------------------------------------------------------- stock
def test_stock_page_shows_levels_and_what_each_shop_sells(client, manager, org, shop, shop_factory, wh):
    other = shop_factory("beta", "Boutique B")
    variant(org.id, "MUG", {wh: 10})
    db.session.add(ChannelStockRule(organization_id=org.id, shop_id=other.id, buffer=4))
    db.session.commit()
    order_of(shop, "s1", [("MUG", 3)])
    page = text(client.get("/stock?q=MUG"))
    assert "Boutique A" in page and "Boutique B" in page
    assert re.search(rf'data-shop="{shop.id}">\s*7\s*<', page)  # 10 on hand − 3 reserved
    assert re.search(rf'data-shop="{other.id}">\s*3\s*<', page)  # minus its 4-unit buffer


def test_adjustment_with_and_without_reason(client, manager, org, shop, wh):
    v = variant(org.id, "MUG", {wh: 1})
    db.session.commit()
    order_of(shop, "j0", [("MUG", 1)])
    held = order_of(shop, "j1", [("MUG", 2)])
    assert held.hold_code == "backorder"
    form = {"sku": "MUG", "warehouse_id": wh.id, "delta": 5}
    page = text(manager("/stock/adjust", {**form, "reason": ""}))
    assert "Ajustement refusé : indiquez la raison de l'ajustement" in page
    assert stock.level(v.id, wh.id).on_hand == 1
    page = text(manager("/stock/adjust", {**form, "delta": -1, "reason": "casse"}))
    assert "Ajustement refusé : impossible" in page and stock.level(v.id, wh.id).on_hand == 1
    page = text(manager("/stock/adjust", {**form, "sku": "INCONNU", "reason": "inventaire"}))
    assert "n'a le SKU « INCONNU »" in page
    page = text(manager("/stock/adjust", {**form, "reason": "réception fournisseur"}))
    assert "MUG à PAR : +5" in page and stock.level(v.id, wh.id).on_hand == 6
    move = db.session.scalars(select(StockMovement).where(StockMovement.kind == "receive")).one()
    assert move.reason == "réception fournisseur" and move.user_id is not None
    run_jobs()  # the receipt resumes the backorder
    assert fresh(Order, held.id).status == OrderStatus.ALLOCATED
    page = text(client.get(f"/stock/variants/{v.id}/movements"))
    assert "réception fournisseur" in page and "entrée" in page and "#j1" in page and "+5" in page


def test_push_all_stock_enqueues_reconcile(manager, org, shop, wh):
    from tests.fake_addons.beta import hooks as beta_hooks

    variant(org.id, "MUG", {wh: 4})
    db.session.commit()
    run_jobs()
    beta_hooks.LAST.clear()
    page = text(manager("/stock/push"))
    assert "programmé" in page
    job = db.session.scalars(select(OutboxJob).where(OutboxJob.func == "core.stock.reconcile")).one()
    assert job.job_id == f"stock-reconcile-{org.id}" and job.args == [org.id]
    run_jobs()
    assert beta_hooks.LAST[(shop.id, "MUG")] == 4


# ----------------------------------------------------------------------------- routing, pools, channel rules
def test_routing_rules_editor_then_rerun_resumes_backorder(client, manager, org, shop, wh):
    supplier = warehouse(org.id, "FOURNISSEUR", kind=WarehouseKind.SUPPLIER, priority=5)
    variant(org.id, "MUG", {wh: 0, supplier: 4})
    db.session.commit()
    order = order_of(shop, "w1", [("MUG", 1)], country="BE")
    assert order.hold_code == "backorder"
    page = text(manager("/stock/routing/rerun"))
    assert "0 commandes reprises" in page and fresh(Order, order.id).status == OrderStatus.ON_HOLD

    page = text(manager("/stock/routing/new", {"name": "Belgique", "warehouse_id": supplier.id, "active": "y",
                                                "countries": "be, lu", "channels": ["beta"], "shop_ids": [shop.id],
                                                "service_levels": ["standard", "express"], "allow_split": "y"}))
    assert "Règle « Belgique » créée" in page
    page = text(manager("/stock/routing/new", {"name": "Express", "warehouse_id": wh.id, "active": "y",
                                                "service_levels": ["express"], "countries": "France"}))
    assert "Codes pays invalides : FRANCE" in page
    manager("/stock/routing/new", {"name": "Express", "warehouse_id": wh.id, "active": "y",
                                   "service_levels": ["express"]})
    rules = db.session.scalars(select(RoutingRule).order_by(RoutingRule.position)).all()
    assert [r.name for r in rules] == ["Belgique", "Express"]
    belgium = rules[0]
    assert (belgium.countries, belgium.channels, belgium.shop_ids, belgium.service_levels, belgium.allow_split) == \
        (["BE", "LU"], ["beta"], [shop.id], ["standard", "express"], True)
    page = text(client.get("/stock/routing"))
    assert "pays : BE, LU" in page and "Beta Marketplace" in page

    manager(f"/stock/routing/{rules[1].id}/up")
    db.session.commit()
    assert [r.name for r in db.session.scalars(select(RoutingRule).order_by(RoutingRule.position))] == \
        ["Express", "Belgique"]
    manager(f"/stock/routing/{rules[1].id}/delete")
    manager(f"/stock/routing/{belgium.id}", {"name": "Belgique et Luxembourg", "warehouse_id": supplier.id,
                                             "countries": "BE,LU", "allow_split": "y", "active": "y"})
    edited = fresh(RoutingRule, belgium.id)
    assert edited.name == "Belgique et Luxembourg" and edited.channels == [] and edited.service_levels == []
    assert db.session.scalars(select(RoutingRule.name)).all() == ["Belgique et Luxembourg"]

    page = text(manager("/stock/routing/rerun"))
    assert "1 commande reprise" in page
    resumed = fresh(Order, order.id)
    assert resumed.status == OrderStatus.ALLOCATED and resumed.lines[0].warehouse_id == supplier.id


def test_pool_and_channel_rule_forms_change_available_to_sell(client, manager, org, shop, shop_factory):
    paris = warehouse(org.id, "PAR", priority=1)
    outlet = warehouse(org.id, "OUTLET", priority=2)
    v = variant(org.id, "MUG", {paris: 20, outlet: 6})
    other = shop_factory("beta", "Boutique B")
    db.session.commit()
    shop_id, other_id = shop.id, other.id

    def sellable(sid: int) -> int:
        db.session.commit()
        return stock.available_to_sell(db.session.get(Shop, sid), [v.id])[v.id]

    assert sellable(shop_id) == 26
    page = text(manager("/stock/pools/new", {"name": "Outlet"}))
    assert "Choisissez au moins un entrepôt" in page
    manager("/stock/pools/new", {"name": "Outlet", "warehouse_ids": [outlet.id]})
    pool = db.session.scalars(select(StockPool)).one()
    page = text(manager("/stock/pools/new", {"name": "Outlet", "warehouse_ids": [paris.id]}))
    assert "Un pool porte déjà ce nom" in page
    manager(f"/stock/shops/{shop_id}/pool", {"pool_id": pool.id})
    assert sellable(shop_id) == 6 and sellable(other_id) == 26
    manager(f"/stock/pools/{pool.id}", {"name": "Outlet", "warehouse_ids": [outlet.id, paris.id]})
    assert sellable(shop_id) == 26

    manager("/stock/channel-rules/new", {"target": "addon:beta", "buffer": 2, "percentage": 50, "maximum": 10})
    assert sellable(other_id) == 10  # (26 − 2) × 50 % = 12, capped at 10
    manager("/stock/channel-rules/new", {"target": f"shop:{shop_id}", "buffer": 6, "percentage": 100})
    page = text(manager("/stock/channel-rules/new", {"target": f"shop:{shop_id}", "buffer": 1, "percentage": 100}))
    assert "Une règle existe déjà" in page
    assert sellable(shop_id) == 20  # the shop's own rule wins over its channel's
    shop_rule = db.session.scalars(select(ChannelStockRule).where(ChannelStockRule.shop_id == shop_id)).one()
    manager(f"/stock/channel-rules/{shop_rule.id}", {"target": f"shop:{shop_id}", "buffer": 0, "percentage": 10})
    assert sellable(shop_id) == 2
    manager(f"/stock/channel-rules/{shop_rule.id}/delete")
    manager(f"/stock/shops/{shop_id}/pool", {"pool_id": ""})
    assert sellable(shop_id) == 10  # shared stock again, under the channel's rule
    manager(f"/stock/pools/{pool.id}/delete")
    assert db.session.scalars(select(StockPool)).all() == []
    # the changes queued one push of the new figures to the channels
    assert db.session.scalars(select(OutboxJob.job_id).where(OutboxJob.func == "core.stock.reconcile")).all() == \
        [f"stock-reconcile-{org.id}"]


# ----------------------------------------------------------------------------- exceptions & quota
def test_exceptions_view_lists_what_needs_the_merchant(client, manager, org, shop, shop_factory, wh):
    variant(org.id, "MUG", {wh: 0})
    db.session.commit()
    unknown = order_of(shop, "x1", [("AMZ-INCONNU", 1)])
    backorder = order_of(shop, "x2", [("MUG", 1)])
    broken = shop_factory("beta", "Boutique cassée")
    broken.status, broken.last_error = ConnectionStatus.ERROR, "jeton d'accès expiré"
    db.session.add(SyncLog(organization_id=org.id, shop_id=broken.id, addon="beta", func="addons.beta.jobs.sync",
                           status=SyncStatus.FAILED, error="HTTPError: 503 Service Unavailable", attempts=4))
    db.session.commit()
    page = text(client.get("/exceptions"))
    for needle in ("SKU inconnu", "Rupture de stock", f"/orders/{unknown.id}", f"/orders/{backorder.id}",
                   "AMZ-INCONNU", "Boutique cassée", "jeton d'accès expiré", "503 Service Unavailable",
                   f"/integrations/shops/{broken.id}/log"):
        assert needle in page, needle
    # the navigation badge: 2 held orders, 1 shop in error, 1 failed job
    assert re.search(r'class="nav-count"[^>]*>\s*4\s*<', page)


def test_quota_banner_past_the_limit(app, client, login, make_user, org, shop, wh):
    variant(org.id, "MUG", {wh: 10})
    db.session.get(Plan, "free").monthly_order_limit = 2
    db.session.commit()
    login(client, Role.OWNER)
    order_of(shop, "q1", [("MUG", 1)])
    assert "Limite du forfait atteinte" not in text(client.get("/"))
    order_of(shop, "q2", [("MUG", 1)])
    order_of(shop, "q3", [("MUG", 1)])
    page = text(client.get("/orders"))
    assert "Limite du forfait atteinte : 3 / 2 commandes ce mois-ci — les commandes continuent d'arriver" in page
    assert "hors forfait" in page and "/plan" in page
    assert "Limite du forfait" not in text(client.get("/orders"))  # once a day, not on every page
    assert "3 / 2 commandes" in text(client.get("/plan"))  # the plan page always has the figures
    assert "#q3" in text(client.get("/orders?exception=over_quota"))
    assert "#q1" not in text(client.get("/orders?exception=over_quota"))
    assert "#q3" in text(client.get("/exceptions"))
    english = app.test_client()
    login(english, Role.OWNER)
    assert "Plan limit reached: 3 / 2 orders this month" in text(english.get("/orders?lang=en"))
    staff = app.test_client()
    login(staff, Role.STAFF)
    assert "Limite du forfait" not in text(staff.get("/orders"))  # the owner's business
    picker = app.test_client()
    login(picker, Role.PICKER)
    assert "Limite du forfait" not in text(picker.get("/preparation"))


def test_plan_page_and_the_operators_change_of_plan(app, client, login, runner, org):
    login(client, Role.OWNER)
    page = text(client.get("/plan"))
    assert "Votre forfait : Gratuit" in page and "0 / 100 commandes" in page
    assert "49,00" in page and "jusqu'à 2" in page  # the paid plan, as the guide prices it
    result = runner.invoke(args=["plans", "set", str(org.id), "pro", "--note", "facture F-2026-12"])
    assert result.exit_code == 0, result.output
    assert "free → pro" in result.output
    page = text(client.get("/plan"))
    assert "Votre forfait : Pro" in page and "free → pro" in page and "facture F-2026-12" in page
    refused = runner.invoke(args=["plans", "set", str(org.id), "platine"])
    assert refused.exit_code != 0 and "inconnu" in refused.output


# ----------------------------------------------------------------------------- error pages
def test_error_pages_keep_their_status(client, login):
    res = client.get("/nulle-part")
    assert res.status_code == 404 and "Page introuvable" in text(res)
    login(client, Role.PICKER)
    res = client.get("/exceptions")
    assert res.status_code == 403 and "Accès refusé" in text(res)


def test_500_page(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    res = client.get("/boom")
    assert res.status_code == 500 and "Une erreur est survenue" in text(res)


def test_english_pages(client, login, pipeline):
    login(client, Role.OWNER)
    assert "Routing rules" in text(client.get("/stock/routing?lang=en"))
    page = text(client.get("/exceptions?lang=en"))
    assert "Orders on hold" in page and "Unknown SKU" in page
    assert "Adjust stock" in text(client.get("/stock?lang=en"))


# ----------------------------------------------------------------------------- tenant isolation
def test_another_organizations_ids_give_404(client, manager, make_org, shop_factory, org):
    other = make_org("Concurrent SARL")
    their_shop = shop_factory("beta", "Leur boutique", organization=other)
    their_wh = warehouse(other.id, "LEUR-WH")
    their_variant = variant(other.id, "LEUR-MUG", {their_wh: 5})
    db.session.commit()
    their_order = order_of(their_shop, "z1", [("LEUR-MUG", 1)])
    their_rule = RoutingRule(organization_id=other.id, position=1, name="Leur règle", warehouse_id=their_wh.id)
    their_pool = StockPool(organization_id=other.id, name="Leur pool", warehouses=[their_wh])
    their_channel_rule = ChannelStockRule(organization_id=other.id, addon="beta", buffer=3)
    db.session.add_all([their_rule, their_pool, their_channel_rule])
    db.session.commit()
    mine = shop_factory("beta", "Ma boutique")
    my_order = order_of(mine, "m1", [("MUG", 1)])

    o, r, p, c, v = their_order.id, their_rule.id, their_pool.id, their_channel_rule.id, their_variant.id
    for url in [f"/orders/{o}", f"/stock/routing/{r}", f"/stock/pools/{p}", f"/stock/channel-rules/{c}",
                f"/stock/variants/{v}/movements"]:
        assert client.get(url).status_code == 404, url
    posts = {
        f"/orders/{o}/cancel": {"reason": "x"},
        f"/orders/{o}/status": {"status": "picking"},
        f"/orders/{o}/hold": {"reason": "x"},
        f"/orders/{o}/map-sku": {"sku": "LEUR-MUG", "variant_sku": "LEUR-MUG"},
        f"/orders/{o}/rerun": {},
        "/orders/bulk": {"action": "cancel", "reason": "x", "ids": [my_order.id, o]},
        f"/stock/routing/{r}": {"name": "x", "warehouse_id": their_wh.id},
        f"/stock/routing/{r}/up": {},
        f"/stock/routing/{r}/down": {},
        f"/stock/routing/{r}/delete": {},
        f"/stock/pools/{p}": {"name": "x", "warehouse_ids": [their_wh.id]},
        f"/stock/pools/{p}/delete": {},
        f"/stock/shops/{their_shop.id}/pool": {"pool_id": ""},
        f"/stock/shops/{mine.id}/pool": {"pool_id": p},
        f"/stock/channel-rules/{c}": {"target": "addon:beta", "buffer": 0, "percentage": 100},
        f"/stock/channel-rules/{c}/delete": {},
        "/stock/adjust": {"sku": "LEUR-MUG", "warehouse_id": their_wh.id, "delta": 5, "reason": "x"},
    }
    for url, data in posts.items():
        assert manager(url, data, follow=False).status_code == 404, url
    # nothing changed, theirs or mine
    assert fresh(Order, o).status == OrderStatus.ALLOCATED
    assert db.session.get(Order, my_order.id).status != OrderStatus.CANCELLED
    assert db.session.get(RoutingRule, r).name == "Leur règle"
    assert db.session.get(StockPool, p).name == "Leur pool" and db.session.get(ChannelStockRule, c).buffer == 3
    assert stock.level(v, their_wh.id).on_hand == 5
    assert db.session.get(Shop, mine.id).stock_pool_id is None
    # their rows never show on my pages
    for url in ["/orders", "/stock", "/stock/routing", "/exceptions"]:
        page = text(client.get(url))
        for theirs in ("#z1", "LEUR-MUG", "Leur boutique", "Leur règle", "Leur pool"):
            assert theirs not in page, (url, theirs)
    # nor can my adjustment form reach their SKU through my warehouse
    my_wh = warehouse(org.id, "MON-WH")
    db.session.commit()
    page = text(manager("/stock/adjust", {"sku": "LEUR-MUG", "warehouse_id": my_wh.id, "delta": 5, "reason": "x"}))
    assert "n'a le SKU « LEUR-MUG »" in page
