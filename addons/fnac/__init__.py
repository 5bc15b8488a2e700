"""Fnac Darty marketplace channel."""
