"""What every model shares: UTC datetimes, enums stored as their values, texts shown in the
reader's language."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from typing import Any

from sqlalchemy import DateTime, Enum, Integer, Text, inspect, text
from sqlalchemy.orm import Session

from .. import i18n
from ..extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def append(parent: Any, collection: str, child: Any) -> None:
    """``parent.<collection>.append(child)`` without reading a collection that is not loaded
    yet (an order's whole history to add one event to it): the child is linked from its own
    side and added to the parent's session; the collection, when it is read, has it."""
    state = inspect(parent)
    if state.key is None or state.session is None or collection in state.dict:
        getattr(parent, collection).append(child)
        return
    setattr(child, state.mapper.relationships[collection].back_populates, parent)
    state.session.add(child)


#: a flush writing at least this many new rows of one table takes their ids first
ID_BLOCK = 8

_SEQUENCES: dict[str, str] = {}
#: mapper → its table when its key is one integer ``id`` (False otherwise)
_ID_TABLES: dict[Any, Any] = {}


def next_ids(session: Session, table: Any, count: int) -> list[int]:
    """``count`` new ids of ``table`` (PostgreSQL: its id column's sequence), increasing, in
    one statement; none when the column has no sequence."""
    name = table.name
    seq = _SEQUENCES.get(name)
    conn = session.connection()
    if seq is None:
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name}).scalar_one() or ""
        _SEQUENCES[name] = seq
    if not seq:  # an id the database does not number: left to whoever sets it
        return []
    return sorted(conn.execute(text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                               {"s": seq, "n": count}).scalars())


def assign_ids(session: Session, _ctx: Any, _instances: Any) -> None:
    """Commit pipeline, before each flush (PostgreSQL): the new rows of one table that a flush
    writes together (a page of orders' lines and history) take their ids from the table's
    sequence first, in one statement, in the order they were added. With its ids known, the
    flush sends one short prepared ``INSERT`` for every row in a single pipelined round trip
    (psycopg's ``executemany``), where it would otherwise build a multi-row ``INSERT …
    RETURNING`` thousands of placeholders long that the driver parses anew each time: a
    third of the intake's time went there."""
    if len(session.new) < ID_BLOCK or session.get_bind().dialect.name != "postgresql":
        return
    groups: dict[Any, list[Any]] = {}
    for obj in session.new:
        state = inspect(obj)
        if state.dict.get("id") is not None:
            continue
        mapper = state.mapper
        table = _ID_TABLES.get(mapper)
        if table is None:
            pk = mapper.primary_key
            simple = (len(pk) == 1 and pk[0].name == "id" and isinstance(pk[0].type, Integer)
                      and mapper.local_table is pk[0].table and mapper.inherits is None)
            table = _ID_TABLES[mapper] = mapper.local_table if simple else False
        if table is not False:
            groups.setdefault(table, []).append(state)
    for table, states in groups.items():
        if len(states) < ID_BLOCK:
            continue
        states.sort(key=lambda st: st.insert_order)
        for state, new_id in zip(states, next_ids(session, table, len(states))):
            state.obj().id = new_id


class UTCDateTime(db.TypeDecorator):  # type: ignore[name-defined]
    """Timezone-aware UTC datetimes on every database (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use an aware UTC datetime")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class TranslatableText(db.TypeDecorator):  # type: ignore[name-defined]
    """A text column that keeps a :class:`core.i18n.Deferred` message as its msgid and
    parameters (JSON), so it reads back in the reader's language; a plain text (older rows,
    what a remote or a person wrote) is stored and read as it is."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return i18n.dump(value)

    def process_result_value(self, value, dialect):
        return i18n.load(value)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value
