"""The emulator's GraphQL schema: the part of Shopify's Admin API (2026-10) the add-on uses,
with Shopify's type names, plus the query-cost calculation Shopify's throttle is based on.

Resolvers are plain dicts ("views") built from the emulator's state; a callable value is
called with the field's arguments (graphql-core's default resolver), which is how
connections take ``first``/``after``.
"""
from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Sequence
from typing import Any

from babel import Locale
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

_COUNTRIES = sorted(k for k in Locale("en").territories if len(k) == 2 and k.isalpha() and k.isupper())
_CURRENCIES = sorted(k for k in Locale("en").currencies if len(k) == 3 and k.isalpha() and k.isupper())

SDL = """
directive @idempotent(key: String!) on FIELD

scalar DateTime
scalar Decimal
scalar Money
scalar URL

enum CountryCode { %(countries)s }
enum CurrencyCode { %(currencies)s }

interface Node { id: ID! }

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

type QueryRoot {
  shop: Shop!
  locations(first: Int, after: String, includeInactive: Boolean, query: String): LocationConnection!
  products(first: Int, after: String, query: String, sortKey: ProductSortKeys, reverse: Boolean): ProductConnection!
  product(id: ID!): Product
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys, reverse: Boolean): OrderConnection!
  order(id: ID!): Order
  refund(id: ID!): Refund
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  webhookSubscriptions(first: Int, after: String, topics: [WebhookSubscriptionTopic!]): WebhookSubscriptionConnection!
}

type Mutation {
  productSet(input: ProductSetInput!, identifier: ProductSetIdentifiers, synchronous: Boolean = true): ProductSetPayload
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
  orderCancel(orderId: ID!, reason: OrderCancelReason!, refund: Boolean, restock: Boolean!, notifyCustomer: Boolean,
              staffNote: String): OrderCancelPayload
}

schema { query: QueryRoot mutation: Mutation }

type Shop { name: String! myshopifyDomain: String! currencyCode: CurrencyCode! plan: ShopPlan! }
type ShopPlan { publicDisplayName: String! }

type LocationAddress { address1: String city: String zip: String countryCode: CountryCode }
type Location implements Node {
  id: ID! name: String! isActive: Boolean! fulfillsOnlineOrders: Boolean! address: LocationAddress!
}
type LocationConnection { nodes: [Location!]! pageInfo: PageInfo! }

enum ProductStatus { ACTIVE ARCHIVED DRAFT }
enum ProductSortKeys { ID TITLE CREATED_AT UPDATED_AT }
enum MediaContentType { IMAGE VIDEO MODEL_3D EXTERNAL_VIDEO }
enum WeightUnit { GRAMS KILOGRAMS OUNCES POUNDS }

interface Media { id: ID! alt: String mediaContentType: MediaContentType! }
type Image { url: URL! altText: String }
type MediaImage implements Media & Node { id: ID! alt: String mediaContentType: MediaContentType! image: Image }
type MediaConnection { nodes: [Media!]! pageInfo: PageInfo! }

type Product implements Node {
  id: ID! title: String! handle: String! descriptionHtml: String! status: ProductStatus! vendor: String!
  productType: String! tags: [String!]! createdAt: DateTime! updatedAt: DateTime!
  media(first: Int, after: String): MediaConnection!
  variants(first: Int, after: String): ProductVariantConnection!
}
type ProductConnection { nodes: [Product!]! pageInfo: PageInfo! }

type SelectedOption { name: String! value: String! }
type ProductVariant implements Node {
  id: ID! title: String! sku: String barcode: String price: Money! compareAtPrice: Money
  updatedAt: DateTime! inventoryQuantity: Int selectedOptions: [SelectedOption!]!
  inventoryItem: InventoryItem! product: Product!
}
type ProductVariantConnection { nodes: [ProductVariant!]! pageInfo: PageInfo! }

type Weight { unit: WeightUnit! value: Float! }
type InventoryItemMeasurement { weight: Weight }
type InventoryQuantity { name: String! quantity: Int! }
type InventoryLevel { id: ID! location: Location! quantities(names: [String!]!): [InventoryQuantity!]! }
type InventoryItem implements Node {
  id: ID! sku: String tracked: Boolean! harmonizedSystemCode: String countryCodeOfOrigin: CountryCode
  measurement: InventoryItemMeasurement! inventoryLevel(locationId: ID!): InventoryLevel
}

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type Customer implements Node { id: ID! firstName: String lastName: String displayName: String! }
type MailingAddress {
  name: String firstName: String lastName: String company: String address1: String address2: String
  city: String zip: String province: String provinceCode: String country: String countryCodeV2: CountryCode
  phone: String
}
type ShippingLine { title: String! code: String }
type ShippingLineConnection { nodes: [ShippingLine!]! pageInfo: PageInfo! }
type TaxLine { title: String rate: Float priceSet: MoneyBag! }
type LineItem implements Node {
  id: ID! sku: String name: String! title: String! quantity: Int! currentQuantity: Int!
  variant: ProductVariant originalUnitPriceSet: MoneyBag! totalDiscountSet: MoneyBag! taxLines: [TaxLine!]!
}
type LineItemConnection { nodes: [LineItem!]! pageInfo: PageInfo! }

enum OrderSortKeys { ID CREATED_AT UPDATED_AT PROCESSED_AT }
enum OrderDisplayFinancialStatus { AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED }
enum OrderDisplayFulfillmentStatus {
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT RESTOCKED SCHEDULED UNFULFILLED
}
type Order implements Node {
  id: ID! name: String! createdAt: DateTime! updatedAt: DateTime! processedAt: DateTime! cancelledAt: DateTime
  sourceName: String test: Boolean! email: String phone: String tags: [String!]!
  currencyCode: CurrencyCode! presentmentCurrencyCode: CurrencyCode!
  displayFinancialStatus: OrderDisplayFinancialStatus displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  totalPriceSet: MoneyBag! subtotalPriceSet: MoneyBag totalShippingPriceSet: MoneyBag! totalTaxSet: MoneyBag
  totalDiscountsSet: MoneyBag
  customer: Customer shippingAddress: MailingAddress billingAddress: MailingAddress retailLocation: Location
  shippingLines(first: Int, after: String): ShippingLineConnection!
  lineItems(first: Int, after: String): LineItemConnection!
  fulfillmentOrders(first: Int, after: String): FulfillmentOrderConnection!
  refunds(first: Int): [Refund!]!
  transactions(first: Int, capturable: Boolean, manuallyResolvable: Boolean): [OrderTransaction!]!
}
type OrderConnection { nodes: [Order!]! pageInfo: PageInfo! }

enum OrderTransactionKind { AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID }
enum OrderTransactionStatus { AWAITING_RESPONSE ERROR FAILURE PENDING SUCCESS UNKNOWN }
type TransactionFee implements Node {
  id: ID! amount: MoneyV2! flatFee: MoneyV2! flatFeeName: String rate: Decimal! rateName: String taxAmount: MoneyV2!
  type: String!
}
type OrderTransaction implements Node {
  id: ID! kind: OrderTransactionKind! status: OrderTransactionStatus! gateway: String createdAt: DateTime!
  processedAt: DateTime amountSet: MoneyBag! fees: [TransactionFee!]!
}
type OrderTransactionConnection { nodes: [OrderTransaction!]! pageInfo: PageInfo! }

enum RefundLineItemRestockType { CANCEL LEGACY_RESTOCK NO_RESTOCK RETURN }
type RefundLineItem {
  id: ID lineItem: LineItem! location: Location priceSet: MoneyBag! quantity: Int! restocked: Boolean!
  restockType: RefundLineItemRestockType! subtotalSet: MoneyBag! totalTaxSet: MoneyBag!
}
type RefundLineItemConnection { nodes: [RefundLineItem!]! pageInfo: PageInfo! }
type Refund implements Node {
  id: ID! createdAt: DateTime updatedAt: DateTime! note: String totalRefundedSet: MoneyBag!
  refundLineItems(first: Int, after: String): RefundLineItemConnection!
  transactions(first: Int, after: String): OrderTransactionConnection!
  return: Return
}

enum ReturnReason {
  COLOR DEFECTIVE NOT_AS_DESCRIBED OTHER SIZE_TOO_LARGE SIZE_TOO_SMALL STYLE UNKNOWN UNWANTED WRONG_ITEM
}
enum ReturnStatus { CANCELED CLOSED DECLINED OPEN REQUESTED }
interface ReturnLineItemType {
  id: ID! quantity: Int! refundedQuantity: Int! returnReason: ReturnReason! returnReasonNote: String!
  customerNote: String
}
type FulfillmentLineItem implements Node { id: ID! quantity: Int lineItem: LineItem! }
type ReturnLineItem implements Node & ReturnLineItemType {
  id: ID! quantity: Int! refundedQuantity: Int! returnReason: ReturnReason! returnReasonNote: String!
  customerNote: String fulfillmentLineItem: FulfillmentLineItem!
}
type ReturnLineItemTypeConnection { nodes: [ReturnLineItemType!]! pageInfo: PageInfo! }
type Return implements Node {
  id: ID! name: String! status: ReturnStatus! returnLineItems(first: Int, after: String): ReturnLineItemTypeConnection!
}

enum FulfillmentOrderStatus { OPEN IN_PROGRESS CLOSED CANCELLED INCOMPLETE ON_HOLD SCHEDULED }
type FulfillmentOrderAssignedLocation { name: String! location: Location }
type FulfillmentOrderLineItem {
  id: ID! totalQuantity: Int! remainingQuantity: Int! lineItem: LineItem!
}
type FulfillmentOrderLineItemConnection { nodes: [FulfillmentOrderLineItem!]! pageInfo: PageInfo! }
type FulfillmentOrder implements Node {
  id: ID! status: FulfillmentOrderStatus! assignedLocation: FulfillmentOrderAssignedLocation!
  lineItems(first: Int, after: String): FulfillmentOrderLineItemConnection!
}
type FulfillmentOrderConnection { nodes: [FulfillmentOrder!]! pageInfo: PageInfo! }

enum FulfillmentStatus { SUCCESS CANCELLED ERROR FAILURE OPEN PENDING }
type FulfillmentTrackingInfo { company: String number: String url: URL }
type Fulfillment implements Node {
  id: ID! status: FulfillmentStatus! createdAt: DateTime! trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
}

enum WebhookSubscriptionTopic {
  ORDERS_CREATE ORDERS_UPDATED ORDERS_CANCELLED ORDERS_FULFILLED ORDERS_PAID REFUNDS_CREATE
  PRODUCTS_CREATE PRODUCTS_UPDATE PRODUCTS_DELETE APP_UNINSTALLED INVENTORY_LEVELS_UPDATE
}
enum WebhookSubscriptionFormat { JSON XML }
type WebhookSubscription implements Node { id: ID! topic: WebhookSubscriptionTopic! uri: String! format: WebhookSubscriptionFormat! }
type WebhookSubscriptionConnection { nodes: [WebhookSubscription!]! pageInfo: PageInfo! }

type UserError { field: [String!] message: String! }

type Job { id: ID! done: Boolean! }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderCancelUserErrorCode { INVALID NOT_FOUND NO_REFUND_PERMISSION }
type OrderCancelUserError { field: [String!] message: String! code: OrderCancelUserErrorCode }
type OrderCancelPayload { job: Job orderCancelUserErrors: [OrderCancelUserError!]! userErrors: [UserError!]! }

input OptionValueSetInput { name: String }
input OptionSetInput { name: String values: [OptionValueSetInput!] }
input VariantOptionValueInput { optionName: String name: String }
input WeightInput { unit: WeightUnit! value: Float! }
input InventoryItemMeasurementInput { weight: WeightInput }
input InventoryItemInput {
  sku: String tracked: Boolean harmonizedSystemCode: String countryCodeOfOrigin: CountryCode
  measurement: InventoryItemMeasurementInput cost: Decimal
}
input ProductVariantSetInput {
  id: ID optionValues: [VariantOptionValueInput!]! price: Money compareAtPrice: Money barcode: String sku: String
  inventoryItem: InventoryItemInput taxable: Boolean
}
enum FileContentType { IMAGE FILE VIDEO EXTERNAL_VIDEO MODEL_3D }
input FileSetInput { originalSource: String contentType: FileContentType alt: String }
input ProductSetInput {
  title: String descriptionHtml: String handle: String status: ProductStatus tags: [String!] vendor: String
  productType: String productOptions: [OptionSetInput!] variants: [ProductVariantSetInput!] files: [FileSetInput!]
}
input ProductSetIdentifiers { id: ID handle: String }
enum ProductSetUserErrorCode {
  INVALID_INPUT PRODUCT_DOES_NOT_EXIST INVALID_VARIANT OPTION_DOES_NOT_EXIST DUPLICATE_SKU GENERIC_ERROR
}
type ProductSetUserError { field: [String!] message: String! code: ProductSetUserErrorCode }
type ProductSetOperation { id: ID! status: String! }
type ProductSetPayload { product: Product productSetOperation: ProductSetOperation userErrors: [ProductSetUserError!]! }

input InventoryQuantityInput { inventoryItemId: ID! locationId: ID! quantity: Int! changeFromQuantity: Int }
input InventorySetQuantitiesInput { name: String! reason: String! referenceDocumentUri: URL quantities: [InventoryQuantityInput!]! }
enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED INVALID_INVENTORY_ITEM INVALID_LOCATION INVALID_NAME
  INVALID_QUANTITY_NEGATIVE INVALID_QUANTITY_TOO_HIGH INVALID_REASON INVALID_REFERENCE_DOCUMENT
  ITEM_NOT_STOCKED_AT_LOCATION NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
}
type InventorySetQuantitiesUserError { field: [String!] message: String! code: InventorySetQuantitiesUserErrorCode }
type InventoryChange { name: String! delta: Int! quantityAfterChange: Int }
type InventoryAdjustmentGroup {
  id: ID! createdAt: DateTime! reason: String! referenceDocumentUri: String changes: [InventoryChange!]!
}
type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup userErrors: [InventorySetQuantitiesUserError!]!
}

input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID! fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input FulfillmentTrackingInput { company: String number: String url: URL numbers: [String!] urls: [URL!] }
input FulfillmentOriginAddressInput {
  address1: String address2: String city: String zip: String provinceCode: String countryCode: String!
}
input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]! notifyCustomer: Boolean = false
  trackingInfo: FulfillmentTrackingInput originAddress: FulfillmentOriginAddressInput
}
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }

input WebhookSubscriptionInput {
  uri: String format: WebhookSubscriptionFormat = JSON includeFields: [String!] filter: String
}
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
""" % {"countries": " ".join(_COUNTRIES), "currencies": " ".join(_CURRENCIES)}


