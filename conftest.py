"""Shared fixtures for core tests (tests/) and add-on tests (addons/*/tests/)."""
pytest_plugins = ["tests.fixtures"]
