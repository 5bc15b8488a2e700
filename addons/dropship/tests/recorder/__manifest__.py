{
    "name": "Canal enregistreur",
    "summary": "Canal de test : enregistre les suivis et le stock que l'OMS lui transmet",
    "version": "1.0.0",
    "category": "marketplace",
    "kind": "channel",
    "depends": ["core"],
}
