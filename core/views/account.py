"""The organization's own account pages: its plan and this month's usage."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Plan
from ..plans import history, usage
from ..tenancy import MANAGERS, roles_required

bp = Blueprint("account", __name__)


@bp.route("/plan")
@roles_required(*MANAGERS)
def plan():
    org = current_user.organization
    plans = db.session.scalars(select(Plan).order_by(Plan.monthly_price, Plan.code)).all()
    return render_template("account/plan.html", org=org, usage=usage(org), plans=plans, changes=history(org.id))
