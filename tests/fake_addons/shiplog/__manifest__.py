{"name": "Ship log", "summary": "Journal de test des expéditions annoncées aux canaux", "version": "1.0.0", "category": "tools", "kind": "tool", "depends": ["core"]}
