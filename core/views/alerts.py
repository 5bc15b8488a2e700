"""The bell's page: what needs the merchant now, each with the way to fix it."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from .. import alerts

bp = Blueprint("alerts", __name__)


@bp.route("/alerts")
@login_required
def index():
    found = alerts.collect(current_user.organization)
    return render_template("main/alerts.html", alerts=found)
