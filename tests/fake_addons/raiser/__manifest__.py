{"name": "Raiser", "summary": "Lève une erreur", "version": "0.1.0", "category": "tools", "depends": ["core"]}
