"""The product page shows where the product stands on each channel, through the add-ons'
``product_channel_actions``: Shopify's "Publier", Amazon's listings by marketplace."""
from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Product, Variant, VariantBinding


@pytest.fixture
def addons():
    return ["shopify", "amazon"]


def test_product_page_lists_each_channel_with_its_action(client, login, org, shop_factory):
    from addons.amazon.models import AmazonListing

    login(client)
    shopify = shop_factory("shopify", "Boutique Shopify")
    amazon = shop_factory("amazon", "Amazon FR")
    product = Product(organization_id=org.id, title="Mug")
    db.session.add(product)
    db.session.flush()
    blue = Variant(organization_id=org.id, product_id=product.id, sku="MUG-B", title="Bleu")
    pink = Variant(organization_id=org.id, product_id=product.id, sku="MUG-R", title="Rose")
    db.session.add_all([blue, pink])
    db.session.flush()
    db.session.add_all([
        VariantBinding(shop_id=shopify.id, variant_id=blue.id, external_id="gid://shopify/ProductVariant/1"),
        AmazonListing(shop_id=amazon.id, sku="MUG-B", marketplace_id="A13V1IB3VIYZZH", variant_id=blue.id,
                      status="BUYABLE", amazon_quantity=4),
    ])
    db.session.commit()
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "data-channel-actions" in page
    assert "1 variante(s) sur 2 en vente" in page and "Publier les autres variantes" in page
    assert f'action="/apps/shopify/products/{product.id}/push"' in page
    assert "MUG-B · Amazon.fr" in page and "En vente (4 en stock chez Amazon)" in page


def test_no_channel_no_section(client, login, org):
    login(client)
    product = Product(organization_id=org.id, title="Seul")
    db.session.add(product)
    db.session.commit()
    assert "data-channel-actions" not in client.get(f"/products/{product.id}").get_data(as_text=True)
