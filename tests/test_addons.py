"""The add-on loader: manifests, dependency order, errors reported without taking the app
down, and per-shop activation deciding which hook implementations run."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.addons import ManifestError, call, parse_manifest, registry
from core.extensions import db
from core.models import SyncLog
from core.services import ServiceError, set_enabled
from core.types import StockChange
from tests.fixtures import FAKE_ADDONS
from tests.fake_addons.alpha.hooks import CALLS

BROKEN = ["badmanifest", "syntaxmanifest", "missingdep", "cycle_a", "cycle_b", "importerror", "futurecore"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture
def addons():
    return ["alpha", "beta", "raiser", "halfwriter", *BROKEN]


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def test_manifest_rules():
    ok = parse_manifest('{"name": "X", "summary": "s", "version": "1.0.0", "category": "carrier", "depends": []}')
    assert ok["category"] == "carrier"
    for bad, why in [
        ("[1, 2]", "one dict literal"),
        ('{"name": "X"}', "missing key 'version'"),
        ('{"name": "X", "summary": "s", "version": "1.0", "category": "tools", "depends": []}', "breaking.feature.fix"),
        ('{"name": "X", "summary": "s", "version": "1.0.0", "category": "shoes", "depends": []}', "category 'shoes'"),
        ('{"name": "X", "summary": "s", "version": "1.0.0", "category": "tools", "depends": [], "colour": 1}', "unknown key"),
        ('{"name": __import__("os").name}', "not a dict literal"),
        ('{"name": "X", "summary": "s", "version": "1.0.0", "category": "tools", "depends": [], "core_version": "~~"}',
         "not a version range"),
    ]:
        with pytest.raises(ManifestError, match=why.replace("(", r"\(")):
            parse_manifest(bad)


def test_errors_reported_and_app_still_up(app, client, login):
    reg = registry()
    errors = {a.name: a.error for a in reg.addons.values() if a.error}
    assert set(errors) == set(BROKEN)
    assert "breaking.feature.fix" in errors["badmanifest"]
    assert "not a dict literal" in errors["syntaxmanifest"]
    assert "depends on 'nope', which is not installed" in errors["missingdep"]
    assert "circular dependency" in errors["cycle_a"] and "circular dependency" in errors["cycle_b"]
    assert "import failed: ModuleNotFoundError" in errors["importerror"]
    assert "requires core >=2.0" in errors["futurecore"]
    assert {a.name for a in reg.loaded()} == {"alpha", "beta", "raiser", "halfwriter"}
    # the catalog lists what failed, with why, and still serves the healthy add-ons
    login(client)
    page = client.get("/integrations/").get_data(as_text=True)
    for name in BROKEN:
        assert f'data-broken="{name}"' in page
    assert 'data-addon="alpha"' in page and 'data-addon="beta"' in page


def test_unknown_addon_name_reported(app_config, database_url):
    from core import create_app

    app = create_app({"TESTING": True, "ADDONS": ["ghost"], "SQLALCHEMY_DATABASE_URI": database_url,
                      "JOBS_MODE": "manual", **app_config})
    assert "not installed" in app.extensions["oms_addons"].get("ghost").error


def test_dependency_order_registers_bases_first(app):
    names = [name for name, _plugin in registry().pm.list_name_plugin()]
    assert names.index("alpha") < names.index("beta")
    assert names[0] == "core"
    registry().pm.check_pending()


def test_activation_is_per_shop(app, shop_factory):
    shop1 = shop_factory("beta", "one")
    shop2 = shop_factory("beta", "two")
    change = [StockChange(sku="A", variant_id=1, available=3)]
    # enabling beta (a channel) pulled its dependency alpha in for that shop only
    assert shop1.enabled_addons() == {"alpha", "beta"}
    call(shop1, "stock_available_changed", changes=change)
    assert sorted(CALLS) == [("alpha", "stock_available_changed", shop1.id),
                             ("beta", "stock_available_changed", shop1.id)]
    CALLS.clear()
    set_enabled(shop2, "alpha", False)
    db.session.commit()
    call(shop2, "stock_available_changed", changes=change)
    assert CALLS == [("beta", "stock_available_changed", shop2.id)]
    CALLS.clear()
    call(shop1, "stock_available_changed", changes=change)  # shop1 untouched
    assert len(CALLS) == 2


def test_disabling_keeps_settings(app, shop_factory):
    from core.services import save_settings

    shop = shop_factory("beta")
    save_settings(shop, "alpha", {"url": "https://x", "api_key": "k"}, {"api_key"})
    set_enabled(shop, "alpha", False)
    db.session.commit()
    db.session.expire_all()
    assert shop.addon_settings("alpha") == {"url": "https://x", "api_key": "k"}
    assert "alpha" not in shop.enabled_addons()


def test_channel_cannot_be_disabled_on_its_own_shop(app, shop_factory):
    shop = shop_factory("beta")
    with pytest.raises(ServiceError):
        set_enabled(shop, "beta", False)


def test_raising_addon_is_isolated(app, shop_factory):
    shop = shop_factory("beta")
    set_enabled(shop, "raiser", True)
    db.session.commit()
    call(shop, "stock_available_changed", changes=[])
    assert ("beta", "stock_available_changed", shop.id) in CALLS
    db.session.commit()
    entry = db.session.query(SyncLog).filter_by(shop_id=shop.id, addon="raiser").one()
    assert entry.func == "hook:stock_available_changed"
    assert "remote exploded" in entry.error


def test_failing_addon_rolls_back_to_its_savepoint(app, shop_factory, org):
    """Its half-done writes are undone, the caller's stay, and the failure is on the sync log,
    even when the add-on's SQL error would abort the whole transaction (PostgreSQL)."""
    from core.models import Order, OrderStatus, Warehouse
    from core.orders import transition
    from tests.pipeline_helpers import norm
    from core.intake import ingest

    shop = shop_factory("beta")
    set_enabled(shop, "halfwriter", True)
    db.session.commit()
    db.session.add(Warehouse(organization_id=org.id, code="CALLER", name="written by the caller"))
    call(shop, "stock_available_changed", changes=[])
    assert ("beta", "stock_available_changed", shop.id) in CALLS  # the next add-on still ran
    order = db.session.get(Order, ingest(shop, norm("7", [("NOPE", 1)])).order_id)
    transition(order, OrderStatus.CANCELLED, reason="test")  # halfwriter's bad SQL here
    db.session.add(Warehouse(organization_id=org.id, code="AFTER", name="written after the failures"))
    db.session.commit()
    codes = set(db.session.scalars(sa.select(Warehouse.code)))
    assert codes == {"CALLER", "AFTER"}
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
    failures = {e.func: e.error for e in db.session.query(SyncLog).filter_by(addon="halfwriter")}
    assert set(failures) == {"hook:stock_available_changed", "hook:order_status_changed"}
    assert "remote exploded after writing" in failures["hook:stock_available_changed"]


