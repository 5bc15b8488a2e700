"""A shop's diagnostic (core's checks, the page, ``oms shops diagnose``) and its "Sync stock
automatique" switch, on the fake channel add-on beta."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import diagnostics, stock
from core.extensions import db
from core.intake import ingest
from core.jobs import run_pending
from core.models import ConnectionStatus, Order, SettingChange, Shop, SyncLog, SyncMode, SyncStatus, utcnow
from core.services import set_stock_sync
from tests.fake_addons.beta.hooks import LAST
from tests.fixtures import FAKE_ADDONS
from tests.pipeline_helpers import norm, variant, warehouse


@pytest.fixture
def addons():
    return ["alpha", "beta", "raiser"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture(autouse=True)
def fresh_pushes():
    LAST.clear()
    yield
    LAST.clear()


@pytest.fixture
def beta_shop(shop_factory):
    shop = shop_factory("beta", "Boutique Beta")
    shop.status = ConnectionStatus.CONNECTED
    shop.sync_mode = SyncMode.EVERY_15_MIN
    shop.last_sync_at = utcnow()
    db.session.commit()
    return shop


def _by_title(checks, needle: str):
    found = [c for c in checks if needle in c.title]
    assert found, f"no check titled like {needle!r} in {[c.title for c in checks]}"
    return found[0]


# ----------------------------------------------------------------------------- held orders, SKUs
def test_held_orders_are_counted_by_reason_with_the_unknown_skus_named(app, org, beta_shop):
    paris = warehouse(org.id, "PAR")
    variant(org.id, "EPUISE", {paris: 0})
    variant(org.id, "EN-STOCK", {paris: 5})
    ingest(beta_shop, norm("1", [("INCONNU-A", 1)]))
    ingest(beta_shop, norm("2", [("INCONNU-A", 2), ("INCONNU-B", 1)]))
    ingest(beta_shop, norm("3", [("EPUISE", 1)]))
    ingest(beta_shop, norm("4", [("EN-STOCK", 1)]))
    db.session.commit()

    with app.test_request_context():
        checks = diagnostics.run(beta_shop)
    unknown_hold = _by_title(checks, "SKU inconnu")
    assert unknown_hold.level == "error" and unknown_hold.title.startswith("2 commandes en attente")
    assert unknown_hold.fix_url == f"/orders?shop={beta_shop.id}&hold=unknown_sku"
    backorder = _by_title(checks, "Rupture de stock")
    assert backorder.level == "warn" and backorder.title.startswith("1 commande en attente")
    assert backorder.fix_url == f"/orders?shop={beta_shop.id}&hold=backorder"
    skus = _by_title(checks, "SKU sans produit")
    assert skus.level == "error" and skus.title.startswith("2 SKU")
    assert "INCONNU-A (2 commandes), INCONNU-B (1 commande)" in skus.detail
    assert "EN-STOCK" not in skus.detail and "EPUISE" not in skus.detail


def test_a_shop_with_nothing_held_is_green_there(app, beta_shop):
    with app.test_request_context():
        checks = diagnostics.run(beta_shop)
    assert _by_title(checks, "Commandes en attente").level == "ok"
    assert _by_title(checks, "SKU reconnus").level == "ok"
    assert _by_title(checks, "Connexion").level == "ok"
    assert diagnostics.worst(checks) == "ok"


# ----------------------------------------------------------------------------- last import
@pytest.mark.parametrize("mode, age, level", [
    (SyncMode.EVERY_15_MIN, timedelta(minutes=20), "ok"),
    (SyncMode.EVERY_15_MIN, timedelta(minutes=31), "warn"),      # two periods gone by
    (SyncMode.HOURLY, timedelta(minutes=90), "ok"),
    (SyncMode.HOURLY, timedelta(hours=2, minutes=1), "warn"),
    (SyncMode.EVERY_15_MIN, timedelta(hours=25), "error"),       # more than a day
    (SyncMode.WEBHOOK, timedelta(hours=25), "error"),
    (SyncMode.MANUAL, timedelta(hours=5), "ok"),                 # the merchant syncs by hand
])
def test_the_last_import_turns_orange_after_two_periods_and_red_after_a_day(app, beta_shop, mode, age, level):
    now = utcnow()
    beta_shop.sync_mode, beta_shop.last_sync_at = mode, now - age
    db.session.commit()
    with app.test_request_context():
        check = diagnostics.last_import(beta_shop, now)
    assert check.level == level, check
    assert "Dernière importation réussie" in check.detail


def test_a_shop_never_imported_is_flagged(app, beta_shop):
    beta_shop.last_sync_at = None
    beta_shop.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    with app.test_request_context():
        check = diagnostics.last_import(beta_shop, utcnow())
    assert check.level == "error" and "Aucune commande importée" in check.title


def test_connection_errors_are_said_without_the_exception_name(app, beta_shop):
    beta_shop.status = ConnectionStatus.ERROR
    beta_shop.last_error = "BetaError: le jeton a été révoqué : réinstallez l'application"
    db.session.commit()
    with app.test_request_context():
        check = diagnostics.connection(beta_shop)
    assert check.level == "error"
    assert check.detail == "Le jeton a été révoqué : réinstallez l'application"
    assert check.fix_url == f"/integrations/beta/shops/{beta_shop.id}/configure"


# ----------------------------------------------------------------------------- stock sync check
def test_the_stock_check_reports_the_switch_and_the_last_push(app, beta_shop):
    with app.test_request_context():
        assert diagnostics.stock_sync(beta_shop).level == "ok"
        db.session.add(SyncLog(shop_id=beta_shop.id, organization_id=beta_shop.organization_id, addon="beta",
                               func="addons.beta.jobs.push_stock", status=SyncStatus.FAILED,
                               error="BetaError: quota d'appels dépassé", finished_at=utcnow()))
        db.session.commit()
        failed = diagnostics.stock_sync(beta_shop)
        assert failed.level == "error" and "quota d'appels dépassé" in failed.detail
        assert "BetaError" not in failed.detail
        assert failed.fix_url == f"/integrations/shops/{beta_shop.id}/log?kind=stock"
        db.session.add(SyncLog(shop_id=beta_shop.id, organization_id=beta_shop.organization_id, addon="beta",
                               func="addons.beta.jobs.push_stock", status=SyncStatus.OK,
                               result="3 quantité(s) envoyée(s)", started_at=utcnow() + timedelta(seconds=1),
                               finished_at=utcnow()))
        db.session.commit()
        ok = diagnostics.stock_sync(beta_shop)
        assert ok.level == "ok" and "3 quantité(s) envoyée(s)" in ok.detail
        set_stock_sync(beta_shop, False)
        db.session.commit()
        off = diagnostics.stock_sync(beta_shop)
        assert off.level == "warn" and "désactivée" in off.title
        assert off.fix_url == f"/integrations/beta/shops/{beta_shop.id}/configure"


# ----------------------------------------------------------------------------- the switch
def _stocked(org):
    paris = warehouse(org.id, "PAR")
    tee = variant(org.id, "TEE-M", {paris: 10})
    db.session.commit()
    return paris, tee


def test_switch_off_core_pushes_nothing_to_that_shop_and_back_on_every_figure_goes(app, org, beta_shop,
                                                                                    shop_factory):
    other = shop_factory("beta", "Autre boutique")
    paris, tee = _stocked(org)
    set_stock_sync(beta_shop, False)
    db.session.commit()

    stock.adjust(org.id, tee.id, paris.id, -3, reason="casse", user_id=None)
    db.session.commit()
    stock.push_changes(org.id)
    assert LAST == {(other.id, "TEE-M"): 7}  # the shop switched off heard nothing
    stock.reconcile(org.id)  # the nightly full push skips it too
    assert (beta_shop.id, "TEE-M") not in LAST

    assert set_stock_sync(beta_shop, True)
    db.session.commit()
    run_pending(now=utcnow() + timedelta(seconds=30))
    assert LAST[(beta_shop.id, "TEE-M")] == 7  # back on: the current figure is sent
    entry = db.session.scalar(select(SyncLog).where(SyncLog.func == "core.stock.reconcile_shop_stock"))
    assert entry is not None and entry.status == SyncStatus.OK


def test_the_switch_is_on_the_shop_settings_page_and_saved_from_it(app, client, login, post_form, org, beta_shop):
    login(client)
    url = f"/integrations/beta/shops/{beta_shop.id}/configure"
    page = client.get(url).get_data(as_text=True)
    assert "Sync stock automatique" in page
    assert re.search(r'<input[^>]*checked[^>]*name="shop-stock_sync"|<input[^>]*name="shop-stock_sync"[^>]*checked',
                     page)

    res = post_form(url, {"shop-shown": "1", "then": "save"})  # the box unticked
    assert res.status_code == 302
    db.session.expire_all()
    assert db.session.get(Shop, beta_shop.id).stock_sync is False
    change = db.session.scalar(select(SettingChange).where(SettingChange.shop_id == beta_shop.id))
    assert change.fields == ["stock_sync"]
    page = client.get(url).get_data(as_text=True)
    assert not re.search(r'<input[^>]*name="shop-stock_sync"[^>]*checked', page)
    log_page = client.get(f"/integrations/shops/{beta_shop.id}/log").get_data(as_text=True)
    assert "Sync stock automatique" in log_page and "stock_sync" not in log_page  # the change, by its label

    assert "data-stock-sync-off" in client.get("/integrations/beta").get_data(as_text=True)

    post_form(url, {"then": "save"})  # a post that never showed the switch leaves it alone
    db.session.expire_all()
    assert db.session.get(Shop, beta_shop.id).stock_sync is False
    post_form(url, {"shop-shown": "1", "shop-stock_sync": "y", "then": "save"})
    db.session.expire_all()
    assert db.session.get(Shop, beta_shop.id).stock_sync is True


def test_the_settings_of_another_addon_on_the_shop_do_not_show_the_switch(app, client, login, beta_shop):
    login(client)
    page = client.get(f"/integrations/alpha/shops/{beta_shop.id}/configure").get_data(as_text=True)
    assert "URL" in page and "shop-stock_sync" not in page


# ----------------------------------------------------------------------------- page, CLI, tenancy
def test_the_diagnostic_page_shows_green_orange_and_red_lines(app, client, login, org, beta_shop):
    beta_shop.last_sync_at = utcnow() - timedelta(hours=30)
    db.session.commit()
    ingest(beta_shop, norm("1", [("INCONNU-A", 1)]))
    set_stock_sync(beta_shop, False)
    db.session.commit()
    login(client)
    page = client.get(f"/integrations/shops/{beta_shop.id}/diagnostic").get_data(as_text=True)
    assert "Diagnostic · Boutique Beta" in page
    assert 'data-diagnostic-summary="error"' in page
    assert page.count('data-check="error"') >= 2 and 'data-check="warn"' in page and 'data-check="ok"' in page
    assert "badge-error" in page and "badge-warning" in page and "badge-ok" in page
    assert "Les commandes ne sont plus importées depuis plus d&#39;un jour" in page
    assert f'href="/orders?shop={beta_shop.id}&amp;hold=unknown_sku"' in page
    english = client.get(f"/integrations/shops/{beta_shop.id}/diagnostic?lang=en").get_data(as_text=True)
    assert "Orders have not been imported for more than a day" in english
    assert "Automatic stock sync" in english


def test_the_shop_pages_link_to_the_diagnostic(app, client, login, beta_shop):
    login(client)
    link = f'href="/integrations/shops/{beta_shop.id}/diagnostic"'
    assert link in client.get("/integrations/beta").get_data(as_text=True)
    assert link in client.get(f"/integrations/shops/{beta_shop.id}/log").get_data(as_text=True)
    assert link in client.get("/").get_data(as_text=True)


def test_another_organizations_shop_is_a_404(app, client, login, make_org, shop_factory, beta_shop):
    theirs = shop_factory("beta", "Chez les autres", organization=make_org("Autre société"))
    login(client)
    assert client.get(f"/integrations/shops/{theirs.id}/diagnostic").status_code == 404
    assert client.get(f"/integrations/shops/{beta_shop.id}/diagnostic").status_code == 200
    assert client.get("/integrations/shops/999999/diagnostic").status_code == 404


def test_staff_and_pickers_may_not_open_it(app, client, login, beta_shop):
    from core.models import Role

    login(client, role=Role.STAFF)
    assert client.get(f"/integrations/shops/{beta_shop.id}/diagnostic").status_code == 403


def test_the_command_prints_the_same_lines(app, runner, beta_shop):
    ingest(beta_shop, norm("1", [("INCONNU-A", 1)]))
    db.session.commit()
    result = runner.invoke(args=["shops", "diagnose", str(beta_shop.id)])
    assert result.exit_code == 1, result.output  # something is red
    lines = result.output.splitlines()
    assert lines[0] == "Boutique Beta (Beta Marketplace)"
    assert any(re.match(r"ERROR\s+1 SKU sans produit dans l'OMS", line) for line in lines)
    assert any(re.match(r"ERROR\s+1 commande en attente : SKU inconnu", line) for line in lines)
    assert any(re.match(r"OK\s+Connexion à Beta Marketplace", line) for line in lines)
    assert any(f"http://localhost/orders?shop={beta_shop.id}&hold=unknown_sku" in line for line in lines)

    english = runner.invoke(args=["shops", "diagnose", str(beta_shop.id), "--lang", "en"])
    assert "1 SKU with no product in the OMS" in english.output

    db.session.execute(db.delete(SyncLog))
    for order in db.session.scalars(select(Order)):
        db.session.delete(order)
    db.session.commit()
    calm = runner.invoke(args=["shops", "diagnose", str(beta_shop.id)])
    assert calm.exit_code == 0, calm.output
    assert "ERROR" not in calm.output

    missing = runner.invoke(args=["shops", "diagnose", "999999"])
    assert missing.exit_code != 0 and "no shop 999999" in missing.output


def test_the_stock_sync_command(app, runner, beta_shop):
    result = runner.invoke(args=["shops", "stock-sync", str(beta_shop.id), "off"])
    assert result.exit_code == 0 and "stock sync off" in result.output
    db.session.expire_all()
    assert db.session.get(Shop, beta_shop.id).stock_sync is False
    again = runner.invoke(args=["shops", "stock-sync", str(beta_shop.id), "off"])
    assert "(unchanged)" in again.output


def test_an_addon_whose_check_raises_is_named_and_the_others_go_on(app, client, login, shop_factory):
    from core.services import set_enabled

    shop = shop_factory("beta", "Boutique fragile")
    set_enabled(shop, "raiser", True)
    db.session.commit()
    login(client)
    res = client.get(f"/integrations/shops/{shop.id}/diagnostic")
    assert res.status_code == 200
    page = res.get_data(as_text=True)
    assert "Une vérification n&#39;a pas pu aboutir" in page and "RuntimeError" not in page
    assert "Commandes en attente" in page  # core's checks are all there
    failure = db.session.scalar(select(SyncLog).where(SyncLog.shop_id == shop.id, SyncLog.addon == "raiser"))
    assert failure.func == "hook:shop_diagnose" and "diagnostic exploded" in failure.error


# ----------------------------------------------------------------------------- add-ons' building blocks
def _orders_over_the_last_days(shop, count: int, now):
    for n in range(count):
        ingest(shop, norm(f"R{n}", [("SKU-R", 1)]))
    db.session.flush()
    for n, order in enumerate(db.session.scalars(select(Order).where(Order.shop_id == shop.id).order_by(Order.id))):
        order.placed_at = now - timedelta(days=n)
    db.session.commit()


def _delivery(shop, at):
    from core.connectors.models import WebhookDelivery

    db.session.add(WebhookDelivery(addon=shop.addon, shop_id=shop.id, delivery_id=f"d-{at.timestamp()}",
                                   topic="order.created", received_at=at, payload={}))
    db.session.commit()


def test_webhooks_silent_longer_than_the_order_rate_suggests_are_orange(app, beta_shop):
    now = utcnow()
    with app.test_request_context():
        assert diagnostics.last_delivery(beta_shop, now=now).level == "ok"  # no order, no delivery: nothing expected
        _orders_over_the_last_days(beta_shop, 30, now)  # one order a day
        none_yet = diagnostics.last_delivery(beta_shop, now=now)
        assert none_yet.level == "warn" and "30 commandes importées en 30 jours" in none_yet.detail
        assert "relecture toutes les 15 minutes" in none_yet.detail  # the polling fallback is said

        _delivery(beta_shop, now - timedelta(days=2))
        assert diagnostics.last_delivery(beta_shop, now=now).level == "ok"  # within 3 usual gaps (3 days)
        quiet = diagnostics.last_delivery(beta_shop, now=now + timedelta(days=2))
        assert quiet.level == "warn" and "n'envoie plus de notification depuis 4\xa0jours" in quiet.title
        assert "une fois par période de 3\xa0jours" in quiet.detail and "relecture" in quiet.detail


def test_a_quiet_shop_never_makes_webhooks_suspicious(app, beta_shop):
    now = utcnow()
    _orders_over_the_last_days(beta_shop, 3, now)  # too few orders to know a rate
    _delivery(beta_shop, now - timedelta(days=20))
    with app.test_request_context():
        assert diagnostics.last_delivery(beta_shop, now=now).level == "ok"


@pytest.mark.parametrize("left, level", [(timedelta(days=31), "ok"), (timedelta(days=29), "warn"),
                                         (timedelta(seconds=-1), "error")])
def test_a_grant_is_orange_within_30_days_of_its_end_and_red_after(app, beta_shop, left, level):
    now = utcnow()
    with app.test_request_context():
        check = diagnostics.credentials_expiry(beta_shop, now + left, what="L'autorisation", renew="Renouvelez-la.",
                                               renew_url="/renew", renew_label="Renouveler", now=now)
    assert check.level == level
    assert ("Renouvelez-la." in check.detail) == (level != "ok")


def test_the_backlog_line_from_green_to_orange_and_an_outage_never_a_crash(app, beta_shop):
    now = utcnow()
    beta_shop.sync_cursor = (now - timedelta(hours=2)).isoformat()
    db.session.commit()
    asked = []

    def probe(backlog):
        def ask(since):
            asked.append(since)
            return backlog
        return ask

    with app.test_request_context():
        assert diagnostics.remote_backlog(beta_shop, probe(diagnostics.Backlog(0)), now=now).level == "ok"
        assert abs((asked[0] - (now - timedelta(hours=2))).total_seconds()) < 1  # asked from the cursor
        fresh = diagnostics.remote_backlog(beta_shop, probe(diagnostics.Backlog(2, oldest=now - timedelta(minutes=3))),
                                           now=now)
        assert fresh.level == "ok" and "prochaine importation" in fresh.detail
        many = diagnostics.Backlog(100, more=True, oldest=now - timedelta(hours=1))
        late = diagnostics.remote_backlog(beta_shop, probe(many), now=now)
        assert late.level == "warn" and late.title.startswith("au moins 100 commandes chez Beta Marketplace")
        assert late.fix_post and late.fix_url == f"/integrations/shops/{beta_shop.id}/sync"

        def down(_since):
            raise ConnectionError("[Errno 111] Connection refused")

        outage = diagnostics.remote_backlog(beta_shop, down, now=now)
        assert outage.level == "warn" and "Errno" not in outage.detail and "ConnectionError" not in outage.detail

        beta_shop.sync_cursor, beta_shop.last_sync_at = None, None
        assert diagnostics.remote_backlog(beta_shop, probe(diagnostics.Backlog(5)), now=now) is None


def test_subscriptions_missing_are_red_with_their_names(app, beta_shop):
    needed = {"orders/create": "commandes créées", "orders/updated": "commandes modifiées"}
    with app.test_request_context():
        assert diagnostics.webhooks_registered(beta_shop, needed, set(needed)).level == "ok"
        missing = diagnostics.webhooks_registered(beta_shop, needed, {"orders/updated"}, fix_url="/again")
        assert missing.level == "error" and "commandes créées" in missing.detail and "modifiées" not in missing.detail
        assert missing.fix_post and missing.fix_label == "Réenregistrer"
        unread = diagnostics.webhooks_registered(beta_shop, needed, None, error="délai dépassé")
        assert unread.level == "warn" and "Délai dépassé." in unread.detail


def test_an_unreachable_remote_costs_one_call_not_one_a_line():
    from core.connectors.errors import RemoteError

    sent = []

    def down():
        sent.append("down")
        raise RemoteError("le service n'a pas répondu en 5 s")

    def refused():
        sent.append("refused")
        raise RemoteError("accès refusé", status=403)

    answered = diagnostics.Reach()
    with pytest.raises(RemoteError):
        answered(refused)
    with pytest.raises(RemoteError):
        answered(refused)  # an answer, even a refusal: the next call is sent
    silent = diagnostics.Reach()
    for _ in range(3):
        with pytest.raises(RemoteError, match="n'a pas répondu"):
            silent(down)
    assert sent == ["refused", "refused", "down"]
