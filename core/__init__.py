"""OMS core: the app factory, the domain model, the hooks and the add-on loader.

Core never imports an add-on; add-ons import ``core`` and implement its hooks.
"""
from __future__ import annotations

import pluggy

__version__ = "1.0.0"

#: decorator for add-on hook implementations: ``@hookimpl`` / ``@hookimpl(trylast=True)``
hookimpl = pluggy.HookimplMarker("oms")


def create_app(config: dict | None = None):
    """Build the Flask app (see ``core.app.create_app``)."""
    from .app import create_app as _create_app

    return _create_app(config)
