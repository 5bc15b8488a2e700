{"name": "Alpha", "summary": "Outil de test alpha", "version": "1.0.0", "category": "tools", "kind": "tool", "depends": ["core"]}
