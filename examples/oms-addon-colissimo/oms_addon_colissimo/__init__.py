"""Colissimo: an OMS add-on (carrier)."""
