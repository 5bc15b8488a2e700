"""Core's pages, error pages, and what every page's layout needs (plan quota, exceptions)."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask, g, render_template, session
from flask_login import current_user


def register_core_blueprints(app: Flask) -> None:
    from . import account, alerts, analytics, auth, catalog, health, help, integrations, main, ops, picking
    from . import stock  # noqa: F401 - the stock pages, on main's blueprint
    from . import carriers  # noqa: F401 - the carrier rules, on ops' blueprint

    for module in (auth, health, main, catalog, account, alerts, help, ops, integrations, picking, analytics):
        app.register_blueprint(module.bp)

    from ..extensions import login_manager
    from ..models import User
    from ..extensions import db

    @login_manager.user_loader
    def _load_user(cookie_id: str):
        """``<id>:<session token>``: a cookie issued before a logout or a password change
        carries an old token and signs nobody in."""
        import hmac

        from ..inputs import parse_id

        user_id, _sep, token = (cookie_id or "").partition(":")
        if parse_id(user_id) is None or not token:
            return None
        user = db.session.get(User, parse_id(user_id))
        if user is None or not user.active or not user.session_token:
            return None
        return user if hmac.compare_digest(user.session_token, token) else None

    _register_error_handlers(app)
    app.context_processor(_layout_context)


# ----------------------------------------------------------------------------- error pages
def _register_error_handlers(app: Flask) -> None:
    def page(code: int):
        def handler(_exc: Exception):
            if code == 500:
                from ..extensions import db

                try:  # the failed request may have left its database transaction broken
                    db.session.rollback()
                except Exception:  # noqa: BLE001 - the error page must render regardless
                    pass
            return render_template(f"errors/{code}.html"), code

        return handler

    for code in (400, 403, 404, 413, 500):
        app.register_error_handler(code, page(code))


# ----------------------------------------------------------------------------- layout context
def _is_owner() -> bool:
    from ..models import Role

    return bool(current_user and current_user.is_authenticated and current_user.has_role(Role.OWNER))


def _is_manager() -> bool:
    from ..tenancy import MANAGERS

    return bool(current_user and current_user.is_authenticated and current_user.has_role(*MANAGERS))


def plan_quota() -> tuple[int, int] | None:
    """(orders this month, limit) once the plan's monthly limit is reached, for the owner's
    banner, once a day per session (it links to the plan page, which always shows the figures);
    None otherwise (staff, pickers, visitors, or already shown today). Computed at most once
    per request, only when the layout asks for it."""
    if "oms_plan_quota" not in g:
        result = None
        today = date.today().isoformat()
        if _is_owner() and session.get("oms_quota_banner") != today:
            from ..intake import quota

            count, limit = quota(current_user.organization_id)
            if limit is not None and count >= limit:
                result = (count, limit)
                session["oms_quota_banner"] = today
        g.oms_plan_quota = result
    return g.oms_plan_quota


def exception_count() -> int:
    """The number on the "Exceptions" navigation entry (managers only)."""
    if "oms_exception_count" not in g:
        count = 0
        if _is_manager():
            from .ops import exception_count as count_for

            count = count_for(current_user.organization_id)
        g.oms_exception_count = count
    return g.oms_exception_count


def _layout_context() -> dict[str, Any]:
    # callables: the figures are computed only if a page's layout shows them (the
    # standalone 500 page never does, so it renders even with the database down)
    return {"plan_quota": plan_quota, "exception_count": exception_count, "alert_count": alert_count}


def alert_count() -> int:
    """The number on the bell (0 for those who may not open the alerts)."""
    from ..access import can
    from ..alerts import count

    if not current_user.is_authenticated or not can("alerts.index"):
        return 0
    return count(current_user.organization)
