{
    "name": "eBay",
    "summary": "Vendez sur eBay : commandes, stock, suivi, annulations et frais par les API Sell d'eBay",
    "summaries": {"en": "Sell on eBay: orders, stock, tracking, cancellations and fees through eBay's Sell APIs"},
    "version": "1.1.0",
    "category": "marketplace",
    "kind": "channel",
    "scope": "shop",
    "depends": ["core"],
    "icon": "static/description/icon.svg",
    "application": True,
    "author": "OMS",
    "license": "MIT",
    "external_dependencies": {"python": ["httpx", "cryptography"]},
    "api_version": "Sell Fulfillment v1.20.7, Sell Inventory v1.18.4, Commerce Notification v1.6.2, "
                   "Sell Finances v1, Post-Order v2, Developer Key Management v1",
}
