"""``addon_required(name)``: an add-on's pages exist only where the add-on is enabled.

A page whose URL names a shop (``<shop_id>``) answers 404 unless the add-on is enabled for
that shop of the signed-in user's organization; a page without one answers 404 unless the
add-on is enabled for at least one shop of the organization. 404 and not 403: an add-on
the organization does not use, or another tenant's shop, must not be confirmed to exist.

The decorator also signs in and checks the role (:func:`core.tenancy.roles_required`,
managers by default), so an add-on's page needs this one line::

    @bp.route("/shops/<shop_id>")
    @addon_required("amazon")
    def shop_page(shop_id: str): ...
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, render_template
from sqlalchemy import select

from core.extensions import db
from core.models import Role, Shop, ShopAddon
from core.tenancy import MANAGERS, get_owned, org_id, roles_required


def enabled_for_shop(name: str, shop: Shop) -> bool:
    row = shop.addon_row(name)
    return row is not None and bool(row.active)


def enabled_in_organization(name: str, organization_id: int) -> bool:
    return db.session.scalar(select(ShopAddon.id).join(Shop, Shop.id == ShopAddon.shop_id).where(
        Shop.organization_id == organization_id, ShopAddon.addon == name, ShopAddon.active.is_(True))
        .limit(1)) is not None


def addon_required(name: str, *, roles: tuple[Role, ...] = MANAGERS, shop_arg: str = "shop_id",
                   disabled_template: str | None = None) -> Callable[[Callable], Callable]:
    """Guard an add-on's page: sign-in, one of ``roles`` (403 otherwise), and the add-on
    enabled for the shop named by the URL's ``shop_arg`` (another organization's shop: 404),
    or for some shop of the organization when the URL names none; 404 otherwise, with
    ``disabled_template`` as the page when given (a hint to enable the add-on)."""

    def deco(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if shop_arg in kwargs:
                enabled = enabled_for_shop(name, get_owned(Shop, kwargs[shop_arg]))
            else:
                enabled = enabled_in_organization(name, org_id())
            if not enabled:
                if disabled_template:
                    return render_template(disabled_template), 404
                abort(404)
            return view(*args, **kwargs)

        return roles_required(*roles)(wrapped)

    return deco
