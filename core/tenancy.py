"""Tenant isolation: every lookup made for a signed-in user is scoped to their organization."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from .extensions import db
from .inputs import parse_id
from .models import Role

M = TypeVar("M")


def org_id() -> int:
    return current_user.organization_id


def scoped(model: type[M]) -> Select:
    """``select(model)`` limited to the current user's organization."""
    return select(model).where(model.organization_id == org_id())  # type: ignore[attr-defined]


def get_owned(model: type[M], ident: Any) -> M:
    """The row with this id in the current organization, else 404 (never 403: another
    tenant's ids must not even be confirmed to exist)."""
    number = parse_id(ident)
    if number is None:  # not a number, or beyond the id column: no such row
        abort(404)
    obj = db.session.get(model, number)
    if obj is None or getattr(obj, "organization_id", None) != org_id():
        abort(404)
    return obj


def roles_required(*roles: Role) -> Callable:
    """Login plus one of ``roles``; others get 403."""

    def deco(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return deco


#: who may manage shops and integrations
MANAGERS = (Role.OWNER, Role.STAFF)
EVERYONE = (Role.OWNER, Role.STAFF, Role.PICKER)
