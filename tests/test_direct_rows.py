"""Children linked to a row already written (an order's history, its new lines) through
``core.models.base.append`` are written by ``insert_direct`` in one statement per table at the
next flush, and behave as the unit of work would have left them: persistent, visible from
both sides, undone with a rolled back savepoint, never written twice."""
from __future__ import annotations

from sqlalchemy import delete, event, func, inspect, select

from core import orders as order_flow
from core.extensions import db
from core.models import AnalyticsDirty, Order, OrderEvent, OrderLine, Product, Variant
from core.models.base import append

from .pipeline_helpers import manual_order


def _order(org) -> Order:
    order = manual_order(org.id)
    db.session.commit()
    return order


def _stored(order_id: int) -> list[str]:
    return list(db.session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id)))


def _inserts(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if s.startswith(f"INSERT INTO {table}")]


class _Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __enter__(self) -> list[str]:
        event.listen(db.engine, "before_cursor_execute", self._note)
        return self.seen

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._note)

    def _note(self, _conn, _cursor, statement, *_args) -> None:
        self.seen.append(" ".join(statement.split()))


def test_a_history_not_loaded_is_written_in_one_statement_and_read_back_as_the_same_objects(app, org):
    order = _order(org)
    with _Statements() as seen:
        events = [order_flow.record(order, f"k{n}", f"note {n}", source="test") for n in range(12)]
        assert "events" not in inspect(order).dict  # the history was not read to add to it
        db.session.flush()
    if db.engine.dialect.name == "postgresql":  # SQLite returns ids in order one row at a time
        assert len(_inserts(seen, "order_event")) == 1
    assert all(inspect(e).persistent and e.id and e.order_id == order.id for e in events)
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert order.events == events  # loaded now: the same objects, in order
    assert all(e.order is order for e in events)
    db.session.commit()
    assert _stored(order.id) == [f"k{n}" for n in range(12)]


def test_a_loaded_history_shows_a_new_entry_at_once_and_keeps_it_once(app, org):
    order = _order(org)
    assert order.events == []
    first = order_flow.record(order, "first", "un", source="test")
    assert order.events == [first]  # before any flush: what the channel hooks read
    assert order_flow.decide(order, True, "stock") is True
    assert order_flow.decide(order, True, "stock") is False  # the decision is seen in memory
    db.session.add(order)  # a cascade from the parent does not add them twice
    db.session.commit()
    assert _stored(order.id) == ["first", "decision"]
    assert [e.kind for e in db.session.get(Order, order.id).events] == ["first", "decision"]


def test_a_savepoint_rolled_back_takes_its_entries_with_it(app, org):
    order = _order(org)
    kept = order_flow.record(order, "kept", "gardé", source="test")
    nested = db.session.begin_nested()
    dropped = [order_flow.record(order, "dropped", f"n{n}", source="test") for n in range(10)]
    db.session.flush()
    assert all(inspect(e).persistent for e in dropped)
    nested.rollback()
    assert not any(inspect(e).persistent for e in dropped)
    db.session.commit()
    assert _stored(order.id) == ["kept"]
    assert kept.id is not None


def test_a_line_whose_variant_is_set_the_orm_way_is_left_to_the_flush(app, org):
    """``variant=`` in the constructor is a change the unit of work syncs (variant_id): such a
    child is not written directly, and is still written, once, with its key."""
    order = _order(org)
    product = Product(organization_id=org.id, title="Lampe")
    db.session.add(product)
    db.session.flush()
    variant = Variant(organization_id=org.id, product_id=product.id, sku="LAMP-1")
    db.session.add(variant)
    db.session.flush()
    plain = OrderLine(sku="LAMP-1", quantity=1, variant_id=variant.id)
    linked = OrderLine(sku="LAMP-1", quantity=2, variant=variant)
    with _Statements() as seen:
        append(order, "lines", plain)
        append(order, "lines", linked)
        db.session.flush()
    assert len(_inserts(seen, "order_line")) == 2  # one direct, one by the unit of work
    assert inspect(plain).persistent and inspect(linked).persistent
    db.session.commit()
    rows = db.session.execute(select(OrderLine.quantity, OrderLine.variant_id, OrderLine.order_id)
                              .order_by(OrderLine.id)).all()
    assert rows == [(1, variant.id, order.id), (2, variant.id, order.id)]


def test_an_order_not_yet_written_links_its_history_the_orm_way(app, org):
    first = manual_order(org.id)
    order = Order(organization_id=org.id, shop_id=first.shop_id, external_id="E-2", number="2", currency="EUR")
    db.session.add(order)
    entry = order_flow.record(order, "created", "créée", source="test")
    assert order.events == [entry]
    db.session.commit()
    assert _stored(order.id) == ["created"]
    assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == 1


def test_a_line_written_directly_marks_its_order_for_the_analytics_refresh(app, org):
    order = _order(org)
    db.session.execute(delete(AnalyticsDirty))
    db.session.commit()
    append(order, "lines", OrderLine(sku="MUG-1", quantity=3))  # nothing else changes in this flush
    db.session.commit()
    assert db.session.scalars(select(AnalyticsDirty.order_id)).all() == [order.id]
