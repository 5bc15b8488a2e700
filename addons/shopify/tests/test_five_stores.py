"""The guide's "Gérez 5 boutiques Shopify": five stores installed in one organization through
the public app, three selling one shared stock pool and two their own; each order lands on
its OMS shop and reserves from its pool, each stock push reaches only the stores of that pool."""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import ConnectionStatus, Order, Shop, StockLevel, StockPool, StockPoolWarehouse
from tests.pipeline_helpers import variant, warehouse

from .helpers import install

SKU = "DUO-CANDLE"  # sold by all five stores
STORES = ("paris-centre", "paris-rive-gauche", "paris-gare", "lyon-presquile", "marseille-vieux-port")


def _pool(org_id: int, name: str, *warehouses) -> StockPool:
    pool = StockPool(organization_id=org_id, name=name)
    db.session.add(pool)
    db.session.flush()
    for wh in warehouses:
        db.session.add(StockPoolWarehouse(stock_pool_id=pool.id, warehouse_id=wh.id))
    return pool


def _level(variant_id: int, wh) -> tuple[int, int]:
    db.session.expire_all()
    row = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == variant_id,
                                                     StockLevel.warehouse_id == wh.id))
    return row.on_hand, row.reserved


def test_five_stores_two_pools_of_their_own_one_shared(client, login, post_form, shop_factory, org, platform,
                                                       run_jobs):
    stores, _url = platform
    login(client)
    paris, lyon, marseille = (warehouse(org.id, code, priority=n) for n, code in enumerate(("PAR", "LYO", "MRS")))
    candle = variant(org.id, SKU, {paris: 20, lyon: 6, marseille: 9})
    pools = {"PAR": _pool(org.id, "Paris", paris), "LYO": _pool(org.id, "Lyon", lyon),
             "MRS": _pool(org.id, "Marseille", marseille)}
    db.session.commit()
    pool_of = dict(zip(STORES, ("PAR", "PAR", "PAR", "LYO", "MRS")))
    wh_of = {"PAR": paris, "LYO": lyon, "MRS": marseille}
    available = {"PAR": 20, "LYO": 6, "MRS": 9}

    shops: dict[str, Shop] = {}
    for name in STORES:
        domain = f"{name}.myshopify.com"
        store = stores.open_store(domain)  # the merchant's store on Shopify, selling the shared candle
        store.add_product("Duo de bougies", [{"sku": SKU, "price": "29.00", "stock": {store.online_location(): 0}}])
        shop = shop_factory("shopify", name.replace("-", " ").title())
        shop.stock_pool_id = pools[pool_of[name]].id
        db.session.commit()
        res = install(client, post_form, shop, "", domain=domain, api_key="", api_secret="")
        assert res.status_code == 302 and res.headers["Location"].endswith("/integrations/"), name
        shops[name] = shop
    run_jobs()

    db.session.expire_all()
    for name, shop in shops.items():
        shop = db.session.get(Shop, shop.id)
        assert shop.status == ConnectionStatus.CONNECTED, name
        store = stores.store(f"{name}.myshopify.com")
        assert store.available(SKU, store.online_location()) == available[pool_of[name]], name

    for n, name in enumerate(STORES, 1):
        store = stores.store(f"{name}.myshopify.com")
        pushes = {other: stores.store(f"{other}.myshopify.com").operations.count("InventorySet") for other in STORES}
        placed = store.place_order([(SKU, n)], email=f"client{n}@exemple.fr")
        run_jobs()

        # the order is this store's, on its OMS shop only
        db.session.expire_all()
        found = db.session.scalars(select(Order).where(Order.external_id == str(placed["id"]))).all()
        assert [o.shop_id for o in found] == [shops[name].id], name
        pool = pool_of[name]
        available[pool] -= n
        on_hand = {"PAR": 20, "LYO": 6, "MRS": 9}[pool]
        assert _level(candle.id, wh_of[pool])[1] == on_hand - available[pool], name  # reserved from its pool
        # the new figure reaches the stores of that pool, and only them
        for other in STORES:
            other_store = stores.store(f"{other}.myshopify.com")
            assert other_store.available(SKU, other_store.online_location()) == available[pool_of[other]], \
                (name, other)
            if other != name:  # (the store sold it: Shopify lowered its own figure)
                pushed = other_store.operations.count("InventorySet") > pushes[other]
                assert pushed == (pool_of[other] == pool), (name, other)

    # every pool reserved exactly its stores' orders: Paris 1+2+3, Lyon 4, Marseille 5
    assert [_level(candle.id, wh)[1] for wh in (paris, lyon, marseille)] == [6, 4, 5]
