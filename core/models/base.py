"""What every model shares: UTC datetimes, enums stored as their values, texts shown in the
reader's language."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone

from typing import Any

from sqlalchemy import DateTime, Enum, Integer, Text, inspect, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.collections import collection_adapter

from .. import i18n
from ..extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


#: session.info: the children :func:`append` linked to a row already written, for
#: :func:`insert_direct`
_DIRECT = "oms_tx_direct_rows"
#: session.info: the objects :func:`insert_direct` wrote in the flush under way (the steps
#: after it that look for new rows — analytics — read them here: they never reach the flush)
DIRECT_WRITTEN = "oms_tx_direct_written"


def append(parent: Any, collection: str, child: Any) -> None:
    """``parent.<collection>.append(child)`` for a parent already written (an order's
    history, its lines), without the ORM's bookkeeping: the child's foreign key is set from
    the parent's identity, both sides see each other in memory (a collection that is not
    loaded is not read), and the child is added to the session, pending. The next flush
    writes such children of every parent in one statement per table (:func:`insert_direct`),
    where the unit of work would walk each one's relationships; a child whose other links
    changed since is left to the unit of work, which writes it as usual.

    A parent not yet written is linked the ORM's way (its id is not known)."""
    state = inspect(parent)
    session = state.session
    if state.key is None or session is None:
        getattr(parent, collection).append(child)
        return
    link = _LINKS.get((state.mapper, collection)) or _link(state.mapper, collection)
    for key, pk_index, parent_key in link.keys:
        setattr(child, key, state.key[1][pk_index] if pk_index is not None else getattr(parent, parent_key))
    child_state = inspect(child)
    set_committed_value(child, link.back, parent)
    # the parent's side: it counts as the child's parent (no delete-orphan surprise at flush)
    # and, when loaded, its collection shows the child
    link.impl.sethasparent(child_state, state, True)
    if collection in state.dict:
        collection_adapter(state.dict[collection]).append_without_event(child)
    d = child_state.dict
    if not all(_known(session, d[key]) for key in link.others if key in d):
        session.add(child)  # a link to an object the session has not seen: it cascades there
    else:  # it links only to objects the session has: nothing to cascade to
        # (``Session.add`` less its cascade walk)
        child_state._orphaned_outside_of_session = False
        session._save_or_update_impl(child_state)
    session.info.setdefault(_DIRECT, []).append(child)


def _known(session: Session, linked: Any) -> bool:
    """Nothing a cascade from here would add: no object, or one the session has."""
    if linked is None:
        return True
    if isinstance(linked, (list, set)):  # a collection: its members may be new
        return not linked
    return session._contains_state(inspect(linked))


def build(cls: type, **values: Any) -> Any:
    """A new ``cls`` holding ``values``, made without the constructor's change events (the
    flush reads the values themselves): for a row written at its first flush (an order's
    history entry, a new line). Columns not given take their defaults there; a relationship
    given is what the object links to, as loaded (the key column must be given too)."""
    obj = cls._sa_class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


@dataclass(frozen=True)
class _Link:
    #: (child's key attribute, index in the parent's identity or None, parent's attribute)
    keys: tuple[tuple[str, int | None, str], ...]
    back: str
    impl: Any
    others: tuple[str, ...]  # the child's other relationships


_LINKS: dict[tuple[Any, str], _Link] = {}


def _link(mapper: Any, collection: str) -> _Link:
    rel = mapper.relationships[collection]
    pk = list(mapper.primary_key)
    keys = tuple((rel.mapper.get_property_by_column(remote).key, pk.index(local) if local in pk else None,
                  mapper.get_property_by_column(local).key) for local, remote in rel.local_remote_pairs)
    others = tuple(r.key for r in rel.mapper.relationships if r.key != rel.back_populates)
    link = _LINKS[(mapper, collection)] = _Link(keys, rel.back_populates, mapper.class_manager[collection].impl,
                                                others)
    return link


def insert_direct(session: Session, _ctx: Any, _instances: Any) -> None:
    """Commit pipeline, before each flush, after :func:`assign_ids`: the children
    :func:`append` linked to rows already written go in one ``INSERT`` per table (a page of
    orders' history and lines), then join the session as persistent objects, as a flush
    would have left them. What the unit of work must still do for a child — a link to
    another object changed since, or to one not yet written — leaves it to the flush."""
    children = session.info.pop(_DIRECT, None)
    if not children:
        return
    groups: dict[Any, list[Any]] = {}
    for child in children:
        state = inspect(child)
        if not state.pending or state.session_id != session.hash_key:
            continue  # written already, or expunged (a rolled back savepoint)
        mapper = state.mapper
        if any(rel.key in state.committed_state for rel in mapper.relationships):
            continue  # a link set the ORM's way: the flush syncs its key
        groups.setdefault(mapper, []).append(state)
    for mapper, states in groups.items():
        _insert_states(session, mapper, states)


#: mapper → ((attribute key, column), ...) of its own table
_COLUMNS: dict[Any, tuple[tuple[str, Any], ...]] = {}


def _insert_states(session: Session, mapper: Any, states: list[Any]) -> None:
    columns = _COLUMNS.get(mapper)
    if columns is None:
        columns = _COLUMNS[mapper] = tuple((prop.key, prop.columns[0]) for prop in mapper.column_attrs
                                           if prop.columns[0].table is mapper.local_table)
    table = mapper.local_table
    (pk,) = mapper.primary_key
    pk_key = mapper.get_property_by_column(pk).key
    numbered: dict[frozenset, list[tuple[Any, dict]]] = {}
    for state in states:
        d = state.dict
        row = {}
        for key, col in columns:
            if key in d:
                row[col.key] = d[key]
            elif col.default is not None and not col.default.is_sequence and not col.primary_key:
                default = col.default
                d[key] = row[col.key] = default.arg(None) if default.is_callable else default.arg
        if row.get(pk.key) is None:
            row.pop(pk.key, None)
        numbered.setdefault(frozenset(row), []).append((state, row))
    for keys, pairs in numbered.items():
        rows = [row for _state, row in pairs]
        if pk.key in keys:
            session.execute(table.insert(), rows)
        else:  # ids the database gives (fewer rows than an id block, or SQLite)
            ids = session.execute(table.insert().returning(pk, sort_by_parameter_order=True), rows).scalars()
            for (state, _row), new_id in zip(pairs, ids):
                state.dict[pk_key] = new_id
    # pending → persistent, as the flush itself leaves a row it inserted: identity, committed
    # attributes, and the transaction's note of it (a rolled back savepoint expunges it)
    session._register_persistent(set(states))
    session.info.setdefault(DIRECT_WRITTEN, []).extend(state.obj() for state in states)
    unset = [key for key, col in columns if col.server_default is not None]
    if unset:  # what the database filled in is read when asked for
        for state in states:
            missing = [key for key in unset if key not in state.dict]
            if missing:
                session.expire(state.obj(), missing)


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
