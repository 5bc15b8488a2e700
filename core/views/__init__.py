"""Core's pages."""
from __future__ import annotations

from flask import Flask


def register_core_blueprints(app: Flask) -> None:
    from . import auth, health, integrations, main

    for module in (auth, health, main, integrations):
        app.register_blueprint(module.bp)

    from ..extensions import login_manager
    from ..models import User
    from ..extensions import db

    @login_manager.user_loader
    def _load_user(user_id: str):
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None
