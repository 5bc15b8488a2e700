"""The wire check is Shopify's, not ours: every operation the client sends validates against
Shopify's own published Admin schema, and the emulator executes on that schema."""
from __future__ import annotations

import pytest

from addons.shopify import graphql as operations
from addons.shopify import sandbox
from addons.shopify.admin_schema import CHANGES, admin_schema, check, published
from addons.shopify.client import SHOP_QUERY
from addons.shopify.sandbox_schema import schema

SENT = {name: value for name, value in vars(operations).items()
        if isinstance(value, str) and value.strip().startswith(("query", "mutation"))}
SENT["SHOP_QUERY"] = SHOP_QUERY


def test_every_operation_is_checked():
    assert len(SENT) >= 17


@pytest.mark.parametrize("name", sorted(SENT))
def test_the_operation_is_valid_in_shopifys_schema(name):
    assert check(SENT[name]) == []


def test_the_schema_is_shopifys_published_one_with_documented_changes():
    raw = published()["__schema"]
    assert raw["queryType"]["name"] == "QueryRoot" and len(raw["types"]) > 1500
    assert all(source and what for _v, what, source, _c in CHANGES)
    assert admin_schema().get_type("Order") is not None


def test_the_emulator_runs_on_shopifys_schema():
    assert schema() is admin_schema()


def test_a_field_shopify_does_not_have_is_refused_by_the_emulator():
    assert check("{ shop { name invented } }") == ["Cannot query field 'invented' on type 'Shop'."]
    emu = sandbox.ShopifyEmulator()
    answer, _status = emu.execute(sandbox.DEMO_TOKEN, {"query": "{ shop { name invented } }"})
    assert "errors" in answer and "invented" in answer["errors"][0]["message"]
