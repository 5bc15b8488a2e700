"""The POST half of the ``listing_fix`` macro (``templates/_macros.html``), for every channel
add-on's "listing without product" rows: the fix of :mod:`core.listings` applied from the form
(``do=link`` with ``sku``, or ``do=create``), the add-on's own bookkeeping, one commit, and the
merchant's sentence."""
from __future__ import annotations

from typing import Callable

from flask import flash, redirect, request
from werkzeug.wrappers import Response

from ..extensions import db
from ..listings import ListingFixError, RemoteListing, apply, fixed_message
from ..models import Shop, Variant


def answer(shop: Shop, listing: RemoteListing, back: str, attach: Callable[[Variant], None]) -> Response:
    """Apply the posted fix to ``listing``; ``attach`` gets the variant (store it on the add-on's
    row, queue the stock push). A fix the merchant can correct (an unknown SKU…) is said and
    nothing is stored. Redirects to ``back``."""
    try:
        variant = apply(shop, request.form.get("do"), listing, request.form.get("sku"))
    except ListingFixError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back)
    attach(variant)
    db.session.commit()
    flash(fixed_message(variant), "success")
    return redirect(back)
