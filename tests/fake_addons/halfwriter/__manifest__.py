{"name": "Half writer", "summary": "Écrit à moitié puis échoue", "version": "0.1.0", "category": "tools",
 "depends": ["core"]}
