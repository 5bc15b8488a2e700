{"name": "Missing", "summary": "x", "version": "1.0.0", "category": "tools", "depends": ["core", "nope"]}
