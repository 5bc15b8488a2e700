"""The shop's "Sync stock automatique" switch on a Shopify store (the emulator): off, no stock
push reaches Shopify, neither for a change nor for a full push; back on, the figures go."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from addons.shopify import jobs, sandbox
from core import stock as core_stock
from core.extensions import db
from core.models import Shop, SyncLog, Variant
from core.stock import SYNC_OFF
from tests.pipeline_helpers import warehouse

from .helpers import connect, stock, variant_by_sku

SKU = "TCB-BLA-M"


@pytest.fixture
def paris(org):
    wh = warehouse(org.id, "PAR")
    db.session.commit()
    return wh


@pytest.fixture
def shop(shop_factory, org, emu, base_url, paris, run_jobs) -> Shop:
    """A connected store, its products imported, 10 units of each sent to Shopify."""
    shop = connect(shop_factory("shopify", "Maison Lumière"), emu, base_url)
    jobs.sync_shop(shop.id)
    for variant in db.session.scalars(select(Variant).where(Variant.organization_id == org.id)):
        stock(variant, paris, 10)
    jobs.push_stock(shop.id)
    db.session.commit()
    run_jobs()
    return db.session.get(Shop, shop.id)


def _switch(client, post_form, shop: Shop, base_url: str, emu, on: bool):
    """The merchant ticks or unticks the box on the shop's settings page and saves."""
    url = f"/integrations/shopify/shops/{shop.id}/configure"
    page = client.get(url).get_data(as_text=True)
    assert 'name="shop-stock_sync"' in page
    data = {"shop_domain": emu.domain, "api_version": sandbox.demo_settings(base_url).get("api_version", "2026-10"),
            "api_base_url": base_url, "then": "save", "shop-shown": "1"}
    if on:
        data["shop-stock_sync"] = "y"
    res = post_form(url, data)
    assert res.status_code == 302, res.get_data(as_text=True)[:800]
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).stock_sync is on


def test_switch_off_no_push_reaches_shopify_and_back_on_it_does(app, client, login, post_form, org, shop, emu,
                                                                 base_url, paris, run_jobs):
    tee = variant_by_sku(org.id, SKU)
    assert emu.available(SKU) == 10
    login(client)
    _switch(client, post_form, shop, base_url, emu, on=False)

    calls = len(emu.calls)
    core_stock.adjust(org.id, tee.id, paris.id, -4, reason="casse", user_id=None)
    db.session.commit()
    run_jobs()
    assert jobs.push_stock(shop.id) == SYNC_OFF  # the full push too
    core_stock.reconcile(org.id)  # and the nightly reconciliation
    run_jobs()
    assert emu.calls[calls:] == []  # nothing reached Shopify
    assert emu.available(SKU) == 10
    page = client.get(f"/integrations/shops/{shop.id}/diagnostic").get_data(as_text=True)
    assert "« Sync stock automatique » désactivée" in page

    _switch(client, post_form, shop, base_url, emu, on=True)
    run_jobs()
    assert emu.available(SKU) == 6  # back on: what changed meanwhile is sent
    entry = db.session.scalar(select(SyncLog).where(SyncLog.shop_id == shop.id,
                                                    SyncLog.func == "addons.shopify.jobs.push_stock")
                              .order_by(SyncLog.id.desc()))
    assert entry.status.value == "ok" and "mise(s) à jour sur Shopify" in entry.result

    core_stock.adjust(org.id, tee.id, paris.id, -1, reason="casse", user_id=None)
    db.session.commit()
    run_jobs()
    assert emu.available(SKU) == 5  # and every change again
