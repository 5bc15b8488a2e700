{"name": "Beta Marketplace", "summary": "Canal de test beta", "version": "1.2.3", "category": "marketplace", "kind": "channel", "depends": ["core", "alpha"]}
