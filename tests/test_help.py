"""The help centre at /help: the guide's pages in French and English, a page per add-on from its
readme rendered (never raw Markdown), search, and a start checklist ticked from the account."""
from __future__ import annotations

import re

import pytest

from core.extensions import db
from core.markdown import render
from core.models import ConnectionStatus, Product, Variant


@pytest.fixture
def addons():
    return ["amazon", "shopify", "sendcloud"]


def _raw_markdown(html: str) -> list[str]:
    text = re.sub(r"<(pre|code)[^>]*>.*?</\1>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return [m for m in re.findall(r"(?m)^\s*#{1,6} \S.*$|\*\*[^*\n]+\*\*|^\s*\|.*\|\s*$|`[^`\n]+`", text)]


def test_every_page_renders_in_both_languages_without_raw_markdown(client, login):
    login(client)
    for lang in ("fr", "en"):
        index = client.get(f"/help/?lang={lang}").get_data(as_text=True)
        assert "data-checklist" in index
        links = sorted(set(re.findall(r'href="(/help/[^"?#]+)"', index)))
        assert "/help/problemes" in links and "/help/addons/amazon" in links and "/help/addons/shopify" in links
        for link in links:
            res = client.get(link)
            assert res.status_code == 200, link
            body = res.get_data(as_text=True)
            article = body[body.index("data-help-page"):]
            assert not _raw_markdown(article), (link, _raw_markdown(article)[:3])
    assert "Common problems" in client.get("/help/problemes?lang=en").get_data(as_text=True)
    assert "MWS" in client.get("/help/problemes?lang=fr").get_data(as_text=True)  # today's credentials explained


def test_search_finds_the_guides_problems_accents_aside(client, login):
    login(client)
    page = client.get("/help/?q=doublons").get_data(as_text=True)
    assert "data-results" in page and 'href="/help/problemes"' in page.split("data-results")[1].split("</section>")[0]
    page = client.get("/help/?q=etiquette+refusee").get_data(as_text=True)  # « étiquette est refusée »
    assert 'href="/help/problemes"' in page.split("data-results")[1].split("</section>")[0]
    page = client.get("/help/?q=zzzxqv").get_data(as_text=True)
    assert "Rien trouvé" in page


def test_the_checklist_ticks_from_the_real_state(client, login, org, shop_factory):
    login(client)
    page = client.get("/help/demarrer").get_data(as_text=True)
    assert 'data-step="shop" data-done="no"' in page and 'data-step="products" data-done="no"' in page
    shop = shop_factory("shopify", "Ma boutique")
    shop.status = ConnectionStatus.CONNECTED
    product = Product(organization_id=org.id, title="Mug")
    db.session.add(product)
    db.session.flush()
    db.session.add(Variant(organization_id=org.id, product_id=product.id, sku="MUG"))
    db.session.commit()
    page = client.get("/help/demarrer").get_data(as_text=True)
    assert 'data-step="shop" data-done="yes"' in page and 'data-step="products" data-done="yes"' in page
    assert 'data-step="label" data-done="no"' in page


def test_readmes_are_rendered_on_the_catalogue_and_settings_pages(client, login, shop_factory):
    login(client)
    shop = shop_factory("amazon", "Amazon")
    for url in ("/integrations/amazon", f"/integrations/amazon/shops/{shop.id}/configure"):
        page = client.get(url).get_data(as_text=True)
        prose = "".join(re.findall(r'<div class="prose">(.*?)</div>\s*</section>', page, flags=re.S))
        assert prose and not _raw_markdown(prose), (url, _raw_markdown(prose)[:3])
    settings = client.get(f"/integrations/amazon/shops/{shop.id}/configure").get_data(as_text=True)
    assert 'href="/help/addons/amazon"' in settings  # the "?" beside the form


def test_markdown_is_rendered_safely():
    html = str(render("**gras** <script>alert(1)</script> [x](javascript:alert(1)) [y](https://ex.fr)\n\n"
                      "| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<strong>gras</strong>" in html and "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and 'href="https://ex.fr" rel="noopener noreferrer" target="_blank"' in html
    assert "<table>" in html


def test_pickers_have_help_too(app, client, login):
    from core.models import Role

    login(client, Role.PICKER)
    assert client.get("/help/preparation").status_code == 200
