"""The connector kit: what every add-on that talks to a remote service stands on."""
