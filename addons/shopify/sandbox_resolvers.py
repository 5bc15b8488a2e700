"""The Admin GraphQL API of the Shopify emulator: every query and mutation the add-on sends,
resolved against the emulator's shop (``ShopifyEmulator``), checked against the schema first."""
from __future__ import annotations

import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, GraphQLError, get_directive_values, parse, validate

from .client import DEFAULT_API_VERSION
from .graphql import topic_enum
from .sandbox_base import INVENTORY_REASONS, _money, _parse_iso
from .sandbox_schema import conn_field, connection, schema

if TYPE_CHECKING:  # annotations only
    from .sandbox_emulator import ShopifyEmulator


@functools.lru_cache(maxsize=256)
def _checked(query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
    """The parsed query and its validation errors against the schema (cached: apps send
    the same few operations over and over)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [exc.formatted]
    return document, [p.formatted for p in validate(schema(), document)]


def _count_objects(data: Any) -> int:
    if isinstance(data, dict):
        return 1 + sum(_count_objects(v) for v in data.values())
    if isinstance(data, list):
        return sum(_count_objects(v) for v in data)
    return 0


def _num(gid: str | int) -> str:
    return str(gid).rsplit("/", 1)[-1]


def _order_gid(order_id: int | str) -> str:
    text = str(order_id)
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


def _handle(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "produit"


def _variant_title(variant: dict[str, Any] | None) -> str | None:
    if not variant:
        return None
    values = [v for v in variant["options"].values() if v != "Default Title"]
    return " / ".join(values) or None


def _err(message: str, field: list[str] | None = None, code: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"field": field, "message": message}
    if code:
        entry["code"] = code
    return entry


class _Resolvers:
    """Builds the view dicts graphql-core resolves from, for one request."""

    def __init__(self, emu: ShopifyEmulator, context: dict[str, Any]) -> None:
        self.emu = emu
        self.context = context

    def root(self, kind: str) -> dict[str, Any]:
        if kind == "mutation":
            return {"productSet": self.product_set, "inventorySetQuantities": self.inventory_set,
                    "fulfillmentCreate": self.fulfillment_create,
                    "webhookSubscriptionCreate": self.webhook_subscribe, "orderCancel": self.order_cancel}
        emu = self.emu
        return {
            "shop": emu.shop,
            "locations": lambda _i, first=None, after=None, includeInactive=False, query=None: _conn(
                [loc for loc in emu.locations.values() if includeInactive or loc["isActive"]], first, after,
                self.location),
            "products": self.products,
            "productsCount": lambda _i, query=None: {"count": len(self._products(query)), "precision": "EXACT"},
            "product": lambda _i, id: self.product(emu.products[id]) if id in emu.products else None,
            "orders": self.orders,
            "ordersCount": self.orders_count,
            "order": lambda _i, id: self.order(emu.orders[id]) if id in emu.orders else None,
            "refund": lambda _i, id: self.node(id) if id.startswith("gid://shopify/Refund/") else None,
            "node": lambda _i, id: self.node(id),
            "nodes": lambda _i, ids: [self.node(i) for i in ids],
            "webhookSubscriptions": lambda _i, first=None, after=None, topics=None: _conn(
                [s for s in emu.subscriptions.values() if s["client_id"] == self.context["client_id"]
                 and (not topics or topic_enum(s["topic"]) in topics)], first, after, self.subscription),
        }

    # ---------------------------------------------------------------- views
    def location(self, loc: dict[str, Any]) -> dict[str, Any]:
        return {"__typename": "Location", **loc}

    def product(self, p: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        return {"__typename": "Product", **{k: p[k] for k in ("id", "title", "handle", "descriptionHtml", "status",
                                                               "vendor", "productType", "tags", "createdAt",
                                                               "updatedAt")},
                "media": conn_field(lambda: p["images"], lambda url: {
                    "__typename": "MediaImage", "id": f"gid://shopify/MediaImage/{abs(hash(url)) % 10**12}",
                    "alt": None, "mediaContentType": "IMAGE", "image": {"url": url, "altText": None}}),
                "variants": conn_field(lambda: [emu.variants[v] for v in p["variants"] if v in emu.variants],
                                       self.variant)}

    def variant(self, v: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        item = emu.items[v["item"]]
        return {"__typename": "ProductVariant", "id": v["id"], "title": _variant_title(v) or "Default Title",
                "sku": v["sku"], "barcode": v["barcode"], "price": v["price"], "compareAtPrice": None,
                "updatedAt": v["updatedAt"],
                "inventoryQuantity": sum(level["available"] for level in item["levels"].values()),
                "selectedOptions": [{"name": n, "value": val} for n, val in v["options"].items()],
                "inventoryItem": lambda _i: self.item(item),
                "product": lambda _i: self.product(emu.products[v["product"]])}

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu

        def level(_info: Any, locationId: str) -> dict[str, Any] | None:
            quantities = item["levels"].get(locationId)
            if quantities is None or locationId not in emu.locations:
                return None
            return {"id": f"gid://shopify/InventoryLevel/{_num(item['id'])}?inventory_item_id={_num(locationId)}",
                    "location": self.location(emu.locations[locationId]),
                    "quantities": lambda _i, names: [
                        {"name": n, "quantity": _quantity(quantities, n)} for n in names]}

        weight = item.get("weight")
        return {"__typename": "InventoryItem", "id": item["id"], "sku": item["sku"], "tracked": item["tracked"],
                "harmonizedSystemCode": item["harmonizedSystemCode"],
                "countryCodeOfOrigin": item["countryCodeOfOrigin"],
                "measurement": {"weight": {"unit": "GRAMS", "value": float(weight)} if weight else None},
                "inventoryLevel": level}

    def order(self, o: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        pres = o["presentment_currency"]

        def bag(key: str) -> dict[str, Any] | None:
            value = o.get(key)
            if value is None:
                return None
            return {"shopMoney": {"amount": value["shop_money"]["amount"],
                                  "currencyCode": value["shop_money"]["currency_code"]},
                    "presentmentMoney": {"amount": value["presentment_money"]["amount"],
                                         "currencyCode": value["presentment_money"]["currency_code"]}}

        def address(a: dict[str, Any] | None) -> dict[str, Any] | None:
            if not a:
                return None
            return {"name": a.get("name"), "firstName": a.get("first_name"), "lastName": a.get("last_name"),
                    "company": a.get("company"), "address1": a.get("address1"), "address2": a.get("address2"),
                    "city": a.get("city"), "zip": a.get("zip"), "province": a.get("province"),
                    "provinceCode": a.get("province_code"), "country": a.get("country"),
                    "countryCodeV2": a.get("country_code"), "phone": a.get("phone")}

        line = self.line_item
        location = None
        if o.get("location_id"):
            location = emu.locations.get(f"gid://shopify/Location/{o['location_id']}")
        customer = o.get("customer") or {}
        fulfilled = o.get("fulfillment_status")
        return {
            "__typename": "Order", "id": o["admin_graphql_api_id"], "name": o["name"], "createdAt": o["created_at"],
            "updatedAt": o["updated_at"], "processedAt": o["processed_at"], "cancelledAt": o["cancelled_at"],
            "sourceName": o["source_name"], "test": o["test"], "email": o["email"], "phone": o["phone"],
            "tags": [t.strip() for t in (o.get("tags") or "").split(",") if t.strip()],
            "currencyCode": o["currency"], "presentmentCurrencyCode": pres,
            "displayFinancialStatus": (o.get("financial_status") or "pending").upper(),
            "displayFulfillmentStatus": {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED"}.get(
                fulfilled or "", "UNFULFILLED"),
            "totalPriceSet": bag("total_price_set"), "subtotalPriceSet": bag("subtotal_price_set"),
            "totalShippingPriceSet": bag("total_shipping_price_set"), "totalTaxSet": bag("total_tax_set"),
            "totalDiscountsSet": bag("total_discounts_set"),
            "customer": {"id": f"gid://shopify/Customer/{customer.get('id')}", "firstName": customer.get("first_name"),
                         "lastName": customer.get("last_name"),
                         "displayName": f"{customer.get('first_name', '')} {customer.get('last_name', '')}".strip()}
            if customer else None,
            "shippingAddress": address(o.get("shipping_address")), "billingAddress": address(o.get("billing_address")),
            "retailLocation": self.location(location) if location else None,
            "shippingLines": conn_field(lambda: o["shipping_lines"],
                                        lambda s: {"title": s["title"], "code": s["code"]}),
            "lineItems": conn_field(lambda: o["line_items"], line),
            "fulfillmentOrders": conn_field(
                lambda: [fo for fo in emu.fulfillment_orders.values() if fo["order"] == o["admin_graphql_api_id"]],
                lambda fo: self.fulfillment_order(fo, o, line)),
            "refunds": lambda _i, first=None: [self.refund(r, o, line) for r in o["refunds"][:first]],
            "transactions": lambda _i, first=None, **_: [
                self.transaction(t) for t in emu.transactions.get(o["admin_graphql_api_id"], [])[:first]],
        }

    def transaction(self, t: dict[str, Any]) -> dict[str, Any]:
        cur = self.emu.shop["currencyCode"]
        return {"__typename": "OrderTransaction", "id": t["admin_graphql_api_id"], "kind": t["kind"].upper(),
                "status": t["status"].upper(), "gateway": t["gateway"], "createdAt": t["created_at"],
                "processedAt": t["processed_at"], "amountSet": _bag_from(t["amount_set"]),
                "fees": [{"__typename": "TransactionFee", "id": f["id"],
                          "amount": {"amount": _money(f["amount"]), "currencyCode": cur},
                          "flatFee": {"amount": _money(f["flatFee"]), "currencyCode": cur},
                          "flatFeeName": f["flatFeeName"], "rate": str(f["rate"]), "rateName": f["rateName"],
                          "taxAmount": {"amount": "0.00", "currencyCode": cur}, "type": f["type"]}
                         for f in t.get("fees") or []]}

    def refund(self, r: dict[str, Any], o: dict[str, Any], line: Callable[[dict], dict]) -> dict[str, Any]:
        emu = self.emu
        items = {li["id"]: li for li in o["line_items"]}
        txs = {t["id"]: t for t in emu.transactions.get(o["admin_graphql_api_id"], [])}
        shop_cur = emu.shop["currencyCode"]
        paid = [txs[t["id"]]["amount_set"] for t in r["transactions"]]
        total = sum((Decimal(bag["shop_money"]["amount"]) for bag in paid), Decimal("0"))
        pres = sum((Decimal(bag["presentment_money"]["amount"]) for bag in paid), Decimal("0"))

        def refund_line(rli: dict[str, Any]) -> dict[str, Any]:
            location = emu.locations.get(f"gid://shopify/Location/{rli['location_id']}")
            unit = {k: {"amount": _money(Decimal(v["amount"]) / rli["quantity"]), "currency_code": v["currency_code"]}
                    for k, v in rli["subtotal_set"].items()}
            return {"id": f"gid://shopify/RefundLineItem/{rli['id']}", "lineItem": line(items[rli["line_item_id"]]),
                    "location": self.location(location) if location else None, "priceSet": _bag_from(unit),
                    "quantity": rli["quantity"], "restocked": rli["restock_type"] in ("return", "cancel"),
                    "restockType": rli["restock_type"].upper(), "subtotalSet": _bag_from(rli["subtotal_set"]),
                    "totalTaxSet": _bag_from(rli["total_tax_set"])}

        ret = emu.returns.get(r["admin_graphql_api_id"])
        return {
            "__typename": "Refund", "id": r["admin_graphql_api_id"], "createdAt": r["created_at"],
            "updatedAt": r["processed_at"], "note": r["note"],
            "totalRefundedSet": {"shopMoney": {"amount": _money(total), "currencyCode": shop_cur},
                                 "presentmentMoney": {"amount": _money(pres),
                                                      "currencyCode": o["presentment_currency"]}},
            "refundLineItems": conn_field(lambda: r["refund_line_items"], refund_line),
            "transactions": conn_field(lambda: [txs[t["id"]] for t in r["transactions"]], self.transaction),
            "return": self.return_view(ret, line, items) if ret else None,
        }

    def return_view(self, ret: dict[str, Any], line: Callable[[dict], dict],
                    items: dict[int, dict[str, Any]]) -> dict[str, Any]:
        return {"__typename": "Return", "id": ret["id"], "name": ret["name"], "status": "CLOSED",
                "returnLineItems": conn_field(lambda: ret["lines"], lambda pair: {
                    "__typename": "ReturnLineItem", "id": f"gid://shopify/ReturnLineItem/{pair[0]['id']}",
                    "quantity": pair[0]["quantity"], "refundedQuantity": pair[0]["quantity"],
                    "returnReason": pair[1], "returnReasonNote": "", "customerNote": None,
                    "fulfillmentLineItem": {"id": f"gid://shopify/FulfillmentLineItem/{pair[0]['line_item_id']}",
                                            "quantity": pair[0]["quantity"],
                                            "lineItem": line(items[pair[0]["line_item_id"]])}})}

    def line_item(self, li: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        variant = emu.variants.get(f"gid://shopify/ProductVariant/{li['variant_id']}") if li["variant_id"] else None
        return {"__typename": "LineItem", "id": li["admin_graphql_api_id"], "sku": li["sku"], "name": li["name"],
                "title": li["title"], "quantity": li["quantity"], "currentQuantity": li["current_quantity"],
                "variant": (lambda _i: self.variant(variant)) if variant else None,
                "originalUnitPriceSet": _bag_from(li["price_set"]),
                "totalDiscountSet": _bag_from(li["total_discount_set"]),
                "taxLines": [{"title": t["title"], "rate": t["rate"], "priceSet": _bag_from(t["price_set"])}
                             for t in li["tax_lines"]]}

    def fulfillment_order(self, fo: dict[str, Any], o: dict[str, Any], line: Callable[[dict], dict]) -> dict[str, Any]:
        emu = self.emu
        items = {li["admin_graphql_api_id"]: li for li in o["line_items"]}
        return {"__typename": "FulfillmentOrder", "id": fo["id"], "status": fo["status"],
                "assignedLocation": {"name": emu.locations[fo["location"]]["name"],
                                     "location": self.location(emu.locations[fo["location"]])},
                "lineItems": conn_field(lambda: fo["lines"], lambda fl: {
                    "id": fl["id"], "totalQuantity": fl["total"], "remainingQuantity": fl["remaining"],
                    "lineItem": line(items[fl["line_item"]])})}

    def subscription(self, s: dict[str, Any]) -> dict[str, Any]:
        return {"__typename": "WebhookSubscription", "id": s["id"], "topic": topic_enum(s["topic"]),
                "uri": s["uri"] or self.emu.default_webhook_uri or "", "format": "JSON"}

    def node(self, ident: str) -> dict[str, Any] | None:
        emu = self.emu
        if ident in emu.items:
            return self.item(emu.items[ident])
        if ident in emu.products:
            return self.product(emu.products[ident])
        if ident in emu.variants:
            return self.variant(emu.variants[ident])
        if ident in emu.orders:
            return self.order(emu.orders[ident])
        if ident in emu.locations:
            return self.location(emu.locations[ident])
        for o in emu.orders.values():
            for r in o["refunds"]:
                if r["admin_graphql_api_id"] == ident:
                    return self.refund(r, o, self.line_item)
        return None

    # ---------------------------------------------------------------- lists with search
    def products(self, _info: Any, first: int | None = None, after: str | None = None, query: str | None = None,
                 sortKey: str | None = None, reverse: bool = False) -> dict[str, Any]:
        items = self._products(query)
        items.sort(key=lambda p: (p["updatedAt"] if sortKey == "UPDATED_AT" else p["id"], p["id"]), reverse=reverse)
        return _conn(items, first, after, self.product)

    def _products(self, query: str | None) -> list[dict[str, Any]]:
        return [p for p in self.emu.products.values() if _matches(query, {
            "updated_at": p["updatedAt"], "created_at": p["createdAt"], "title": p["title"],
            "sku": [self.emu.variants[v]["sku"] for v in p["variants"]], "status": p["status"].lower()})]

    @staticmethod
    def _order_fields(o: dict[str, Any]) -> dict[str, Any]:
        """What the orders search filters on."""
        return {"updated_at": o["updated_at"], "created_at": o["created_at"], "name": o["name"],
                "status": "cancelled" if o["cancelled_at"] else ("closed" if o.get("closed_at") else "open"),
                "fulfillment_status": o.get("fulfillment_status") or "unfulfilled",
                "source_name": o["source_name"], "financial_status": o["financial_status"]}

    def _orders(self, query: str | None) -> list[dict[str, Any]]:
        return [o for o in self.emu.orders.values() if _matches(query, self._order_fields(o))]

    def orders(self, _info: Any, first: int | None = None, after: str | None = None, query: str | None = None,
               sortKey: str | None = None, reverse: bool = False) -> dict[str, Any]:
        items = self._orders(query)
        items.sort(key=lambda o: (o["updated_at"] if sortKey == "UPDATED_AT" else o["id"], o["id"]), reverse=reverse)
        return _conn(items, first, after, self.order)

    def orders_count(self, _info: Any, query: str | None = None, savedSearchId: str | None = None,
                     limit: int | None = 10000) -> dict[str, Any]:
        """``ordersCount``: the orders the search matches, counted up to ``limit`` (Shopify's
        default 10,000; null counts them all), ``precision`` AT_LEAST past it."""
        matched = len(self._orders(query))
        if limit is not None and matched > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": matched, "precision": "EXACT"}

    # ---------------------------------------------------------------- mutations
    def _idempotent_key(self, info: Any) -> str | None:
        directive = info.schema.get_directive("idempotent")
        values = get_directive_values(directive, info.field_nodes[0], info.variable_values) if directive else None
        return (values or {}).get("key")

    def inventory_set(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        key = self._idempotent_key(info)
        if not key:
            raise GraphQLError("The @idempotent directive is required for this mutation: add "
                               "@idempotent(key: \"<unique key>\") to inventorySetQuantities.",
                               extensions={"code": "BAD_REQUEST"})
        fingerprint = hashlib.sha256(json.dumps(input, sort_keys=True, default=str).encode()).hexdigest()
        previous = emu.idempotency.get(key)
        if previous is not None:
            if previous[0] != fingerprint:
                return {"inventoryAdjustmentGroup": None, "userErrors": [_err(
                    "The same idempotency key cannot be used with different operation parameters.", ["input"],
                    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]}
            return previous[1]
        name = input["name"]
        errors: list[dict[str, Any]] = []
        if name not in ("available", "on_hand"):
            errors.append(_err("The quantity name must be either 'available' or 'on_hand'.", ["input", "name"],
                               "INVALID_NAME"))
        if input["reason"] not in INVENTORY_REASONS:
            errors.append(_err("The specified reason is invalid.", ["input", "reason"], "INVALID_REASON"))
        seen: set[tuple[str, str]] = set()
        for i, q in enumerate(input["quantities"]):
            path = ["input", "quantities", str(i)]
            if "changeFromQuantity" not in q:
                raise GraphQLError("InventoryQuantityInput.changeFromQuantity is required: pass the quantity you "
                                   "expect, or null to skip the check.", extensions={"code": "INVALID_FIELD_ARGUMENTS"})
            item = emu.items.get(q["inventoryItemId"])
            if item is None:
                errors.append(_err("The specified inventory item could not be found.", path + ["inventoryItemId"],
                                   "INVALID_INVENTORY_ITEM"))
                continue
            if q["locationId"] not in emu.locations:
                errors.append(_err("The specified location could not be found.", path + ["locationId"],
                                   "INVALID_LOCATION"))
                continue
            if (q["inventoryItemId"], q["locationId"]) in seen:
                errors.append(_err("The combination of inventoryItemId and locationId must be unique.", path,
                                   "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
            seen.add((q["inventoryItemId"], q["locationId"]))
            if q["quantity"] < 0 and name == "on_hand":
                errors.append(_err("The quantity can't be negative.", path + ["quantity"], "INVALID_QUANTITY_NEGATIVE"))
            current = _quantity(item["levels"].setdefault(q["locationId"], {"available": 0, "committed": 0}), name)
            if q["changeFromQuantity"] is not None and q["changeFromQuantity"] != current:
                errors.append(_err(f"The changeFromQuantity value does not match persisted value ({current}).",
                                   path + ["changeFromQuantity"], "CHANGE_FROM_QUANTITY_STALE"))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = []
        for q in input["quantities"]:
            level = emu.items[q["inventoryItemId"]]["levels"][q["locationId"]]
            before = _quantity(level, name)
            target = q["quantity"] if name == "available" else q["quantity"] - level["committed"]
            delta = q["quantity"] - before
            level["available"] = target
            changes.append({"name": name, "delta": delta, "quantityAfterChange": q["quantity"]})
        result = {"inventoryAdjustmentGroup": {
            "id": f"gid://shopify/InventoryAdjustmentGroup/{emu.new_id()}", "createdAt": emu.now_iso(),
            "reason": input["reason"], "referenceDocumentUri": input.get("referenceDocumentUri"), "changes": changes},
            "userErrors": []}
        emu.idempotency[key] = (fingerprint, result)
        return result

    def fulfillment_create(self, _info: Any, fulfillment: dict[str, Any], message: str | None = None) -> dict[str, Any]:
        emu = self.emu
        groups = fulfillment["lineItemsByFulfillmentOrder"]
        fos = []
        for i, group in enumerate(groups):
            fo = emu.fulfillment_orders.get(group["fulfillmentOrderId"])
            if fo is None:
                return {"fulfillment": None, "userErrors": [_err(
                    "Fulfillment order does not exist.",
                    ["fulfillment", "lineItemsByFulfillmentOrder", str(i), "fulfillmentOrderId"])]}
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                return {"fulfillment": None, "userErrors": [_err(
                    f"Fulfillment order {fo['id']} has an unfulfillable status= {fo['status'].lower()}.",
                    ["fulfillment"])]}
            fos.append((fo, group))
        if len({fo["order"] for fo, _g in fos}) > 1 or len({fo["location"] for fo, _g in fos}) > 1:
            return {"fulfillment": None, "userErrors": [_err(
                "All fulfillment orders must belong to the same order and be assigned to the same location.",
                ["fulfillment"])]}
        plan: list[tuple[dict[str, Any], dict[str, Any], int]] = []
        for fo, group in fos:
            wanted = group.get("fulfillmentOrderLineItems")
            lines = {fl["id"]: fl for fl in fo["lines"]}
            if wanted is None:
                plan += [(fo, fl, fl["remaining"]) for fl in fo["lines"] if fl["remaining"]]
                continue
            for entry in wanted:
                fl = lines.get(entry["id"])
                if fl is None or entry["quantity"] <= 0 or entry["quantity"] > fl["remaining"]:
                    return {"fulfillment": None, "userErrors": [_err(
                        "Invalid fulfillment order line item quantity requested.", ["fulfillment"])]}
                plan.append((fo, fl, entry["quantity"]))
        if not plan:
            return {"fulfillment": None, "userErrors": [_err("Nothing left to fulfill.", ["fulfillment"])]}
        order = emu.orders[fos[0][0]["order"]]
        items = {li["admin_graphql_api_id"]: li for li in order["line_items"]}
        for fo, fl, qty in plan:
            fl["remaining"] -= qty
            li = items[fl["line_item"]]
            li["fulfillable_quantity"] = max(li["fulfillable_quantity"] - qty, 0)
            variant = emu.variant_by_sku(li["sku"])
            if variant is not None:
                emu.items[variant["item"]]["levels"][fo["location"]]["committed"] -= qty
        for fo, _g in fos:
            fo["status"] = "CLOSED" if all(fl["remaining"] == 0 for fl in fo["lines"]) else "IN_PROGRESS"
        tracking = fulfillment.get("trackingInfo") or {}
        fid = f"gid://shopify/Fulfillment/{emu.new_id()}"
        record = {"id": fid, "order": order["admin_graphql_api_id"], "status": "SUCCESS", "createdAt": emu.now_iso(),
                  "tracking": {"company": tracking.get("company"), "number": tracking.get("number"),
                               "url": tracking.get("url")},
                  "notify_customer": bool(fulfillment.get("notifyCustomer")),
                  "lines": [(fl["line_item"], qty) for _fo, fl, qty in plan], "message": message}
        emu.fulfillments[fid] = record
        remaining = sum(fl["remaining"] for fo in emu.fulfillment_orders.values()
                        if fo["order"] == order["admin_graphql_api_id"] and fo["status"] != "CANCELLED"
                        for fl in fo["lines"])
        order["fulfillment_status"] = "fulfilled" if remaining == 0 else "partial"
        order["updated_at"] = emu.now_iso()
        order["fulfillments"].append({"id": int(_num(fid)), "tracking_company": tracking.get("company"),
                                      "tracking_number": tracking.get("number"), "tracking_url": tracking.get("url")})
        emu.emit("orders/updated", json.loads(json.dumps(order)), defer=True)
        return {"fulfillment": {"__typename": "Fulfillment", "id": fid, "status": "SUCCESS",
                                "createdAt": record["createdAt"],
                                "trackingInfo": lambda _i, first=None: [record["tracking"]] if tracking else []},
                "userErrors": []}

    def product_set(self, _info: Any, input: dict[str, Any], identifier: dict[str, Any] | None = None,
                    synchronous: bool = True) -> dict[str, Any]:
        emu = self.emu
        product: dict[str, Any] | None = None
        if identifier and identifier.get("id"):
            product = emu.products.get(identifier["id"])
            if product is None:
                return {"product": None, "productSetOperation": None, "userErrors": [_err(
                    "Product does not exist", ["identifier", "id"], "PRODUCT_DOES_NOT_EXIST")]}
        elif identifier and identifier.get("handle"):
            product = next((p for p in emu.products.values() if p["handle"] == identifier["handle"]), None)
        if product is None and not input.get("title"):
            return {"product": None, "productSetOperation": None,
                    "userErrors": [_err("Title can't be blank", ["input", "title"], "INVALID_INPUT")]}
        options = [o["name"] for o in input.get("productOptions") or []]
        variants_in = input.get("variants")
        if variants_in is not None:
            for i, v in enumerate(variants_in):
                names = [ov.get("optionName") for ov in v["optionValues"]]
                if options and sorted(names) != sorted(options):
                    return {"product": None, "productSetOperation": None, "userErrors": [_err(
                        "Option values must be given for every product option.",
                        ["input", "variants", str(i), "optionValues"], "OPTION_DOES_NOT_EXIST")]}
                sku = v.get("sku") or (v.get("inventoryItem") or {}).get("sku")
                other = emu.variant_by_sku(sku) if sku else None
                taken = other is not None and other["id"] != v.get("id")
                if taken and (product is None or other["product"] != product["id"]):
                    return {"product": None, "productSetOperation": None, "userErrors": [_err(
                        f"SKU {sku} is already used by another product.", ["input", "variants", str(i), "sku"],
                        "DUPLICATE_SKU")]}
        created = product is None
        if created:
            gid = emu.add_product(input["title"], [], description=input.get("descriptionHtml") or "",
                                  tags=input.get("tags") or [])
            product = emu.products[gid]
        assert product is not None
        for key in ("title", "descriptionHtml", "handle", "vendor", "productType", "tags", "status"):
            if input.get(key) is not None:
                product[key] = input[key]
        for f in input.get("files") or []:
            if f.get("originalSource") and f["originalSource"] not in product["images"]:
                product["images"].append(f["originalSource"])
        if variants_in is not None:
            keep = []
            for v in variants_in:
                item_in = v.get("inventoryItem") or {}
                spec_opts = {ov["optionName"]: ov["name"] for ov in v["optionValues"]}
                vid = v.get("id") if v.get("id") in emu.variants else None
                if vid is None:
                    vid = emu._add_variant(product, {"sku": v.get("sku") or item_in.get("sku"), "options": spec_opts,
                                                     "price": v.get("price") or "0"})
                variant = emu.variants[vid]
                item = emu.items[variant["item"]]
                variant["options"] = spec_opts or variant["options"]
                if v.get("price") is not None:
                    variant["price"] = _money(v["price"])
                if v.get("barcode") is not None:
                    variant["barcode"] = v["barcode"]
                sku = v.get("sku") or item_in.get("sku")
                if sku:
                    variant["sku"] = item["sku"] = sku
                for src, dst in (("tracked", "tracked"), ("harmonizedSystemCode", "harmonizedSystemCode"),
                                 ("countryCodeOfOrigin", "countryCodeOfOrigin")):
                    if item_in.get(src) is not None:
                        item[dst] = item_in[src]
                weight = ((item_in.get("measurement") or {}).get("weight") or {})
                if weight:
                    item["weight"] = _grams(weight["value"], weight["unit"])
                variant["updatedAt"] = emu.now_iso()
                keep.append(vid)
            for vid in [x for x in product["variants"] if x not in keep]:
                emu.items.pop(emu.variants.pop(vid)["item"], None)
            product["variants"] = keep
        product["updatedAt"] = emu.now_iso()
        emu.emit("products/create" if created else "products/update", emu.product_rest(product["id"]), defer=True)
        return {"product": self.product(product), "productSetOperation": None, "userErrors": []}

    def order_cancel(self, _info: Any, orderId: str, reason: str, restock: bool, refund: bool | None = None,
                     notifyCustomer: bool | None = None, staffNote: str | None = None) -> dict[str, Any]:
        emu = self.emu
        order = emu.orders.get(orderId)
        if order is None:
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [_err(
                "Order does not exist", ["orderId"], "NOT_FOUND")]}
        if order["cancelled_at"]:
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [_err(
                "Cannot cancel an order that has already been cancelled", ["orderId"], "INVALID")]}
        if order.get("fulfillment_status") == "fulfilled":
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [_err(
                "Cannot cancel a fulfilled order", ["orderId"], "INVALID")]}
        payload = emu.cancel_order(orderId, reason=reason.lower(), notify=False)
        emu.emit("orders/cancelled", payload, defer=True)
        emu.emit("orders/updated", payload, defer=True)
        return {"job": {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": True}, "userErrors": [],
                "orderCancelUserErrors": []}

    def webhook_subscribe(self, _info: Any, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        uri = webhookSubscription.get("uri") or ""
        if not re.match(r"^https?://", uri):
            return {"webhookSubscription": None, "userErrors": [_err("Address is invalid",
                                                                     ["webhookSubscription", "callbackUrl"])]}
        name = topic.lower().replace("_", "/", 1)
        client_id = self.context["client_id"]
        if any(s["topic"] == name and s["uri"] == uri and s["client_id"] == client_id
               for s in emu.subscriptions.values()):
            return {"webhookSubscription": None, "userErrors": [_err(
                "Address for this topic has already been taken", ["webhookSubscription", "callbackUrl"])]}
        sid = emu.subscribe(client_id, name, uri, self.context.get("api_version", DEFAULT_API_VERSION))
        return {"webhookSubscription": self.subscription(emu.subscriptions[sid]), "userErrors": []}


def _conn(items: list[Any], first: int | None, after: str | None, view: Callable[[Any], Any]) -> dict[str, Any]:
    return connection(items, first, after, view)


def _bag_from(value: dict[str, Any]) -> dict[str, Any]:
    return {"shopMoney": {"amount": value["shop_money"]["amount"],
                          "currencyCode": value["shop_money"]["currency_code"]},
            "presentmentMoney": {"amount": value["presentment_money"]["amount"],
                                 "currencyCode": value["presentment_money"]["currency_code"]}}


def _quantity(level: dict[str, int], name: str) -> int:
    if name == "on_hand":
        return level["available"] + level["committed"]
    return level.get(name, 0)


def _grams(value: float, unit: str) -> int:
    factor = {"GRAMS": 1, "KILOGRAMS": 1000, "OUNCES": 28.3495, "POUNDS": 453.592}[unit]
    return int(round(value * factor))


_TERM = re.compile(r"(\w+):(>=|<=|>|<)?('[^']*'|\"[^\"]*\"|\S+)")


@functools.lru_cache(maxsize=256)
def _terms(query: str) -> tuple[tuple[str, str, str], ...]:
    """The search's ``key:value`` terms, read once per query (not once per item)."""
    return tuple((key, op, raw.strip("'\"")) for key, op, raw in _TERM.findall(query))


def _matches(query: str | None, fields: dict[str, Any]) -> bool:
    """Shopify search syntax, the part the add-on uses: ``key:value``, ``key:>value`` …
    joined by spaces or AND; unknown keys are ignored as Shopify does."""
    for key, op, value in _terms(query or ""):
        if key not in fields:
            continue
        have = fields[key]
        if key.endswith("_at"):
            left, right = _parse_iso(have), _parse_iso(value)
            ok = {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right,
                  "": left == right}[op]
        elif isinstance(have, list):
            ok = value in have
        elif key == "fulfillment_status" and value in ("unshipped", "unfulfilled"):
            ok = have in ("unfulfilled", "partial")
        else:
            ok = str(have).lower() == value.lower()
        if not ok:
            return False
    return True
