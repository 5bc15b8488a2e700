{
    "name": "Shopify",
    "summary": "Connecte une boutique Shopify par l'API Admin GraphQL",
    "summaries": {"en": "Connects a Shopify store through the GraphQL Admin API"},
    "version": "2.0.0",
    "category": "marketplace",
    "kind": "channel",
    "scope": "shop",
    "depends": ["core"],
    "icon": "static/description/icon.svg",
    "application": True,
    "author": "OMS",
    "license": "MIT",
    "api_version": "2026-10",
    "external_dependencies": {"python": ["httpx"]},  # graphql-core: the emulator only (sandbox extra)
}
