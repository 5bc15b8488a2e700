"""The work that belongs to a commit is one ordered pipeline on the app's own session
(core.pipeline, listed in core.app): its order is written here, it runs once per commit however
many apps were built, and sessions opened on the side run none of it."""
from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from core import create_app
from core.app import COMMIT_PIPELINE
from core.extensions import db
from core.models import OrderEvent, OutboxJob, Product, Variant
from core.models.base import ID_BLOCK

from .pipeline_helpers import manual_order

CORE = Path(__file__).resolve().parents[1] / "core"


def test_the_order_is_the_one_written_in_the_app_factory():
    assert COMMIT_PIPELINE.describe() == {
        "before_flush": ["core.intake.collect_new_skus", "core.models.base.assign_ids", "core.models.base.insert_direct",
                         "core.analytics.facts.collect_direct_rows"],
        "after_flush": ["core.analytics.facts.collect_changed_orders"],
        "after_flush_postexec": ["core.analytics.facts.queue_late_changes"],
        "before_commit": ["core.intake.queue_resume", "core.stock.write_buffers",
                          "core.analytics.facts.queue_refresh"],
        "after_commit": ["core.jobs.relay_after_commit", "core.jobs.forget_transaction_state"],
        "after_rollback": ["core.jobs.drop_after_rollback", "core.jobs.forget_transaction_state"],
    }


def test_no_module_listens_to_every_session():
    found = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("listens_for", "listen"):
                target = node.args[0] if node.args else None
                if isinstance(target, ast.Name) and target.id == "Session":
                    found.append(f"{path.relative_to(CORE.parent)}:{node.lineno}")
    assert not found, found


def _new_variant(session, org_id: int, sku: str) -> None:
    product = Product(organization_id=org_id, title=sku)
    session.add(product)
    session.flush()
    session.add(Variant(organization_id=org_id, product_id=product.id, sku=sku))


def _resume_jobs() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxJob)
                             .where(OutboxJob.func == "core.intake.resume_unknown_skus"))


def test_each_step_runs_once_per_commit_and_only_on_the_apps_session(app, org, database_url):
    create_app({**app.config, "SQLALCHEMY_DATABASE_URI": database_url})  # a second app: installed once
    _new_variant(db.session, org.id, "NEW-1")
    db.session.commit()
    assert _resume_jobs() == 1  # held orders waiting for NEW-1 resume, once
    with Session(db.engine) as side:  # a session on the side (the relay, the rate buckets)
        _new_variant(side, org.id, "NEW-2")
        side.commit()
    assert _resume_jobs() == 1


def test_a_flush_of_many_new_rows_of_one_table_takes_their_ids_first(app, org):
    """PostgreSQL: the ids come from the sequence in one statement, in the order the rows were
    added, and the rows go as one prepared INSERT with no RETURNING (the driver's pipelined
    executemany); a flush of a few rows is written as before."""
    order = manual_order(org.id)
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        few = [OrderEvent(order_id=order.id, kind="note", message=f"a{n}", source="t") for n in range(ID_BLOCK - 1)]
        db.session.add_all(few)
        db.session.flush()
        few_statements, seen[:] = list(seen), []
        many = [OrderEvent(order_id=order.id, kind="note", message=f"b{n}", source="t") for n in range(3 * ID_BLOCK)]
        db.session.add_all(many)
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    ids = [e.id for e in many]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] > max(e.id for e in few)
    inserts = [s for s in seen if s.startswith("INSERT INTO order_event")]
    if db.engine.dialect.name == "postgresql":
        assert len(inserts) == 1
        assert len([s for s in seen if "nextval" in s]) == 1 and "nextval" in seen[-2]
        assert "RETURNING" not in inserts[0] and inserts[0].count("%(") == 8  # one row's placeholders
        assert not any("nextval" in s for s in few_statements)
    db.session.commit()
    stored = db.session.scalars(select(OrderEvent.message).where(OrderEvent.order_id == order.id)
                                .order_by(OrderEvent.id)).all()
    assert stored == [f"a{n}" for n in range(ID_BLOCK - 1)] + [f"b{n}" for n in range(3 * ID_BLOCK)]
