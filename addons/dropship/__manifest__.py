{
    "name": "Dropshipping",
    "summary": "Envoyez les bons de commande à vos fournisseurs par e-mail ou par webhook",
    "version": "1.0.0",
    "category": "dropshipping",
    "kind": "fulfilment",
    "scope": "shop",
    "depends": ["core"],
    "icon": "static/description/icon.svg",
    "application": True,
    "author": "OMS",
    "license": "MIT",
    "external_dependencies": {"python": ["httpx"]},
}
