"""Mondial Relay carrier: relay-point search, labels (API 2 "Connect") and tracking (API 1)."""
