{
    "name": "Amazon",
    "summary": "Connecte un compte vendeur Amazon par la Selling Partner API (SP-API)",
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
