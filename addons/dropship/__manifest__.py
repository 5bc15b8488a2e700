{
    "name": "Dropshipping",
    "summary": "Vos fournisseurs expédient pour vous : bons de commande, suivi renvoyé au client, stock fournisseur",
    "version": "2.0.0",
    "category": "dropshipping",
    "kind": "fulfilment",
    "scope": "shop",
    "depends": ["core"],
    "icon": "static/description/icon.svg",
    "application": True,
    "author": "OMS",
    "license": "MIT",
    "external_dependencies": {"python": ["httpx", "reportlab", "itsdangerous"]},
}
