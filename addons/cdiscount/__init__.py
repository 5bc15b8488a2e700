"""Cdiscount: the marketplace on Octopia's Seller API v2."""
