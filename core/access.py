"""Who may open which page: every route's rule, in one place.

Three roles (``core.models.Role``):

* **owner**: everything;
* **staff**: orders, products, stock, picking, returns and analytics, but not credentials,
  shops, add-ons, users or the plan;
* **picker**: picking and packing only.

:data:`RULES` is read top to bottom; the first pattern (``fnmatch`` on the endpoint name)
that matches gives the roles allowed. An endpoint no rule names is the owner's alone, so a
new page is closed until it is given a rule, and every add-on's pages (``shopify.*``,
``amazon.*``…: settings, installs, credentials) are the owner's unless a rule opens them.
The rule applies to signed-in users only: who may call a page anonymously (a webhook
checked by its signature, a supplier's link checked by its token, the login page) is the
page's own business, and ``PUBLIC`` rules say so. ``tests/test_access.py`` sweeps every
route of the app for every role against this table.
"""
from __future__ import annotations

from fnmatch import fnmatchcase

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from .models import Role

OWNER = frozenset({Role.OWNER})
OFFICE = frozenset({Role.OWNER, Role.STAFF})
EVERYONE = frozenset({Role.OWNER, Role.STAFF, Role.PICKER})
#: no role needed: signed-in or not, the page checks what it needs itself
PUBLIC = None

RULES: tuple[tuple[str, frozenset[Role] | None], ...] = (
    # the way in, and machines
    ("static", PUBLIC),
    ("auth.*", PUBLIC),
    ("health.*", PUBLIC),
    ("*.webhook", PUBLIC),
    ("*.webhooks", PUBLIC),
    ("*.callback", PUBLIC),            # OAuth return from the remote (the state proves who)
    ("*.notification", PUBLIC),        # Amazon's relay (its secret proves who)
    ("dropship.supplier_page", PUBLIC),  # a supplier's link (its token proves who)
    ("dropship.supplier_csv", PUBLIC),
    ("dropship.api_*", PUBLIC),        # suppliers' API (their key proves who)
    # the organization itself
    ("account.team*", OWNER),
    ("account.plan", OWNER),
    ("account.*", EVERYONE),           # one's own profile and password
    ("alerts.*", OFFICE),
    ("help.*", EVERYONE),
    # the warehouse floor
    ("main.dashboard", EVERYONE),      # a picker is sent on to preparation
    ("main.preparation", EVERYONE),
    ("main.order_packing_slip", EVERYONE),  # printed at the packing bench
    ("picking.locations", EVERYONE),   # where each article lies: read on the floor
    ("picking.locations_*", OFFICE),   # changing the warehouse's layout
    ("picking.shipment_cancel", OFFICE),  # a bought label given up
    ("picking.*", EVERYONE),
    # the office
    ("main.*", OFFICE),
    ("catalog.*", OFFICE),
    ("ops.*", OFFICE),
    ("analytics.*", OFFICE),
    ("integrations.sync_log", OFFICE),  # reading what a sync did, and retrying it
    ("integrations.retry", OFFICE),
    ("integrations.sync", OFFICE),
    ("integrations.*", OWNER),         # shops, add-ons, credentials
    ("dropship.purchase_order*", OFFICE),  # orders sent to suppliers
    ("dropship.tracking_upload", OFFICE),
    ("shopify.product", OFFICE),       # a product's state on the channel
    ("amazon.shop_page", OFFICE),
)
DEFAULT = OWNER
#: where each role lands when it opens a page it may not see but was sent to (its home)
HOME = {Role.PICKER: "picking.waves"}


def roles_for(endpoint: str | None) -> frozenset[Role] | None:
    """The roles allowed on ``endpoint`` (None: no role needed)."""
    if not endpoint:
        return PUBLIC
    for pattern, roles in RULES:
        if fnmatchcase(endpoint, pattern):
            return roles
    return DEFAULT


def allowed(endpoint: str | None, role: Role | str | None) -> bool:
    roles = roles_for(endpoint)
    return roles is None or (role is not None and Role(role) in roles)


def can(endpoint: str) -> bool:
    """For templates: may the signed-in user open ``endpoint``? (links are shown only then)."""
    if not current_user or not current_user.is_authenticated:
        return roles_for(endpoint) is None
    return allowed(endpoint, current_user.role)


def _enforce():
    if not current_user or not current_user.is_authenticated:
        return None
    endpoint = request.endpoint
    if endpoint == "main.dashboard" and current_user.role in HOME:
        return redirect(url_for(HOME[current_user.role]))
    if not allowed(endpoint, current_user.role):
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_enforce)
    app.jinja_env.globals["can"] = can
