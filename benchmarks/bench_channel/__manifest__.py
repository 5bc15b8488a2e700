{
    "name": "Bench channel",
    "summary": "Canal de mesure : compte les envois de stock",
    "version": "1.0.0",
    "category": "marketplace",
    "kind": "channel",
    "depends": ["core"],
}
