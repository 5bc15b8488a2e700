"""The supplier's link to a purchase order: signed with the app's secret key, valid
:data:`MAX_AGE` seconds, no account needed. Also absolute URLs for e-mails and webhooks."""
from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "dropship-supplier-link"
#: a link stays valid 30 days
MAX_AGE = 30 * 24 * 3600


class LinkError(Exception):
    """A refused link; ``expired`` tells a genuine but too old link from a forged one."""

    def __init__(self, expired: bool) -> None:
        super().__init__("lien expiré" if expired else "lien invalide")
        self.expired = expired


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(purchase_order_id: int, supplier_id: int) -> str:
    return serializer().dumps({"po": purchase_order_id, "supplier": supplier_id})


def read_token(token: str, max_age: int = MAX_AGE) -> tuple[int, int]:
    """(purchase order id, supplier id) of a genuine, fresh link; raises LinkError."""
    try:
        data: Any = serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError(expired=True) from None
    except BadSignature:
        raise LinkError(expired=False) from None
    if not isinstance(data, dict) or not isinstance(data.get("po"), int) or not isinstance(data.get("supplier"), int):
        raise LinkError(expired=False)
    return data["po"], data["supplier"]


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL a supplier can open: ``PUBLIC_URL`` (``OMS_PUBLIC_URL``) when set, else
    the current request's host, else ``SERVER_NAME``; only the path when none is known."""
    path = current_app.url_map.bind("localhost", script_name="/").build(endpoint, values)
    root = current_app.config.get("PUBLIC_URL") or ""
    if not root and has_request_context():
        root = request.host_url
    if not root and current_app.config.get("SERVER_NAME"):
        root = f"{current_app.config.get('PREFERRED_URL_SCHEME', 'http')}://{current_app.config['SERVER_NAME']}"
    return root.rstrip("/") + path


def supplier_link(purchase_order_id: int, supplier_id: int) -> str:
    return external_url("dropship.supplier_page", token=make_token(purchase_order_id, supplier_id))
