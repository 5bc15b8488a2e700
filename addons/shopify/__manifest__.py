{
    "name": "Shopify",
    "summary": "Connecte une boutique Shopify par l'API Admin GraphQL",
    "version": "1.0.0",
    "category": "marketplace",
    "kind": "channel",
    "scope": "shop",
    "depends": ["core"],
    "icon": "static/description/icon.svg",
    "application": True,
    "author": "OMS",
    "license": "MIT",
    "external_dependencies": {"python": ["httpx"]},
}
