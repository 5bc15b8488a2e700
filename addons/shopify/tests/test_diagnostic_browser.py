"""The diagnostic page in a real browser, French and English, laptop and phone: a Shopify shop
on the emulator with orders waiting at Shopify, a subscription missing and a product not
published shows those lines, with the "Importer maintenant" and "Réenregistrer" buttons,
and no page wider than the screen."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from addons.shopify import jobs, sandbox
from addons.shopify.tests.helpers import connect
from core import create_app
from core.extensions import db
from core.models import Organization, Role, Shop, User, utcnow
from core.plans import ensure_plans
from core.services import create_shop
from tests.pipeline_helpers import variant, warehouse
from tests.test_scan_browser import chromium, signed_in  # noqa: F401  (chromium: the fixture)

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def _serve(wsgi_app) -> tuple[str, object, threading.Thread]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server, thread


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, int]]:
    """The OMS and the Shopify emulator, each on its own port; one shop with problems."""
    emu = sandbox.ShopifyEmulator(sender=lambda *_: 503)  # the OMS is unreachable from "Shopify"
    emu_url, emu_server, emu_thread = _serve(sandbox.make_app(emu))
    app = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "ADDONS": ["shopify"], "JOBS_MODE": "manual",
                      "REDIS_URL": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'diag.db'}",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        ensure_plans()
        org = Organization(name="Maison Lune", plan_code="free")
        db.session.add(org)
        db.session.commit()
        user = User(organization_id=org.id, email="owner@lune.example", name="Owner", role=Role.OWNER)
        user.set_password(PASSWORD)
        db.session.add(user)
        paris = warehouse(org.id, "PAR")
        variant(org.id, "TASSE-BLEUE", {paris: 20})
        variant(org.id, "PLAID-OCRE", {paris: 3})  # never published on Shopify
        db.session.commit()
        shop = connect(create_shop(org, "shopify", "Lune Shopify"), emu, emu_url)
        db.session.commit()
        jobs.sync_shop(shop.id)
        db.session.expire_all()
        shop = db.session.get(Shop, shop.id)
        shop.sync_cursor = (utcnow() - timedelta(hours=3)).isoformat()  # the OMS stopped reading
        db.session.commit()
        for minutes in (150, 90):
            emu.place_order([("TASSE-BLEUE", 1)], notify=False, updated_at=time.time() - minutes * 60)
        for sid, sub in list(emu.subscriptions.items()):
            if sub["topic"] == "orders/create":
                del emu.subscriptions[sid]
        shop_id = shop.id
        db.session.remove()
    url, server, thread = _serve(app)
    try:
        yield url, shop_id
    finally:
        for srv, thr in ((server, thread), (emu_server, emu_thread)):
            srv.shutdown()
            thr.join(5)
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("lang, width", [("fr", 1280), ("fr", 390), ("en", 1280), ("en", 390)])
def test_the_diagnostic_page_says_each_problem_in_the_merchants_language(chromium, served, lang, width,  # noqa: F811
                                                                          tmp_path):
    url, shop_id = served
    words = {
        "fr": ["2 commandes chez Shopify pas encore dans l'OMS", "Importer maintenant",
               "1 notification manquante chez Shopify", "commandes créées", "Réenregistrer",
               "produits de l'OMS sans annonce sur Shopify", "PLAID-OCRE : publier sur Shopify",
               "Le jeton d'accès Shopify n'expire pas"],
        "en": ["2 orders at Shopify not in the OMS yet", "Import now", "1 notification missing at Shopify",
               "orders created", "Register again", "OMS products with no listing on Shopify",
               "PLAID-OCRE: publish on Shopify", "The Shopify access token does not expire"],
    }[lang]
    with signed_in(chromium, url, "owner@lune.example", PASSWORD, width=width, lang=lang) as page:
        page.goto(f"{url}/integrations/shops/{shop_id}/diagnostic")
        text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
        for needle in words:
            assert needle in text, (needle, text[:3000])
        assert "Error" not in text and "gid://" not in text and "ORDERS_CREATE" not in text
        buttons = page.locator("form button[data-fix]")
        assert buttons.count() >= 2  # "Importer maintenant" and "Réenregistrer" are actions
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shots = Path(tmp_path) / f"diagnostic-{lang}-{width}.png"
        page.screenshot(path=str(shots), full_page=True)
        assert shots.stat().st_size > 10_000
