{"name": "Cycle B", "summary": "x", "version": "1.0.0", "category": "tools", "depends": ["core", "cycle_a"]}
