"""The help a newcomer finds on the demo (``make run``), in a real browser, French and English:
the help centre renders and searches, an add-on's README reads as formatted text (never raw
Markdown), and the Amazon diagnostic names a wrong marketplace chosen in the settings form."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from core.demo import DEMO_PASSWORD, DEMO_USERS
from core.extensions import db
from core.models import Shop
from core.testing import demo_served
from tests.proc_helpers import wait_for
from tests.test_scan_browser import chromium, signed_in  # noqa: F401  (chromium: the fixture)

pytestmark = pytest.mark.browser
#: what raw Markdown leaves on a page: headings, bold, inline code, table rules, links
RAW_MARKDOWN = re.compile(r"(^|\n)\s*#{1,6} |\*\*[^*\n]+\*\*|`[^`\n]+`|\|\s*-{3,}|\]\(https?://")
NL = "A1805IZSGTT6HS"  # Amazon.nl


@pytest.fixture
def demo(tmp_path) -> Iterator[tuple[str, int]]:
    """The demo served as ``make run`` serves it, with its Amazon shop: (base URL, shop id),
    once the demo's own connection test (queued a few seconds after start-up) has run, so
    that it cannot land in the middle of a test that changes the shop's settings."""
    with demo_served(tmp_path, ["amazon"]) as (app, url):
        with app.app_context():
            shop = db.session.query(Shop).filter(Shop.addon == "amazon").one()
            shop_id = shop.id

            def checked():
                db.session.expire_all()
                return shop.addon_row("amazon").last_checked_at

            wait_for(checked, 60, what="the demo's connection test")
            db.session.remove()
        yield url, shop_id


def _visible(page) -> str:
    return page.inner_text("main") if page.locator("main").count() else page.inner_text("body")


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("lang, width", [("fr", 1280), ("en", 390)])
def test_the_help_centre_renders_and_searches(chromium, demo, lang, width):  # noqa: F811
    url, _shop = demo
    query, title, found = {"fr": ("double", "Problèmes courants", "commandes en double"),
                           "en": ("duplicate", "Common problems", "duplicate orders")}[lang]
    with signed_in(chromium, url, DEMO_USERS[0][0], DEMO_PASSWORD, width=width, lang=lang) as page:
        page.goto(f"{url}/")
        toggle = page.locator("label.nav-toggle-label")
        if toggle.is_visible():  # on a phone the navigation is behind "Menu"
            toggle.click()
        page.get_by_role("link", name={"fr": "Aide", "en": "Help"}[lang], exact=True).first.click()
        page.wait_for_url("**/help**")
        text = _visible(page)
        assert not RAW_MARKDOWN.search(text), RAW_MARKDOWN.search(text).group(0)
        assert page.locator("main h1, main h2").count() >= 1
        _fits(page, width)

        box = page.locator("input[type=search], input[name=q]").first
        box.fill(query)
        box.press("Enter")
        page.wait_for_load_state()
        results = page.locator("[data-results]")
        assert title in results.inner_text(), results.inner_text()[:2000]
        results.locator("li a").first.click()
        page.wait_for_load_state()
        answer = _visible(page)
        assert found in answer and not RAW_MARKDOWN.search(answer), answer[:2000]
        assert page.locator("main h2", has_text=found).count() == 1  # the guide's problem is a heading of its own
        _fits(page, width)


@pytest.mark.parametrize("lang, width", [("fr", 1280), ("en", 390)])
def test_an_addon_readme_is_rendered_never_raw(chromium, demo, lang, width):  # noqa: F811
    url, shop_id = demo
    with signed_in(chromium, url, DEMO_USERS[0][0], DEMO_PASSWORD, width=width, lang=lang) as page:
        for path in ("/integrations/amazon", f"/integrations/amazon/shops/{shop_id}/configure"):
            page.goto(url + path)
            prose = page.locator(".prose")
            assert prose.count() >= 1, path
            text = prose.first.inner_text()
            assert len(text) > 200 and not RAW_MARKDOWN.search(text), (path, text[:500])
            assert prose.first.locator("h2, h3, strong, li, table").count() >= 3, path  # formatted, not flattened
            _fits(page, width)


@pytest.mark.parametrize("lang, width", [("fr", 1280), ("en", 390)])
def test_the_amazon_diagnostic_names_a_wrong_marketplace(chromium, demo, lang, width):  # noqa: F811
    url, shop_id = demo
    said = {"fr": "Vous avez choisi Amazon.nl, mais votre compte vend sur Amazon.fr",
            "en": "You chose Amazon.nl, but your account sells on Amazon.fr"}[lang]
    with signed_in(chromium, url, DEMO_USERS[0][0], DEMO_PASSWORD, width=width, lang=lang) as page:
        page.goto(f"{url}/integrations/amazon/shops/{shop_id}/configure")
        page.select_option("select[name=marketplaces]", [NL])  # the merchant picks Amazon.nl only
        page.locator("button[name=then][value=save]").click()
        page.wait_for_load_state()
        page.goto(f"{url}/integrations/shops/{shop_id}/diagnostic")
        text = _visible(page)
        assert said in text, text[:3000]
        assert page.locator("li[data-check=error]", has_text=said).count() == 1  # red, not a warning
        assert NL not in text  # the marketplace by its name, never its id
        _fits(page, width)
