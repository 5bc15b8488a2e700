"""Sendcloud carrier gateway: shipping options, labels and tracking through the Sendcloud API."""
