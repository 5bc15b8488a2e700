"""Writes rows, then fails: in Python (stock pushes) or in SQL (status changes)."""
import sqlalchemy as sa

from core import hookimpl
from core.extensions import db
from core.models import Warehouse


@hookimpl
def stock_available_changed(shop, changes):
    db.session.add(Warehouse(organization_id=shop.organization_id, code="HALF", name="half-written"))
    db.session.flush()
    raise RuntimeError("remote exploded after writing")


@hookimpl
def order_status_changed(shop, order, old, new):
    db.session.add(Warehouse(organization_id=shop.organization_id, code="SQL", name="before a bad query"))
    db.session.flush()
    db.session.execute(sa.text("SELECT no_such_column FROM no_such_table"))
