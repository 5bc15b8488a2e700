{"name": "Future", "summary": "x", "version": "1.0.0", "category": "tools", "depends": ["core"], "core_version": ">=2.0"}
