"""The shop's locations page: Shopify's locations read (every page), each mapped to an existing
warehouse, a new store warehouse, or not used; POS sales follow the mapping."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from addons.shopify import jobs
from addons.shopify.models import ShopifyLocation
from core.extensions import db
from core.models import Order, OrderStatus, Shop, StockLevel, Variant, Warehouse, WarehouseKind
from tests.pipeline_helpers import warehouse

from .helpers import connect, oms_order, stock, variant_by_sku

SKU = "TCB-BLA-M"


@pytest.fixture
def paris(org):
    wh = warehouse(org.id, "PAR")
    wh.name = "Entrepôt Paris"
    db.session.commit()
    return wh


@pytest.fixture
def shop(shop_factory, org, emu, base_url, paris, run_jobs) -> Shop:
    """A connected shop, its products imported (the periodic sync) and 10 units of each in PAR."""
    shop = connect(shop_factory("shopify", "Maison Lumière"), emu, base_url)
    jobs.sync_shop(shop.id)
    for v in db.session.scalars(select(Variant).where(Variant.organization_id == org.id)):
        stock(v, paris, 10)
    jobs.push_stock(shop.id)
    db.session.commit()
    run_jobs()
    return db.session.get(Shop, shop.id)


def _rows(shop) -> dict[str, ShopifyLocation]:
    db.session.expire_all()
    return {r.name: r for r in db.session.scalars(select(ShopifyLocation).where(ShopifyLocation.shop_id == shop.id))}


def _select(page: str, row: ShopifyLocation) -> str:
    return page.split(f'name="target-{row.id}"')[1].split("</select>")[0]


def _selected(page: str, row: ShopifyLocation) -> str:
    return re.search(r'<option value="([^"]+)" selected', _select(page, row)).group(1)


def _pos_checked(page: str, row: ShopifyLocation) -> bool:
    tag = re.search(rf'<input type="checkbox" name="pos-{row.id}"[^>]*>', page).group(0)
    return "checked" in tag


def _save(post_form, shop, choices: dict[ShopifyLocation, tuple[str, bool]]):
    url = f"/apps/shopify/shops/{shop.id}/locations"
    data = {}
    for row, (target, pos) in choices.items():
        data[f"target-{row.id}"] = target
        if pos:
            data[f"pos-{row.id}"] = "1"
    return post_form(url, data, page=url, follow_redirects=True)


def test_locations_are_read_page_by_page_and_proposed(client, login, post_form, shop_factory, org, emu, base_url,
                                                      paris):
    for n in range(1, 52):
        emu.add_location(f"Dépôt {n:02d}", online=False, city="Lille")
    shop = connect(shop_factory("shopify", "Maison Lumière"), emu, base_url)
    login(client)
    url = f"/apps/shopify/shops/{shop.id}/locations"
    assert "Relire les emplacements" in client.get(url).get_data(as_text=True)
    assert f'href="{url}"' in client.get("/apps/shopify/").get_data(as_text=True)  # linked from the shop's row

    res = post_form(f"{url}/read", page=url, follow_redirects=True)

    page = res.get_data(as_text=True)
    assert "53 emplacement(s) lu(s) chez Shopify" in page
    assert emu.operations.count("Locations") == 2  # 50, then the 3 left
    rows = _rows(shop)
    assert len(rows) == 53 and rows["Dépôt 51"].city == "Lille" and rows["Dépôt 51"].online is False
    # read, not decided: no warehouse is created until the merchant saves
    assert db.session.scalar(select(func.count()).select_from(Warehouse).where(
        Warehouse.kind == WarehouseKind.STORE)) == 0
    marais, nord = rows["Boutique Le Marais"], rows["Entrepôt Paris Nord"]
    assert _selected(page, marais) == "new" and _pos_checked(page, marais)  # no online orders: a store
    assert _selected(page, nord) == str(paris.id) and not _pos_checked(page, nord)
    assert "Entrepôt Paris (PAR)" in _select(page, nord)
    assert nord.stock_target and not marais.stock_target

    # read again: the same rows, not twice
    post_form(f"{url}/read", page=url)
    assert len(_rows(shop)) == 53


def test_a_store_mapped_to_an_existing_warehouse_sells_from_it(client, login, post_form, org, shop, emu, paris,
                                                               run_jobs):
    existing = warehouse(org.id, "MARAIS", kind=WarehouseKind.STORE)
    existing.name = "Magasin du Marais"
    tee = variant_by_sku(org.id, SKU)
    stock(tee, existing, 4)
    login(client)
    url = f"/apps/shopify/shops/{shop.id}/locations"
    post_form(f"{url}/read", page=url)
    rows = _rows(shop)
    marais, nord = rows["Boutique Le Marais"], rows["Entrepôt Paris Nord"]
    auto_store = marais.warehouse_id  # the periodic sync had given it a store warehouse of its own

    # a POS store needs a store warehouse: refused with a sentence, nothing saved
    page = _save(post_form, shop, {marais: (str(paris.id), True), nord: (str(paris.id), False)}).get_data(
        as_text=True)
    assert "« Boutique Le Marais » est un magasin POS : reliez-le à un entrepôt de type magasin" in page
    assert _rows(shop)["Boutique Le Marais"].warehouse_id == auto_store
    assert not _rows(shop)["Entrepôt Paris Nord"].configured

    page = _save(post_form, shop, {marais: (str(existing.id), True), nord: (str(paris.id), False)}).get_data(
        as_text=True)
    assert "Emplacements enregistrés" in page
    rows = _rows(shop)
    marais, nord = rows["Boutique Le Marais"], rows["Entrepôt Paris Nord"]
    assert (marais.warehouse_id, marais.retail, marais.configured) == (existing.id, True, True)
    assert (nord.warehouse_id, nord.retail, nord.stock_target) == (paris.id, False, True)
    assert _selected(page, marais) == str(existing.id) and _pos_checked(page, marais)
    run_jobs()  # the push queued by the save: the store shows its warehouse's stock
    assert emu.available(SKU, marais.location_gid) == 4

    # the periodic sync keeps the merchant's choice
    jobs.sync_shop(shop.id)
    db.session.commit()
    assert _rows(shop)["Boutique Le Marais"].warehouse_id == existing.id

    placed = emu.place_order([(SKU, 1)], pos_location=marais.location_gid, email="")
    run_jobs()
    order = oms_order(shop, placed)
    assert order.origin == "pos" and order.pos_location == "MARAIS" and order.status == OrderStatus.DELIVERED
    assert db.session.scalar(select(StockLevel.on_hand).where(StockLevel.variant_id == tee.id,
                                                              StockLevel.warehouse_id == existing.id)) == 3
    assert db.session.scalar(select(StockLevel.on_hand).where(StockLevel.variant_id == tee.id,
                                                              StockLevel.warehouse_id == paris.id)) == 10


def test_a_new_store_warehouse_then_a_pos_sale_goes_to_it(client, login, post_form, org, shop, emu, paris,
                                                          run_jobs):
    lyon_gid = emu.add_location("Boutique Lyon Presqu'île", online=False, city="Lyon")
    popup_gid = emu.add_location("Pop-up Noël", online=False, city="Lille")
    login(client)
    url = f"/apps/shopify/shops/{shop.id}/locations"
    post_form(f"{url}/read", page=url)
    rows = _rows(shop)
    lyon, popup = rows["Boutique Lyon Presqu'île"], rows["Pop-up Noël"]
    assert lyon.warehouse_id is None and popup.warehouse_id is None  # read only
    stores_before = db.session.scalar(select(func.count()).select_from(Warehouse).where(
        Warehouse.kind == WarehouseKind.STORE))

    page = _save(post_form, shop, {lyon: ("new", True), popup: ("none", True)}).get_data(as_text=True)

    assert "Emplacements enregistrés" in page
    rows = _rows(shop)
    lyon, popup = rows["Boutique Lyon Presqu'île"], rows["Pop-up Noël"]
    store = db.session.get(Warehouse, lyon.warehouse_id)
    assert store.kind == WarehouseKind.STORE and store.shop_id == shop.id and store.name == "Boutique Lyon Presqu'île"
    assert store.code == "BOUTIQUE-LYON-PRESQU-ILE" and store.country == "FR"
    assert lyon.retail and not lyon.stock_target
    assert (popup.ignored, popup.retail, popup.warehouse_id) == (True, False, None)
    assert db.session.scalar(select(func.count()).select_from(Warehouse).where(
        Warehouse.kind == WarehouseKind.STORE)) == stores_before + 1
    # saved twice: the same warehouse, not a second one
    _save(post_form, shop, {lyon: ("new", True)})
    assert _rows(shop)["Boutique Lyon Presqu'île"].warehouse_id == store.id
    assert db.session.scalar(select(func.count()).select_from(Warehouse).where(
        Warehouse.kind == WarehouseKind.STORE)) == stores_before + 1

    tee = variant_by_sku(org.id, SKU)
    stock(tee, store, 6)
    jobs.push_stock(shop.id, [tee.id])
    db.session.commit()
    assert emu.available(SKU, lyon_gid) == 6
    assert emu.available(SKU, popup_gid) == 0  # not used: nothing sent there

    placed = emu.place_order([(SKU, 2)], pos_location=lyon_gid, email="")
    run_jobs()

    order = oms_order(shop, placed)
    assert order.origin == "pos" and order.pos_location == store.code
    assert order.status == OrderStatus.DELIVERED and order.lines[0].warehouse_id == store.id
    assert db.session.scalar(select(StockLevel.on_hand).where(StockLevel.variant_id == tee.id,
                                                              StockLevel.warehouse_id == store.id)) == 4
    assert emu.available(SKU, lyon_gid) == 4
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop.id,
                                                                           Order.origin == "pos")) == 1


def test_another_merchants_locations_are_404(client, login, post_form, make_org, shop_factory, emu, base_url):
    other = make_org("Concurrent")
    theirs = connect(shop_factory("shopify", "Leur boutique", organization=other), emu, base_url)
    login(client)
    mine = shop_factory("shopify", "Ma boutique")
    mine_url = f"/apps/shopify/shops/{mine.id}/locations"
    assert client.get(mine_url).status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(mine_url).get_data(as_text=True)).group(1)
    url = f"/apps/shopify/shops/{theirs.id}/locations"
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/read", data={"csrf_token": token}).status_code == 404
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert "Locations" not in emu.operations  # nothing read for them
    assert client.get("/apps/shopify/shops/999999/locations").status_code == 404
