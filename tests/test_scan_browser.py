"""The scan page in a real browser (headless Chromium driven by Playwright), on a phone-sized
screen, with the app served on a loopback port over an SQLite file.

A right scan counts and turns green, a wrong one is refused in red with the error beep, a
GTIN with a wrong check digit is refused by the page itself, and the last unit completes the
order. In CI (``CI=true``) a missing Chromium fails the test; elsewhere it is skipped.
"""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core import create_app, picking
from core.extensions import db
from core.models import Organization, Plan, Role, User
from core.services import create_shop
from tests.fixtures import FAKE_ADDONS
from tests.picking_helpers import allocated, ean13, stocked
from tests.pipeline_helpers import warehouse

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "correct horse battery"
MUG = ean13("301234567890")
TEE = ean13("376000000001")
PHONE = {"width": 390, "height": 844}
RED = "rgb(179, 38, 30)"  # --c-error
GREEN = "rgb(23, 104, 58)"  # --c-ok


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser test cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if not path:
        _unavailable(f"Chromium not found at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        _unavailable(f"playwright is not installed: {exc}")
    return path


@contextmanager
def signed_in(chromium_path: str, base_url: str, email: str, password: str, *, width: int = 1280,
              lang: str = "fr") -> Iterator:
    """A Chromium page of ``width`` pixels, signed in to the OMS at ``base_url`` in ``lang``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{base_url}/login?lang={lang}")
            page.fill("#email", email)
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            yield page
        finally:
            browser.close()


@pytest.fixture
def served(tmp_path) -> Iterator[dict]:
    """The app on a real port, with one wave of one order to pick (MUG × 1, TEE × 2)."""
    from werkzeug.serving import make_server

    app = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "ADDONS": ["alpha", "beta"],
                      "ADDON_MODULES": FAKE_ADDONS, "JOBS_MODE": "manual", "REDIS_URL": None,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'browser.db'}",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        db.session.add(Plan(code="free", name="Gratuit", monthly_order_limit=100))
        org = Organization(name="Boutique navigateur", plan_code="free")
        db.session.add(org)
        db.session.flush()
        user = User(organization_id=org.id, email="picking@example.com", name="Préparateur", role=Role.PICKER)
        user.set_password(PASSWORD)
        db.session.add(user)
        wh = warehouse(org.id, "PAR")
        stocked(org.id, wh, "MUG", 5, barcode=MUG, bin_code="A-01-01")
        stocked(org.id, wh, "TEE", 5, barcode=TEE, bin_code="A-01-02")
        stocked(org.id, wh, "CAP", 5, barcode=ean13("036000291450"), bin_code="A-01-03")
        shop = create_shop(org, "beta", "Boutique Beta")
        db.session.commit()
        allocated(shop, "b-1", [("MUG", 1), ("TEE", 2)])
        wave = picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh.id))
        db.session.commit()
        wave_id = wave.id
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "wave_id": wave_id}
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


def test_scan_page_counts_refuses_and_completes_on_a_phone(chromium, served):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR")
            page.goto(served["url"] + "/login")
            page.fill("#email", "picking@example.com")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/preparation/waves")  # a picker lands on preparation
            page.goto(f"{served['url']}/preparation/waves/{served['wave_id']}/pick")
            status = page.locator("[data-scan-status]")
            scan_input = page.locator("#scan-input")
            expect(scan_input).to_be_focused()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

            # the right item: counted, green
            scan_input.type(MUG)
            scan_input.press("Enter")
            expect(status).to_have_attribute("data-state", "ok")
            expect(status).to_contain_text("MUG ramassé (1/1")
            expect(status).to_have_css("color", GREEN)
            expect(page.locator("[data-key$='|1'] [data-row-done]").first).to_have_text("1")
            assert page.evaluate("document.body.dataset.lastBeep") == "ok"

            # a wrong item: refused, red, the error sound; nothing counted
            scan_input.type(ean13("036000291450"))
            scan_input.press("Enter")
            expect(status).to_have_attribute("data-state", "error")
            expect(status).to_contain_text("Mauvais article : CAP")
            expect(status).to_have_css("color", RED)
            assert page.evaluate("document.body.dataset.lastBeep") == "error"
            expect(page.locator("[data-scan-done]")).to_have_text("1")

            # a misread EAN-13 (wrong check digit) is refused by the page before any request
            requests: list[str] = []
            page.on("request", lambda req: requests.append(req.url) if "/scan/" in req.url else None)
            scan_input.type(TEE[:-1] + str((int(TEE[-1]) + 3) % 10))
            scan_input.press("Enter")
            expect(status).to_have_attribute("data-code", "check_digit")
            expect(status).to_contain_text("chiffre de contrôle")
            assert requests == []

            # the last units complete the walk
            complete = page.locator("[data-scan-complete]")
            expect(complete).to_be_hidden()
            for _ in range(2):
                scan_input.type(TEE)
                scan_input.press("Enter")
                expect(status).to_have_attribute("data-state", "ok")
            expect(page.locator("[data-scan-done]")).to_have_text("3")
            expect(complete).to_be_visible()
            expect(complete).to_contain_text("Tout est ramassé")
            expect(page.locator(".scan-row.is-done")).to_have_count(2)
            expect(scan_input).to_be_focused()
        finally:
            browser.close()