@functools.cache
def schema() -> GraphQLSchema:
    return build_schema(SDL)


# ----------------------------------------------------------------------------- connections
def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _index(cursor: str | None) -> int:
    if not cursor:
        return -1
    try:
        return int(base64.b64decode(cursor.encode()).decode().split(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        return -1


def connection(items: Sequence[Any], first: int | None = None, after: str | None = None,
               view: Callable[[Any], Any] = lambda x: x) -> dict[str, Any]:
    """A Relay connection page over ``items`` (positions are the cursors)."""
    start = _index(after) + 1
    size = len(items) if first is None else max(first, 0)
    page = list(items[start:start + size])
    end = start + len(page) - 1
    return {
        "nodes": [view(x) for x in page],
        "edges": [{"node": view(x), "cursor": _cursor(start + i)} for i, x in enumerate(page)],
        "pageInfo": {"hasNextPage": start + len(page) < len(items), "hasPreviousPage": start > 0,
                     "startCursor": _cursor(start) if page else None,
                     "endCursor": _cursor(end) if page else None},
    }


def conn_field(items: Callable[[], Sequence[Any]], view: Callable[[Any], Any]) -> Callable[..., dict[str, Any]]:
    """A view value resolving a connection with ``first``/``after`` lazily."""
    def resolve(_info: Any, first: int | None = None, after: str | None = None, **_: Any) -> dict[str, Any]:
        return connection(items(), first, after, view)

    return resolve


# ----------------------------------------------------------------------------- cost
MUTATION_COST = 10


def requested_cost(gql_schema: GraphQLSchema, operation: OperationDefinitionNode,
                   fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> int:
    """Shopify's static cost: scalars and enums 0, objects 1, connections ``2 + first ×``
    the cost of one node, a mutation 10 plus what it selects."""
    root = gql_schema.mutation_type if operation.operation.value == "mutation" else gql_schema.query_type
    assert root is not None
    total = _selection_cost(gql_schema, root, operation.selection_set, fragments, variables)
    if operation.operation.value == "mutation":
        total += MUTATION_COST * len(operation.selection_set.selections)
    return max(total, 1)


def _arg(node: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for arg in node.arguments or ():
        if arg.name.value == name:
            return value_from_ast_untyped(arg.value, variables)
    return None


def _fields(gql_schema: GraphQLSchema, parent: Any, selection_set: SelectionSetNode | None,
            fragments: dict[str, FragmentDefinitionNode]) -> list[tuple[Any, FieldNode]]:
    """(type the field is read on, field node) for every field selected, fragments expanded."""
    found: list[tuple[Any, FieldNode]] = []
    for sel in (selection_set.selections if selection_set else ()):
        if isinstance(sel, FieldNode):
            found.append((parent, sel))
        elif isinstance(sel, InlineFragmentNode):
            target = gql_schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
            found += _fields(gql_schema, target, sel.selection_set, fragments)
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
            frag = fragments[sel.name.value]
            found += _fields(gql_schema, gql_schema.get_type(frag.type_condition.name.value), frag.selection_set,
                             fragments)
    return found


def _selection_cost(gql_schema: GraphQLSchema, parent: Any, selection_set: SelectionSetNode | None,
                    fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> int:
    total = 0
    for owner, node in _fields(gql_schema, parent, selection_set, fragments):
        field = getattr(owner, "fields", {}).get(node.name.value)
        if field is None:
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            continue
        if named.name.endswith("Connection"):
            first = _arg(node, "first", variables) or _arg(node, "last", variables) or 0
            per_node = 0
            for inner_owner, inner in _fields(gql_schema, named, node.selection_set, fragments):
                if inner.name.value == "nodes":
                    node_type = get_named_type(inner_owner.fields["nodes"].type)
                    per_node = max(per_node, 1 + _selection_cost(gql_schema, node_type, inner.selection_set,
                                                                 fragments, variables))
                elif inner.name.value == "edges":
                    edge_type = get_named_type(inner_owner.fields["edges"].type)
                    per_node = max(per_node, 1 + _selection_cost(gql_schema, edge_type, inner.selection_set,
                                                                 fragments, variables))
            total += 2 + int(first) * per_node
        else:
            total += 1 + _selection_cost(gql_schema, named, node.selection_set, fragments, variables)
    return total
