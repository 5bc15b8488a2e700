"""A channel listing without product, fixed by the merchant: linked to a variant or made a
product; either way the orders held for its SKU resume, and nothing crosses organizations."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import listings
from core.extensions import db
from core.intake import ingest
from core.models import Order, OrderStatus, Product, SkuAlias, Variant
from tests.fixtures import FAKE_ADDONS
from tests.pipeline_helpers import norm, variant, warehouse


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


def _held(shop, sku: str) -> Order:
    order = db.session.get(Order, ingest(shop, norm(f"H-{sku}", [(sku, 1)])).order_id)
    db.session.commit()
    assert order.status == OrderStatus.ON_HOLD and order.hold_code == "unknown_sku"
    return order


def test_linking_makes_an_alias_and_resumes_the_held_order(app, org, shop_factory):
    shop = shop_factory("beta")
    warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG-STD")
    db.session.commit()
    held = _held(shop, "CH-MUG-1")
    found = listings.apply(shop, "link", listings.RemoteListing(sku="CH-MUG-1"), " MUG-STD ")
    db.session.commit()
    assert found.id == mug.id
    assert db.session.scalar(select(SkuAlias.variant_id).where(SkuAlias.sku == "CH-MUG-1")) == mug.id
    db.session.expire_all()
    order = db.session.get(Order, held.id)
    assert order.hold_code != "unknown_sku" and order.lines[0].variant_id == mug.id


def test_creating_a_product_takes_the_listings_fields(app, org, shop_factory):
    shop = shop_factory("beta")
    warehouse(org.id, "PAR")
    db.session.commit()
    held = _held(shop, "POSTER-1")
    made = listings.apply(shop, "create", listings.RemoteListing(
        sku="POSTER-1", title="Poster vintage", price=Decimal("12.90"), barcode="3760000000999"))
    db.session.commit()
    assert (made.product.title, made.price, made.barcode) == ("Poster vintage", Decimal("12.90"), "3760000000999")
    db.session.expire_all()
    assert db.session.get(Order, held.id).lines[0].variant_id == made.id


def test_what_cannot_be_fixed_is_refused_in_words_and_changes_nothing(app, org, make_org, shop_factory):
    shop = shop_factory("beta")
    variant(org.id, "MUG-STD")
    stranger = make_org("Concurrent")
    variant(stranger.id, "SECRET-1")
    db.session.commit()
    products = db.session.scalar(select(func.count()).select_from(Product))
    cases = [("link", "X-1", ""), ("link", "X-1", "SECRET-1"), ("create", "MUG-STD", None), ("create", "  ", None),
             ("delete", "X-1", "MUG-STD")]
    for action, remote, typed in cases:
        with pytest.raises(listings.ListingFixError) as refused:
            listings.apply(shop, action, listings.RemoteListing(sku=remote), typed)
        with app.test_request_context():  # the sentence, in the merchant's language
            assert "Error" not in str(refused.value) and str(refused.value).endswith(".")
    assert db.session.scalar(select(func.count()).select_from(Product)) == products
    assert db.session.scalar(select(func.count()).select_from(SkuAlias)) == 0
    assert db.session.scalar(select(func.count()).select_from(Variant).where(Variant.sku == "SECRET-1")) == 1
