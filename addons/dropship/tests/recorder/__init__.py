"""A sales channel for the dropshipping tests: it records what core tells channels."""
