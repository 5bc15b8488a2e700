{
    "name": "Sendcloud",
    "summary": "Expédiez avec les transporteurs de votre compte Sendcloud",
    "version": "1.1.0",
    "category": "carrier",
    "kind": "carrier",
    "scope": "shop",
    "depends": ["core"],
    "icon": "static/description/icon.svg",
    "application": True,
    "author": "OMS",
    "license": "MIT",
    "external_dependencies": {"python": ["httpx"]},
}
