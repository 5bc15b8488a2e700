{"name": "Bad", "summary": "x", "version": "1.0", "category": "tools", "depends": ["core"]}
