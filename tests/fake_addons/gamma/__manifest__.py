{"name": "Gamma Platform", "summary": "Plateforme de test gamma", "version": "1.0.0", "category": "marketplace", "kind": "channel", "depends": ["core"]}
