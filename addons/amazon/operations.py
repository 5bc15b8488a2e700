"""The SP-API operations the add-on calls, with the default usage plan (rate in requests
per second, burst) that each official model documents. The client limits itself to these
figures (or to the rate Amazon announces in ``x-amzn-RateLimit-Limit``); the emulator
enforces them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # template, ``{name}`` for path parameters
    rate: float
    burst: int
    model: str  # file name of the official model (shared specs folder, else the add-on's ``specs``)
    grantless: bool = False  # called with a client_credentials token (no seller)

    def url_path(self, **params: str) -> str:
        from urllib.parse import quote

        return self.path.format(**{k: quote(str(v), safe="") for k, v in params.items()})


_OPS = [
    Operation("getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", 0.016, 15,
              "sellers.json"),
    Operation("searchOrders", "GET", "/orders/2026-01-01/orders", 0.0056, 20, "orders_2026-01-01.json"),
    Operation("getOrder", "GET", "/orders/2026-01-01/orders/{orderId}", 0.5, 30, "orders_2026-01-01.json"),
    Operation("confirmShipment", "POST", "/orders/v0/orders/{orderId}/shipmentConfirmation", 2, 10,
              "ordersV0.json"),
    Operation("getListingsItem", "GET", "/listings/2021-08-01/items/{sellerId}/{sku}", 5, 10,
              "listingsItems_2021-08-01.json"),
    Operation("patchListingsItem", "PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}", 5, 5,
              "listingsItems_2021-08-01.json"),
    Operation("createFeedDocument", "POST", "/feeds/2021-06-30/documents", 0.5, 15, "feeds_2021-06-30.json"),
    Operation("createFeed", "POST", "/feeds/2021-06-30/feeds", 0.0083, 15, "feeds_2021-06-30.json"),
    Operation("getFeed", "GET", "/feeds/2021-06-30/feeds/{feedId}", 2, 15, "feeds_2021-06-30.json"),
    Operation("getFeedDocument", "GET", "/feeds/2021-06-30/documents/{feedDocumentId}", 0.0222, 10,
              "feeds_2021-06-30.json"),
    Operation("createReport", "POST", "/reports/2021-06-30/reports", 0.0167, 15, "reports_2021-06-30.json"),
    Operation("getReport", "GET", "/reports/2021-06-30/reports/{reportId}", 2, 15, "reports_2021-06-30.json"),
    Operation("getReportDocument", "GET", "/reports/2021-06-30/documents/{reportDocumentId}", 0.0167, 15,
              "reports_2021-06-30.json"),
    Operation("getInventorySummaries", "GET", "/fba/inventory/v1/summaries", 2, 2, "fbaInventory.json"),
    Operation("listFinancialEventsByOrderId", "GET", "/finances/v0/orders/{orderId}/financialEvents", 0.5, 30,
              "financesV0.json"),
    Operation("createDestination", "POST", "/notifications/v1/destinations", 1, 5, "notifications.json",
              grantless=True),
    Operation("getDestinations", "GET", "/notifications/v1/destinations", 1, 5, "notifications.json",
              grantless=True),
    Operation("createSubscription", "POST", "/notifications/v1/subscriptions/{notificationType}", 1, 5,
              "notifications.json"),
    Operation("getSubscription", "GET", "/notifications/v1/subscriptions/{notificationType}", 1, 5,
              "notifications.json"),
]

OPERATIONS: dict[str, Operation] = {op.name: op for op in _OPS}
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
