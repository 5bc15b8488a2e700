"""Every list page fits a laptop (1280 px) and a phone (390 px) in a real browser: no page
wider than the screen, and on a phone the orders' number, total and status stay in view
while the other columns fold into the first cell."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from core import create_app
from core.demo import DEMO_PASSWORD, load_demo
from core.extensions import db
from tests.fixtures import FAKE_ADDONS
from tests.test_scan_browser import chromium, signed_in  # noqa: F401  (chromium: the fixture)

pytestmark = pytest.mark.browser
PAGES = ["/", "/orders", "/exceptions", "/products", "/stock", "/preparation/waves", "/returns", "/analytics/",
         "/integrations/", "/alerts", "/team", "/plan"]


@pytest.fixture
def demo_served(tmp_path) -> Iterator[str]:
    from werkzeug.serving import make_server

    app = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "ADDONS": ["alpha", "beta"],
                      "ADDON_MODULES": FAKE_ADDONS, "JOBS_MODE": "manual", "REDIS_URL": None,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'tables.db'}",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("width,lang", [(1280, "fr"), (390, "en")])
def test_list_pages_fit_laptops_and_phones(chromium, demo_served, width, lang):  # noqa: F811
    with signed_in(chromium, demo_served, "demo@oms.example", DEMO_PASSWORD, width=width, lang=lang) as page:
        too_wide = []
        for path in PAGES:
            page.goto(demo_served + path)
            if page.evaluate("document.documentElement.scrollWidth") > width:
                culprits = page.evaluate(f"""Array.from(document.querySelectorAll('body *'))
                    .filter(e => e.getBoundingClientRect().right > {width} && !e.closest('.table-wrap'))
                    .map(e => e.tagName + '.' + e.className).slice(0, 3)""")
                too_wide.append(f"{path}: {culprits}")
        assert not too_wide
        if width < 640:
            page.goto(demo_served + "/orders")
            headers = page.evaluate("""Array.from(document.querySelectorAll('thead th'))
                .filter(th => getComputedStyle(th).display !== 'none')
                .map(th => [th.textContent.trim(), th.getBoundingClientRect().right])""")
            names = [name for name, _right in headers]
            assert names[1:] == ["Number", "Total", "Status"], names
            assert all(right <= width for _name, right in headers), headers
            first = page.locator("tbody tr").first.locator("td").nth(1)
            assert "démo" in first.inner_text()  # the shop, folded into the first cell
