"""Mount every loaded add-on's emulator under ``/sandbox/<name>`` (demo mode only).

The emulators speak their remote API's wire format; pointing a shop at one is a matter of
settings (base URL and credentials), exactly as pointing it at the real service. An emulator
of a platform with public apps registers the installation's app with it
(``Sandbox.installation``), so a new shop connects with no credentials typed in.
"""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from .connectors.emulator import mount_path
from . import hookimpl
from .types import CronJob, Sandbox


def sandboxes(app: Flask) -> dict[str, Sandbox]:
    found = app.extensions["oms_addons"].pm.hook.register_sandbox()
    return {sb.name: sb for sb in found if sb is not None}


def base_url(app: Flask, name: str) -> str:
    root = app.config.get("PUBLIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    return root.rstrip("/") + mount_path(name)


class DemoPlugin:
    """Registered with the add-ons while the emulators run (``OMS_SANDBOXES=1``): the demo
    supplier's deliveries (``core.demo.replenish``)."""

    @staticmethod
    @hookimpl
    def register_cron_jobs():
        return [CronJob("core.demo.replenish", interval=3 * 3600)]


def mount_sandboxes(app: Flask) -> None:
    registry = app.extensions["oms_addons"]
    if registry.pm.get_plugin("oms-demo") is None:  # the demo supplier's deliveries
        registry.pm.register(DemoPlugin(), name="oms-demo")
    boxes = sandboxes(app)
    app.extensions["oms_sandboxes"] = boxes
    for name, box in boxes.items():
        if box.installation is not None:  # what the operator set (config or environment) wins
            for key, value in box.installation(base_url(app, name)).items():
                if app.config.get(key) is None and not os.environ.get(key):
                    app.config[key] = value
    mounts = {mount_path(name): sb.make_app() for name, sb in boxes.items()}
    app.extensions["oms_sandbox_apps"] = {name: mounts[mount_path(name)] for name in boxes}
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, mounts)  # type: ignore[method-assign]
