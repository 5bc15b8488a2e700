"""One add-on, several catalog cards (``register_catalog_entries``): each card searchable,
filtered by category and by sector, its own logo placeholder, and a shop created from a card
is for that entry (``Shop.marketplace``)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import Shop
from tests.fixtures import FAKE_ADDONS


@pytest.fixture
def addons():
    return ["alpha", "beta", "gamma"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": {**FAKE_ADDONS, "gamma": "tests.fake_addons.gamma.hooks"}}


def cards(page: str) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(3)) for m in
            re.finditer(r'data-addon="(\w+)"( data-entry="(\w+)")?', page)]


def test_one_card_per_entry_and_one_for_the_others(client, login):
    login(client)
    page = client.get("/integrations/").get_data(as_text=True)
    assert sorted(cards(page)) == [("alpha", None), ("beta", None), ("gamma", "north"), ("gamma", "south")]
    assert "Gamma Nord" in page and "https://north.example" in page
    assert "Tous les rayons" in page  # the sector filter appears once an entry has one


def test_search_and_filters_reach_the_entries(client, login):
    login(client)
    assert cards(client.get("/integrations/?q=nord").get_data(as_text=True)) == [("gamma", "north")]
    assert cards(client.get("/integrations/?q=V%C3%89LO").get_data(as_text=True)) == [("gamma", "south")]
    assert cards(client.get("/integrations/?sector=home").get_data(as_text=True)) == [("gamma", "north")]
    page = client.get("/integrations/?category=marketplace").get_data(as_text=True)
    assert sorted(cards(page)) == [("beta", None), ("gamma", "north"), ("gamma", "south")]
    assert cards(client.get("/integrations/?q=beta").get_data(as_text=True)) == [("beta", None)]


def test_entry_page_icon_and_shop_for_the_entry(client, login, post_form, org):
    login(client)
    page = client.get("/integrations/gamma?entry=south").get_data(as_text=True)
    assert "Gamma Sud" in page and 'value="south"' in page
    assert client.get("/integrations/gamma?entry=west").status_code == 404
    icon = client.get("/integrations/gamma/icon?entry=north")
    assert icon.mimetype == "image/svg+xml" and b"#123456" in icon.data and b">GN<" in icon.data
    res = post_form("/integrations/gamma/shops", {"name": "Sud", "entry": "south", "sync_mode": "hourly"},
                    page="/integrations/gamma?entry=south")
    assert res.status_code == 302
    shop = db.session.scalar(select(Shop).where(Shop.organization_id == org.id))
    assert shop.addon == "gamma" and shop.marketplace == "south"
    listing = client.get("/integrations/?q=gamma").get_data(as_text=True)
    south = listing.split('data-entry="south"')[1]
    north = listing.split('data-entry="north"')[1].split('data-entry="south"')[0]
    assert "1 boutique" in south and "1 boutique" not in north
    bad = post_form("/integrations/gamma/shops", {"name": "Ouest", "entry": "west", "sync_mode": "hourly"},
                    page="/integrations/gamma")
    assert bad.status_code == 404
