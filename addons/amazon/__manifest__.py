{
    "name": "Amazon",
    "summary": "Connecte un compte vendeur Amazon par la Selling Partner API (SP-API)",
    "summaries": {"en": "Connects an Amazon seller account through the Selling Partner API (SP-API)"},
    "version": "2.0.0",
    "category": "marketplace",
    "kind": "channel",
    "scope": "shop",
    "depends": ["core"],
    "icon": "static/description/icon.svg",
    "application": True,
    "author": "OMS",
    "license": "MIT",
    "external_dependencies": {"python": ["httpx"]},
    "api_version": "SP-API: Orders 2026-01-01 and v0, Listings Items 2021-08-01, Feeds and Reports 2021-06-30, "
                   "Finances v0",
}
