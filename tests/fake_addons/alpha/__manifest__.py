{"name": "Alpha", "summary": "Outil de test alpha", "summaries": {"en": "Alpha test tool"}, "version": "1.0.0", "category": "tools", "kind": "tool", "depends": ["core"]}
