"""What every model shares: UTC datetimes, enums stored as their values, texts shown in the
reader's language."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from typing import Any

from sqlalchemy import DateTime, Enum, Text, inspect

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
