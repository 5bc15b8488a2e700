"""Plans: what each one allows, this month's usage against it, and the operator's changes.

Past the monthly limit nothing is refused: orders keep coming in, flagged as over the plan
(``Order.over_quota``), so a merchant never loses a sale to a quota.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from .extensions import db
from .intake import month_start, quota
from .models import Order, Organization, Plan, PlanChange

#: the plans every installation has: (code, name, monthly order limit or None, monthly price in €)
PLANS = (("free", "Gratuit", 100, "0"), ("pro", "Pro", 2000, "49"), ("business", "Business", None, "199"))


class PlanError(ValueError):
    pass


def ensure_plans() -> None:
    """Create the standard plans that are missing (never changes an existing one)."""
    for code, name, limit, price in PLANS:
        if db.session.get(Plan, code) is None:
            db.session.add(Plan(code=code, name=name, monthly_order_limit=limit, monthly_price=Decimal(price)))
    db.session.flush()


@dataclass(frozen=True)
class Usage:
    plan: Plan
    count: int
    limit: int | None

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, round(100 * self.count / self.limit))

    @property
    def over(self) -> bool:
        return self.limit is not None and self.count >= self.limit


def usage(org: Organization) -> Usage:
    count, limit = quota(org.id)
    if limit is None:  # unlimited plans are not counted by quota(): count them for the page
        count = int(db.session.scalar(select(func.count()).select_from(Order).where(
            Order.organization_id == org.id, Order.created_at >= month_start())) or 0)
    return Usage(org.plan, count, limit)


def set_plan(org: Organization, code: str, *, by: str, note: str = "") -> PlanChange:
    """Move the organization to plan ``code``, recorded with who and why."""
    plan = db.session.get(Plan, code)
    if plan is None:
        known = ", ".join(db.session.scalars(select(Plan.code).order_by(Plan.code)))
        raise PlanError(f"forfait {code!r} inconnu (forfaits : {known})")
    change = PlanChange(organization_id=org.id, from_plan=org.plan_code, to_plan=code, by=by[:120], note=note[:500])
    org.plan_code = code
    db.session.add(change)
    db.session.flush()
    return change


def history(org_id: int, limit: int = 20) -> list[PlanChange]:
    return list(db.session.scalars(select(PlanChange).where(PlanChange.organization_id == org_id)
                                   .order_by(PlanChange.at.desc(), PlanChange.id.desc()).limit(limit)))
