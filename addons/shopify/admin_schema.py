"""Shopify's own Admin GraphQL schema, as Shopify publishes it, for the wire check.

``specs/admin_2025-01.json.gz`` is the introspection result of the Admin API 2025-01 that
Shopify ships in its public developer tooling (repository Shopify/dev-mcp, file
``data/admin_schema_2025-01.json.gz``, commit 30cf39631d7c, ISC licence, © Shopify Inc.:
``specs/LICENSE-shopify-dev-mcp.txt``). It is the newest versioned Admin schema Shopify
publishes in a public repository that we found; the add-on speaks 2026-10. The changes
between the two that the add-on's operations rely on are applied below (:data:`CHANGES`),
each with the Shopify changelog or reference page that documents it, so that a query the
client sends is checked against Shopify's schema, not against one written to fit it.

Needs graphql-core (the ``sandbox`` extra): only the emulator and the tests import this.
"""
from __future__ import annotations

import copy
import functools
import gzip
import json
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_client_schema, parse, validate

SPEC = Path(__file__).resolve().parent / "specs" / "admin_2025-01.json.gz"
PUBLISHED_VERSION = "2025-01"


def _named(kind: str, name: str) -> dict[str, Any]:
    return {"kind": kind, "name": name, "ofType": None}


def _non_null(inner: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "NON_NULL", "name": None, "ofType": inner}


def _input(name: str, type_: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "description": description, "type": type_, "defaultValue": None,
            "isDeprecated": False, "deprecationReason": None}


def _field(name: str, type_: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "description": description, "args": [], "type": type_, "isDeprecated": False,
            "deprecationReason": None}


#: (version that brought it, what changed, where Shopify documents it, how to apply it to the
#: introspection). Only what the add-on's operations use: the rest of 2026-10 is not needed to
#: check them.
CHANGES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("after 2025-01", "webhook subscriptions name their destination `uri` (any of HTTPS, Pub/Sub, EventBridge)",
     "shopify.dev docs/api/admin-graphql/latest/objects/WebhookSubscription, "
     "docs/api/admin-graphql/latest/input-objects/WebhookSubscriptionInput",
     {"fields": {"WebhookSubscription": [_field("uri", _non_null(_named("SCALAR", "String")),
                                                "The URI to which the webhook subscription sends a message.")]},
      "input_fields": {"WebhookSubscriptionInput": [_input("uri", _named("SCALAR", "String"),
                                                           "The URI to which the webhook subscription sends a "
                                                           "message.")]}}),
    ("after 2025-01", "productSet finds the product to update by an `identifier` (its fields the add-on uses: "
     "id and handle)",
     "shopify.dev docs/api/admin-graphql/latest/mutations/productSet, "
     "docs/api/admin-graphql/latest/input-objects/ProductSetIdentifiers",
     {"types": [{"kind": "INPUT_OBJECT", "name": "ProductSetIdentifiers", "description":
                 "Identifies the product to update: by its id, its handle or a custom id.", "fields": None,
                 "inputFields": [_input("id", _named("SCALAR", "ID"), "The product's id."),
                                 _input("handle", _named("SCALAR", "String"), "The product's handle.")],
                 "interfaces": None, "enumValues": None, "possibleTypes": None}],
      "args": {("Mutation", "productSet"): [_input("identifier", _named("INPUT_OBJECT", "ProductSetIdentifiers"),
                                                  "Which product to update.")]}}),
    ("2025-07", "ShopPlan.publicDisplayName, the plan's standardised public name (displayName deprecated)",
     "shopify.dev changelog adding-publicdisplayname-field-on-shopplan; "
     "docs/api/admin-graphql/2026-07/objects/ShopPlan",
     {"fields": {"ShopPlan": [_field("publicDisplayName", _non_null(_named("SCALAR", "String")),
                                     "The public display name of the shop's billing plan.")]}}),
    ("2026-01", "the @idempotent(key:) directive on inventory and refund mutations",
     "shopify.dev changelog adding-idempotency-for-inventory-adjustments-and-refund-mutations; "
     "docs/api/usage/idempotent-requests",
     {"directives": [{"name": "idempotent", "description": "Makes a mutation safe to retry with the same key.",
                      "locations": ["FIELD"], "isRepeatable": False,
                      "args": [_input("key", _non_null(_named("SCALAR", "String")), "The idempotency key.")]}]}),
    ("2026-04", "inventorySetQuantities compares and swaps: `changeFromQuantity` on each quantity, "
     "`compareQuantity` and `ignoreCompareQuantity` removed",
     "shopify.dev changelogs compare-and-swap-redesign-for-inventory-set-quantities (2026-01), "
     "finalizing-compare-and-swap-redesign-for-inventory-set-quantities and "
     "making-changefromquantity-field-required (2026-04)",
     {"input_fields": {"InventoryQuantityInput": [_input("changeFromQuantity", _named("SCALAR", "Int"),
                                                         "The quantity the caller believes is current "
                                                         "(null: no comparison).")]},
      "remove_input_fields": {"InventoryQuantityInput": ["compareQuantity"],
                              "InventorySetQuantitiesInput": ["ignoreCompareQuantity"]},
      "enum_values": {"InventorySetQuantitiesUserErrorCode": ["CHANGE_FROM_QUANTITY_STALE"]}}),
]


def _apply(schema: dict[str, Any]) -> dict[str, Any]:
    types = {t["name"]: t for t in schema["types"]}
    for _version, _what, _source, change in CHANGES:
        for new in change.get("types", []):
            schema["types"].append(copy.deepcopy(new))
            types[new["name"]] = schema["types"][-1]
        for type_name, fields in change.get("fields", {}).items():
            types[type_name]["fields"].extend(copy.deepcopy(fields))
        for type_name, fields in change.get("input_fields", {}).items():
            types[type_name]["inputFields"].extend(copy.deepcopy(fields))
        for type_name, names in change.get("remove_input_fields", {}).items():
            types[type_name]["inputFields"] = [f for f in types[type_name]["inputFields"] if f["name"] not in names]
        for (type_name, field_name), args in change.get("args", {}).items():
            field = next(f for f in types[type_name]["fields"] if f["name"] == field_name)
            field["args"].extend(copy.deepcopy(args))
        for type_name, values in change.get("enum_values", {}).items():
            types[type_name]["enumValues"].extend({"name": v, "description": None, "isDeprecated": False,
                                                   "deprecationReason": None} for v in values)
        schema["directives"].extend(copy.deepcopy(change.get("directives", [])))
    return schema


@functools.cache
def published() -> dict[str, Any]:
    """The introspection result as Shopify published it (2025-01)."""
    with gzip.open(SPEC, "rt", encoding="utf-8") as fh:
        return json.load(fh)["data"]


@functools.cache
def admin_schema() -> GraphQLSchema:
    """Shopify's Admin schema at the add-on's API version: the published one plus
    :data:`CHANGES`. Built once per process (under a second)."""
    data = copy.deepcopy(published())
    data["__schema"] = _apply(data["__schema"])
    # Shopify's schema marks some interface implementations deprecated where the interface
    # field is not, which graphql-core's schema validation refuses: the schema is taken as is
    return build_client_schema(data, assume_valid=True)


def check(document: str) -> list[str]:
    """The errors of an operation against Shopify's schema (empty when it is valid)."""
    return [error.message for error in validate(admin_schema(), parse(document))]