def test_a_savepoint_does_not_end_the_transactions_markers(app, shop_factory):
    """What a transaction remembers until its commit (queued jobs, stock marks, orders to
    refresh) survives the savepoints the add-ons' hooks run in, failing or not."""
    shop = shop_factory("beta")
    set_enabled(shop, "halfwriter", True)
    db.session.commit()
    db.session.info["oms_tx_probe"] = True
    call(shop, "stock_available_changed", changes=[])  # beta releases its savepoint, halfwriter rolls back
    assert db.session.info.get("oms_tx_probe") is True
    db.session.commit()
    assert "oms_tx_probe" not in db.session.info


def test_pipeline_goes_on_when_an_addon_raises(app, shop_factory, org):
    from core.intake import ingest
    from core.models import Order, OrderStatus
    from tests.pipeline_helpers import norm, variant, warehouse

    shop = shop_factory("beta")
    set_enabled(shop, "raiser", True)
    wh = warehouse(org.id, "PAR")
    variant(org.id, "MUG", {wh: 3})
    db.session.commit()
    result = ingest(shop, norm("1", [("MUG", 1)]))
    db.session.commit()
    assert db.session.get(Order, result.order_id).status == OrderStatus.ALLOCATED
    failures = {e.func for e in db.session.query(SyncLog).filter_by(addon="raiser")}
    assert failures == {"hook:order_status_changed", "hook:intake_order_received"}


def test_a_page_of_orders_is_written_in_one_flush_before_the_addons_hooks(app, shop_factory, org):
    """Allocating a page, the new statuses and history of every order are written together,
    then each order's ``order_status_changed`` runs in its savepoint (which then has nothing
    of the page left to write); an add-on failing there loses none of it."""
    from core.intake import ingest_many
    from core.models import Order, OrderEvent, OrderStatus
    from tests.pipeline_helpers import norm, variant, warehouse

    shop = shop_factory("beta")
    set_enabled(shop, "halfwriter", True)
    variant(org.id, "TEE", {warehouse(org.id, "PAR"): 100})
    db.session.commit()
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        ingest_many(shop, [norm(f"page-{n}", [("TEE", 1)]) for n in range(10)], source="poll")
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    orders = db.session.scalars(sa.select(Order).where(Order.shop_id == shop.id)).all()
    assert len(orders) == 10 and {o.status for o in orders} == {OrderStatus.ALLOCATED}
    kinds = db.session.scalars(sa.select(OrderEvent.kind).where(OrderEvent.order_id.in_([o.id for o in orders])))
    assert sorted(k for k in kinds if k in ("status", "decision")) == ["decision"] * 10 + ["status"] * 10
    first_savepoint = next(n for n, s in enumerate(seen) if s.startswith("SAVEPOINT"))
    history = [n for n, s in enumerate(seen) if s.startswith("INSERT INTO order_event")]
    assert history and max(history) < first_savepoint  # not order by order, between the hooks
    failures = db.session.scalar(sa.select(sa.func.count()).select_from(SyncLog).where(
        SyncLog.addon == "halfwriter", SyncLog.func == "hook:order_status_changed"))
    assert failures == 10
