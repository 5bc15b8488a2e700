"""The analytics jobs: the organization's one coalesced refresh, and the nightly pass.

A transaction that changes orders marks them (``analytics_dirty``) and queues the
organization's refresh under one unique id, run a few seconds later
(``core.analytics.facts.REFRESH_WINDOW``), so a burst of webhooks or the pages of a sync
make one job that refreshes every marked order, not one job per transaction. The job deletes only the
marks it saw (same ``seq``): an order marked again while it ran stays for the next run,
which that new mark's transaction queued.

The nightly pass is incremental: it marks the orders updated since its last run (changes
made outside the ORM) and those without figures; ``oms analytics rebuild`` recomputes
everything, on request.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, delete, select

from .analytics import BATCH, mark_dirty, refresh_orders
from .extensions import db
from .models import AnalyticsDirty, AnalyticsOrderFact, ClockMark, Order, OrderStatus, Organization

NIGHTLY_KEY = "analytics:nightly"
#: changes this close before the last nightly run are looked at again (clock skew, long commits)
NIGHTLY_OVERLAP = timedelta(hours=1)


def refresh_pending(org_id: int, batch: int = BATCH * 4) -> int:
    """Job: refresh the organization's marked orders, batch by batch; returns how many."""
    done = 0
    while True:
        marks = db.session.execute(
            select(AnalyticsDirty.order_id, AnalyticsDirty.seq).where(AnalyticsDirty.organization_id == org_id)
            .order_by(AnalyticsDirty.order_id).limit(batch)).all()
        if not marks:
            return done
        refresh_orders(org_id, [m.order_id for m in marks])
        t = AnalyticsDirty.__table__
        db.session.connection().execute(
            delete(t).where(t.c.organization_id == org_id, t.c.order_id == bindparam("oid"),
                            t.c.seq == bindparam("s")),
            [{"oid": m.order_id, "s": m.seq} for m in marks])
        db.session.commit()
        done += len(marks)
        if len(marks) < batch:
            return done


def refresh_changed(now: datetime | None = None) -> int:
    """Nightly: mark (and queue the refresh of) each organization's orders updated since the
    last nightly run, and its orders without figures. Returns how many were marked."""
    now = now or datetime.now(timezone.utc)
    clock = db.session.get(ClockMark, NIGHTLY_KEY)
    since = datetime.fromtimestamp(clock.at, timezone.utc) - NIGHTLY_OVERLAP if clock else None
    marked = 0
    for org_id in db.session.scalars(select(Organization.id).order_by(Organization.id)).all():
        missing = (select(Order.id).where(Order.organization_id == org_id, Order.status != OrderStatus.CANCELLED,
                                          Order.id.not_in(select(AnalyticsOrderFact.order_id).where(
                                              AnalyticsOrderFact.organization_id == org_id))))
        ids = set(db.session.scalars(missing))
        if since is not None:
            ids |= set(db.session.scalars(select(Order.id).where(Order.organization_id == org_id,
                                                                 Order.updated_at >= since)))
        if ids:
            mark_dirty(db.session, org_id, ids)
            marked += len(ids)
    if clock is None:
        db.session.add(ClockMark(key=NIGHTLY_KEY, at=now.timestamp()))
    else:
        clock.at = now.timestamp()
    return marked
