"""A newcomer on the demo (``make run``) connects a NEW Shopify store from the catalog, in a
real browser: Intégrations › Shopify › new shop › its domain, client id and secret left
empty › "Installer sur Shopify" › Shopify's install screen › "Installer l'application" ›
back on the catalog "✅ Connecté" › the shop's page shows its products imported (n / n).

The app runs as ``make run`` runs it: the emulators mounted, the embedded job runner, an
SQLite file. ``SCREENSHOTS_DIR`` keeps the screenshots of each step there."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from addons.shopify.sandbox import stop_customers
from core.demo import DEMO_PASSWORD, DEMO_USERS
from core.extensions import db
from core.testing import demo_served
from tests.test_scan_browser import chromium  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser
DOMAIN = "atelier-bleu.myshopify.com"
WORDS = {"fr": {"install": "Installer sur Shopify", "approve": "Installer l'application", "connected": "✅ Connecté",
                "imported": "3 / 3 produits importés", "done": "Terminé"},
         "en": {"install": "Install on Shopify", "approve": "Install app", "connected": "✅ Connected",
                "imported": "3 / 3 products imported", "done": "Done"}}


@pytest.fixture
def demo_app(tmp_path) -> Iterator:
    """The demo as ``make run`` serves it, on a loopback port."""
    with demo_served(tmp_path, ["shopify"]) as (app, url):
        try:
            yield app, url
        finally:
            stop_customers(app)


@pytest.fixture
def demo(demo_app) -> str:
    return demo_app[1]


def _browser(pw, chromium: str, width: int, lang: str):  # noqa: F811
    browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                 args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="fr-FR" if lang == "fr" else "en-GB")
    return browser, page


def _login(page, url: str, lang: str) -> None:
    page.goto(f"{url}/login?lang={lang}")
    page.fill("#email", DEMO_USERS[0][0])
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("width,lang", [(1280, "fr"), (390, "fr"), (1280, "en"), (390, "en")])
def test_a_new_store_is_installed_from_the_catalog_and_its_products_imported(chromium, demo, width,  # noqa: F811
                                                                               lang):
    from playwright.sync_api import expect, sync_playwright

    words = WORDS[lang]
    shots = os.environ.get("SCREENSHOTS_DIR")

    def shot(page, step: str) -> None:
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"install-{width}-{lang}-{step}.png"), full_page=True)

    with sync_playwright() as pw:
        browser, page = _browser(pw, chromium, width, lang)
        try:
            _login(page, demo, lang)
            page.goto(f"{demo}/integrations/shopify")
            page.fill("input[name=name]", "Atelier Bleu")
            page.click("form[action$='/integrations/shopify/shops'] button[type=submit]")
            page.wait_for_url("**/configure")
            page.fill("input[name=shop_domain]", DOMAIN)
            assert page.input_value("input[name=api_key]") == "" and page.input_value("input[name=api_secret]") == ""
            install = page.locator("button#install")
            expect(install).to_have_text(words["install"])
            install.click()

            page.wait_for_url(f"**/sandbox/shopify/stores/{DOMAIN}/admin/oauth/authorize**")
            expect(page.locator("[data-scopes] li").first).to_be_visible()
            shot(page, "1-consent")
            approve = page.locator("button[value=install]")
            expect(approve).to_have_text(words["approve"])
            approve.click()

            page.wait_for_url("**/integrations/")
            line = page.locator(".addon-card[data-addon=shopify] li", has_text="Atelier Bleu")
            expect(line).to_contain_text(words["connected"])
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            shot(page, "2-catalog")

            line.get_by_role("link", name="Atelier Bleu").click()
            progress = page.locator("[data-import-progress]")
            expect(progress.locator("[data-progress-text]")).to_have_text(words["imported"], timeout=30_000)
            expect(progress.locator("[data-progress-state]")).to_contain_text(words["done"])
            expect(progress.locator("progress")).to_have_attribute("value", "100")
            expect(page.locator("[data-connected]")).to_contain_text(words["connected"])
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            shot(page, "3-shop")
        finally:
            browser.close()


def test_the_progress_bar_follows_a_running_import(chromium, demo_app):  # noqa: F811
    """The shop page polls while the import runs: the bar, the count and the refused items
    follow what the job writes, without a reload."""
    from playwright.sync_api import expect, sync_playwright
    from sqlalchemy import select

    from core.models import Shop, SyncLog, SyncStatus

    app, url = demo_app
    with app.app_context():
        shop_id = db.session.scalar(select(Shop.id).where(Shop.addon == "shopify"))
        entry = SyncLog(shop_id=shop_id, func="addons.shopify.jobs.import_products", status=SyncStatus.RUNNING,
                        progress_done=1, progress_total=4, progress_unit="products", progress_errors=[])
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
        db.session.remove()
    with sync_playwright() as pw:
        browser, page = _browser(pw, chromium, 1280, "fr")
        try:
            _login(page, url, "fr")
            page.goto(f"{url}/apps/shopify/shops/{shop_id}")
            progress = page.locator("[data-import-progress]")
            expect(progress.locator("[data-progress-text]")).to_have_text("1 / 4 produits importés")
            expect(progress.locator("progress")).to_have_attribute("value", "25")
            with app.app_context():
                row = db.session.get(SyncLog, entry_id)
                row.progress_done, row.status = 4, SyncStatus.OK
                row.progress_errors = [{"ref": "Mug / Bleu", "message": "Variante sans SKU dans Shopify : ajoutez-lui "
                                        "un SKU pour la relier à un article de l'OMS, puis relancez l'import."}]
                db.session.commit()
                db.session.remove()
            expect(progress.locator("[data-progress-text]")).to_have_text("4 / 4 produits importés")
            expect(progress.locator("[data-progress-state]")).to_have_text("Terminé, 1 refus")
            expect(progress.locator("[data-progress-errors] li")).to_have_text(
                "Mug / Bleu : Variante sans SKU dans Shopify : ajoutez-lui un SKU pour la relier à un article de "
                "l'OMS, puis relancez l'import.")
            expect(progress).to_have_attribute("data-running", "false")
        finally:
            browser.close()
