{"name": "Cycle A", "summary": "x", "version": "1.0.0", "category": "tools", "depends": ["core", "cycle_b"]}
