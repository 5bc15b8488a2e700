"""Sendcloud's hook implementations."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)


@hookimpl
def register_settings_form() -> type:
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(shop, settings)


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox

    return Sandbox(name="sendcloud", make_app=sandbox.make_app, settings=sandbox.demo_settings)
