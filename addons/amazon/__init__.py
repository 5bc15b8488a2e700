"""Amazon channel: a seller account connected through the Selling Partner API (SP-API)."""
