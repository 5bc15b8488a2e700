"""A stock change costs one statement, and its commit one more: the ledger row, the dirty mark,
the window's push job and the backorder check all travel with the commit (core.stock)."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from core import stock
from core.extensions import db
from core.inputs import QTY_MAX
from core.models import OutboxJob, StockDirty, StockMovement
from tests.pipeline_helpers import variant, warehouse


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def _pushes() -> list[str]:
    return list(db.session.scalars(select(OutboxJob.job_id).where(OutboxJob.func == "core.stock.push_changes",
                                                                  OutboxJob.state == "pending")))


def test_each_change_commits_its_ledger_row_mark_and_one_push_per_window(app, org, statements, monkeypatch):
    wh = warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG", {wh: 10})
    db.session.commit()
    window = stock.push_job_id
    monkeypatch.setattr(stock, "push_job_id", lambda org_id: window(org_id, at=1_000_000.5))  # one window
    org_id, mug_id, wh_id = org.id, mug.id, wh.id  # (read once: the commits expire the objects)
    statements.clear()
    for delta in (2, -1, 3):
        stock.adjust(org_id, mug_id, wh_id, delta, reason="inventaire", user_id=None)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # per change: the guarded update, then at commit the one statement for the buffers; the
        # push job row once for the window (the later commits find it waiting)
        assert [s.split()[0] for s in statements] == ["UPDATE", "WITH", "INSERT", "UPDATE", "WITH", "UPDATE", "WITH"]
        assert "INSERT INTO outbox_job" in statements[2]
    assert stock.level(mug.id, wh.id) == stock.Level(14, 0)
    moves = db.session.execute(select(StockMovement.kind, StockMovement.delta_on_hand, StockMovement.reason)
                               .where(StockMovement.variant_id == mug.id).order_by(StockMovement.id)).all()
    assert [tuple(m) for m in moves] == [("receive", 2, "inventaire"), ("adjust", -1, "inventaire"),
                                         ("receive", 3, "inventaire")]
    assert db.session.scalar(select(func.count()).select_from(StockDirty).where(StockDirty.variant_id == mug.id)) == 1
    assert _pushes() == [f"stock-push-{org.id}-{int(1_000_000.5 // stock.PUSH_WINDOW)}"]


def test_a_push_that_has_started_gets_a_successor_for_later_changes(app, org, monkeypatch):
    wh = warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG", {wh: 10})
    db.session.commit()
    window = stock.push_job_id
    monkeypatch.setattr(stock, "push_job_id", lambda org_id: window(org_id, at=2_000_000.5))
    stock.adjust(org.id, mug.id, wh.id, 1, reason="inventaire", user_id=None)
    db.session.commit()
    [job_id] = _pushes()
    db.session.execute(OutboxJob.__table__.update().values(state="running"))  # the runner took it
    db.session.commit()
    stock.adjust(org.id, mug.id, wh.id, 1, reason="inventaire", user_id=None)
    db.session.commit()
    assert _pushes() == [job_id]  # a new row of the same id, for the change the running push may miss


def test_a_rolled_back_change_leaves_nothing(app, org):
    wh = warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG", {wh: 10})
    db.session.commit()
    stock.adjust(org.id, mug.id, wh.id, 5, reason="inventaire", user_id=None)
    db.session.rollback()
    stock.adjust(org.id, mug.id, wh.id, -1, reason="casse", user_id=None)  # the next transaction
    db.session.commit()
    assert stock.level(mug.id, wh.id) == stock.Level(9, 0)
    assert db.session.scalars(select(StockMovement.delta_on_hand)).all() == [-1]


def test_a_refused_adjustment_says_why(app, org):
    wh = warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG", {wh: QTY_MAX - 1})
    db.session.commit()
    with pytest.raises(stock.StockError, match="au plus"):
        stock.adjust(org.id, mug.id, wh.id, 2, reason="réception", user_id=None)
    stock.adjust(org.id, mug.id, wh.id, -(QTY_MAX - 3), reason="casse", user_id=None)  # 2 left
    db.session.commit()
    assert stock.reserve(org.id, mug.id, wh.id, 2)
    with pytest.raises(stock.StockError, match="déjà réservées"):
        stock.adjust(org.id, mug.id, wh.id, -1, reason="casse", user_id=None)
    other = variant(org.id, "BOL")  # no stock row yet: the adjustment creates it
    stock.adjust(org.id, other.id, wh.id, 4, reason="réception", user_id=None)
    with pytest.raises(stock.StockError, match="négatif"):
        stock.adjust(org.id, variant(org.id, "TASSE").id, wh.id, -1, reason="casse", user_id=None)
    db.session.commit()
    assert stock.level(other.id, wh.id) == stock.Level(4, 0)
    assert stock.level(mug.id, wh.id) == stock.Level(2, 2)
