"""Shared fixtures for core tests (tests/) and add-on tests (addons/*/tests/)."""
import os

# the emulators the tests call run on this machine's loopback: the operator's allow-list lets
# the clients reach them (production has neither the emulators nor this entry)
os.environ.setdefault("OMS_OUTBOUND_ALLOW", "127.0.0.1,localhost")

pytest_plugins = ["tests.fixtures"]
