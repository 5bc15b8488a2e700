"""The Admin GraphQL operations the add-on sends (API version 2026-10)."""
from __future__ import annotations

MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
ADDRESS = ("name firstName lastName company address1 address2 city zip province provinceCode country "
           "countryCodeV2 phone")

LOCATIONS = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true) {
    nodes { id name isActive fulfillsOnlineOrders address { city countryCode } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# Shopify charges a connection 2 points plus ``first`` times the cost of one node, and refuses
# a query above 1000 points: 4 products × (5 images, 40 variants) ≈ 860 points. A product with
# more variants (or an order with more lines) is completed with the follow-up queries below.
PRODUCTS_PAGE = 4
VARIANT_FIELDS = """
  id title sku barcode price updatedAt
  selectedOptions { name value }
  inventoryItem { id tracked harmonizedSystemCode countryCodeOfOrigin measurement { weight { unit value } } }
"""

PRODUCT_FIELDS = f"""
  id title handle descriptionHtml status vendor productType tags updatedAt
  media(first: 5) {{ nodes {{ ... on MediaImage {{ image {{ url }} }} }} }}
  variants(first: 40) {{ nodes {{ {VARIANT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
"""

PRODUCTS = f"""
query Products($first: Int!, $after: String, $query: String) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{ {PRODUCT_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

#: how many products the import will read (its progress bar's total)
PRODUCTS_COUNT = """
query ProductsCount($query: String) {
  productsCount(query: $query) { count precision }
}
"""

PRODUCT = f"""
query Product($id: ID!) {{
  product(id: $id) {{ {PRODUCT_FIELDS} }}
}}
"""

PRODUCT_VARIANTS = f"""
query ProductVariants($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    variants(first: $first, after: $after) {{ nodes {{ {VARIANT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
  }}
}}
"""

ORDERS_PAGE = 4
#: an order's refunds are listed by id only; the details of one the OMS has not imported yet
#: are read with :data:`REFUND` (most polls see no new refund)
REFUNDS_PER_ORDER = 10
TRANSACTIONS_PER_ORDER = 10
#: ``fees`` lists what Shopify Payments charged on a transaction (empty for other gateways)
TRANSACTION_FIELDS = """
  id kind status gateway
  fees { amount { amount currencyCode } rate type }
"""
LINE_ITEM_FIELDS = """
  id sku name quantity currentQuantity
  variant { id }
  originalUnitPriceSet { shopMoney { amount } }
  totalDiscountSet { shopMoney { amount } }
  taxLines { priceSet { shopMoney { amount } } }
"""

ORDERS = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{
      id name createdAt updatedAt processedAt cancelledAt sourceName test email phone tags
      currencyCode presentmentCurrencyCode displayFinancialStatus displayFulfillmentStatus
      totalPriceSet {{ {MONEY} }}
      subtotalPriceSet {{ {MONEY} }}
      totalShippingPriceSet {{ {MONEY} }}
      totalTaxSet {{ {MONEY} }}
      totalDiscountsSet {{ {MONEY} }}
      customer {{ firstName lastName }}
      shippingAddress {{ {ADDRESS} }}
      billingAddress {{ {ADDRESS} }}
      retailLocation {{ id name }}
      shippingLines(first: 5) {{ nodes {{ title code }} }}
      lineItems(first: 20) {{ nodes {{ {LINE_ITEM_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
      refunds(first: {REFUNDS_PER_ORDER}) {{ id }}
      transactions(first: {TRANSACTIONS_PER_ORDER}) {{ {TRANSACTION_FIELDS} }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

ORDER_LINE_ITEMS = f"""
query OrderLineItems($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $first, after: $after) {{ nodes {{ {LINE_ITEM_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}
  }}
}}
"""

REFUND = """
query Refund($id: ID!) {
  refund(id: $id) {
    id createdAt note
    totalRefundedSet { shopMoney { amount currencyCode } }
    refundLineItems(first: 100) { nodes { quantity restockType lineItem { id } } }
  }
}
"""

# Returns need the ``read_returns`` scope: asked apart, so that a token without it only
# loses the reason. ``returnReason`` is the enum Shopify is replacing by
# ``returnReasonDefinition`` (whose handles are not a fixed list).
REFUND_RETURN = """
query RefundReturn($id: ID!) {
  refund(id: $id) {
    id
    return { id returnLineItems(first: 50) { nodes { quantity returnReason } } }
  }
}
"""

FULFILLMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 5) {
      nodes {
        id status
        assignedLocation { location { id } }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id sku } } }
      }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 5) { company number url } }
    userErrors { field message }
  }
}
"""

INVENTORY_LEVELS = """
query InventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

INVENTORY_SET = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { createdAt reason referenceDocumentUri changes { name delta } }
    userErrors { field message code }
  }
}
"""

PRODUCT_SET = """
mutation ProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product {
      id updatedAt
      variants(first: 250) { nodes { id sku price updatedAt inventoryItem { id } } }
    }
    userErrors { field message code }
  }
}
"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: OTHER, refund: true, restock: true, notifyCustomer: true,
              staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WEBHOOK_SUBSCRIBE = """
mutation WebhookSubscribe($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

#: topics the add-on subscribes to per shop (the compliance topics are declared in the
#: app's configuration and cannot be subscribed through the API)
TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "refunds/create", "products/create",
          "products/update", "products/delete", "app/uninstalled")
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def topic_enum(topic: str) -> str:
    """``orders/create`` → ``ORDERS_CREATE``."""
    return topic.replace("/", "_").upper()

#: the diagnostic's one cheap look at the orders past the OMS's cursor: how many, and the
#: least recently updated one (``ordersCount`` counts up to ``limit`` and says AT_LEAST past it)
ORDERS_PAST = """
query OrdersPast($query: String!) {
  ordersCount(query: $query, limit: 1000) { count precision }
  orders(first: 1, sortKey: UPDATED_AT, query: $query) { nodes { updatedAt } }
}
"""
