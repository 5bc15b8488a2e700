"""The emulator: Rakuten's errors (HTTP 200 bodies, the kit's faults in Rakuten's format), the
calm demo shop, and the demo's settings."""
from __future__ import annotations

import httpx

from addons.rakuten import sandbox
from addons.rakuten.sandbox import DEMO_LOGIN, DEMO_TOKEN, DEMO_EVERY, Emulator
from core.connectors.emulator import ManualClock, kit_of


def ask(app, **params):
    with app.test_client() as c:
        return c.get("/sales_ws", query_string={"login": DEMO_LOGIN, "pwd": DEMO_TOKEN, **params})


def test_errors_are_rakuten_documents(specs):
    emu = Emulator(clock=ManualClock(1_796_000_000.0))
    res = ask(emu.app, action="acceptsale", version="2010-09-20")
    assert res.status_code == 200 and b"The parameter itemid is mandatory" in res.data
    assert specs.check_xml(res.data) == []
    res = ask(emu.app, action="getnewsales", version="2017-08-07", pwd="nope")
    assert res.status_code == 200 and b"InvalidUserRights" in res.data
    kit_of(emu.app).fail_next(429, retry_after=7)
    res = ask(emu.app, action="getnewsales", version="2017-08-07")
    assert res.status_code == 429 and res.headers["Retry-After"] == "7" and res.mimetype == "text/xml"
    assert b"<errorresponse" in res.data and specs.check_xml(res.data) == []
    kit_of(emu.app).fail_next(500)
    res = ask(emu.app, action="getnewsales", version="2017-08-07")
    assert res.status_code == 500 and b"Server not able to fullfill request." in res.data


def test_the_demo_shop_is_calm(specs):
    clock = ManualClock(1_796_000_000.0)
    emu = Emulator(clock=clock, demo=True)
    ask(emu.app, action="getnewsales", version="2017-08-07")
    assert len(emu.sales) == 3  # the burst at start-up
    for _ in range(10):
        clock.advance(60)
        ask(emu.app, action="getnewsales", version="2017-08-07")
    assert len(emu.sales) == 3  # ten minutes later: nothing new
    clock.advance(DEMO_EVERY)
    ask(emu.app, action="getnewsales", version="2017-08-07")
    ask(emu.app, action="getnewsales", version="2017-08-07")
    assert len(emu.sales) == 4  # one more, not two
    ids = [s.purchaseid for s in emu.sales.values()]
    assert len(set(ids)) == len(ids) and all(len(i) == 10 and i.isdigit() for i in ids)
    other = Emulator(clock=ManualClock(1_796_000_000.0 + 3600), demo=True)
    ask(other.app, action="getnewsales", version="2017-08-07")
    assert not set(other.sales) & set(emu.sales)
    from core.demo import CATALOG

    demo_titles = {entry[0] for entry in CATALOG}
    assert all(i.headline in demo_titles for s in emu.sales.values() for i in s.items)
    assert all(specs.check_xml(body) == [] for _a, body in emu.answers)


def test_demo_settings_point_at_the_emulator(app):
    settings = sandbox.demo_settings("http://127.0.0.1:5000/sandbox/rakuten")
    assert settings["login"] == DEMO_LOGIN and settings["token"] == DEMO_TOKEN
    assert settings["api_base_url"].endswith("/sandbox/rakuten")


def test_the_demo_shop_is_live_in_the_oms(app, serve_wsgi, shop_factory):
    """The demo's Rakuten shop on its emulator: it connects, imports the burst of sales and
    accepts the ones whose stock is there."""
    from core import services
    from core.extensions import db
    from core.models import Order

    from addons.rakuten import jobs

    url = serve_wsgi(sandbox.make_app(clock=ManualClock(1_796_000_000.0)))
    shop = shop_factory("rakuten", name="Rakuten — démo")
    services.save_settings(shop, "rakuten", sandbox.demo_settings(url), {"token"})
    db.session.commit()
    assert services.test_connection(shop, "rakuten").ok
    jobs.sync_orders(shop.id)
    assert db.session.query(Order).filter(Order.shop_id == shop.id).count() == 3
    home = httpx.get(url + "/")
    assert home.status_code == 200 and "boutique de démonstration" in home.text
