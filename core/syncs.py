"""Shops' periodic channel syncs: which job a shop's sync is, which shops are due, and the
progress of long imports.

The schedule lives in the database (``Shop.next_sync_at``), so a restarted scheduler or
embedded runner neither repeats nor skips a sync.

A long import (a first catalogue, an order backlog) tells its progress through
:class:`Progress`: items done out of the total and the items refused, written on the running
job's sync-log entry in a transaction of its own, so a page polling :func:`progress_view`
sees it while the job runs.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .addons import registry
from .extensions import db
from .jobs import enqueue, running_entry
from .models import SYNC_INTERVALS, ConnectionStatus, OutboxJob, Shop, SyncLog, SyncMode, SyncStatus, utcnow

#: a shop in error is synced this many times less often than its mode says
ERROR_SYNC_BACKOFF = 4


def sync_job_id(shop: Shop) -> str:
    return f"{shop.addon}-sync-{shop.id}"


def enqueue_shop_sync(shop: Shop) -> OutboxJob | None:
    """Queue the shop's channel sync (never twice at once: unique job id per shop)."""
    func = registry().call_one(shop.addon, "channel_sync_job", shop=shop)
    if not func:
        return None
    return enqueue(func, shop.id, job_id=sync_job_id(shop), unique=True, shop_id=shop.id)


def schedule_due_syncs(now: datetime | None = None) -> int:
    """Queue every shop whose periodic sync is due and move its ``next_sync_at`` on.

    The schedule lives in the database, so a restarted scheduler neither repeats nor skips a
    sync; with several schedulers, the row lock (PostgreSQL) lets one take each shop. A failed
    sync never ends the chain: the shop stays scheduled until the merchant sets it to manual
    or disconnects it (in error, every ``ERROR_SYNC_BACKOFF`` intervals).
    """
    now = now or utcnow()
    stmt = (select(Shop).where(Shop.sync_mode != SyncMode.MANUAL,
                               Shop.status.in_([ConnectionStatus.CONNECTED, ConnectionStatus.ERROR]),
                               (Shop.next_sync_at.is_(None)) | (Shop.next_sync_at <= now)))
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    count = 0
    for shop in db.session.scalars(stmt).all():
        if enqueue_shop_sync(shop) is not None:
            count += 1
        # a shop in error keeps being tried (the remote may be back), less often
        slower = ERROR_SYNC_BACKOFF if shop.status == ConnectionStatus.ERROR else 1
        shop.next_sync_at = now + timedelta(seconds=SYNC_INTERVALS[shop.sync_mode] * slower)
    return count


# ----------------------------------------------------------------------------- progress of long imports
#: what an import counts (``Progress.unit``), and the import's title
UNIT_TITLES = {"products": _l("Import des produits"), "orders": _l("Import des commandes"),
               "listings": _l("Import des annonces")}
UNITS = tuple(UNIT_TITLES)
#: the refused items kept on an entry (the first ones: a merchant fixes a few, then imports again)
MAX_ERRORS = 200


@dataclass(frozen=True)
class ItemError:
    """One refused item: its reference (SKU, order number…) and why, in the merchant's words.

    A message given as ``lazy_gettext(…)`` is kept as its source text (the catalogue's
    msgid) and shown translated into the reader's language."""

    ref: str
    message: str

    @classmethod
    def of(cls, ref: Any, message: Any) -> ItemError:
        if isinstance(message, LazyString) and message._args:  # noqa: SLF001 - its msgid
            message = message._args[0]  # noqa: SLF001
        return cls(str(ref), str(message))


class Progress:
    """The progress of the import the running job makes (``Progress.for_job("products")``).

    ``start(total)`` once the total is known (or estimated), ``advance(n, errors)`` after each
    committed batch, ``finish()`` when an estimated total turns out different. Each call
    writes the entry in a transaction of its own: call it between the job's commits, never
    with the job's own changes pending. Outside a job it records nothing."""

    def __init__(self, entry_id: int | None, unit: str) -> None:
        if unit not in UNITS:
            raise ValueError(f"unknown progress unit {unit!r} (one of {', '.join(UNITS)})")
        self.entry_id = entry_id
        self.unit = unit
        self.done = 0
        self.total: int | None = None
        self.errors: list[ItemError] = []

    @classmethod
    def for_job(cls, unit: str) -> Progress:
        return cls(running_entry(), unit)

    def start(self, total: int | None, done: int = 0) -> None:
        """The total (None: unknown yet); ``done``: what a resumed import had done before."""
        self.done, self.total, self.errors = done, total, []
        self._write()

    def finish(self) -> None:
        """Everything is read: the total is what was done (an estimate becomes exact)."""
        self.total = self.done
        self._write()

    def advance(self, done: int = 1, errors: Iterable[ItemError | tuple[Any, Any]] = ()) -> None:
        self.done += done
        for error in errors:
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(error if isinstance(error, ItemError) else ItemError.of(*error))
        if self.total is not None and self.done > self.total:
            self.total = self.done  # items added while importing
        self._write()

    def _write(self) -> None:
        if self.entry_id is None:
            return
        with Session(db.engine) as session:
            session.execute(update(SyncLog).where(SyncLog.id == self.entry_id).values(
                progress_done=self.done, progress_total=self.total, progress_unit=self.unit,
                progress_errors=[{"ref": e.ref, "message": e.message} for e in self.errors]))
            session.commit()


def latest_progress(shop_id: int, unit: str | None = None) -> SyncLog | None:
    """The shop's latest import that told its progress (of ``unit``, or of any)."""
    stmt = select(SyncLog).where(SyncLog.shop_id == shop_id, SyncLog.progress_unit.is_not(None))
    if unit is not None:
        stmt = stmt.where(SyncLog.progress_unit == unit)
    return db.session.scalar(stmt.order_by(SyncLog.started_at.desc(), SyncLog.id.desc()).limit(1))


def _counted(unit: str, done: int, total: int | None) -> str:
    if unit == "orders":
        return (ngettext("%(done)d / %(num)d commande importée", "%(done)d / %(num)d commandes importées",
                         total, done=done) if total is not None
                else ngettext("%(num)d commande importée", "%(num)d commandes importées", done))
    if unit == "listings":
        return (ngettext("%(done)d / %(num)d annonce importée", "%(done)d / %(num)d annonces importées",
                         total, done=done) if total is not None
                else ngettext("%(num)d annonce importée", "%(num)d annonces importées", done))
    return (ngettext("%(done)d / %(num)d produit importé", "%(done)d / %(num)d produits importés",
                     total, done=done) if total is not None
            else ngettext("%(num)d produit importé", "%(num)d produits importés", done))


def progress_view(entry: SyncLog | None) -> dict[str, Any] | None:
    """What the progress partial and its JSON endpoint show of an entry, in words."""
    if entry is None or entry.progress_unit is None:
        return None
    done, total = entry.progress_done or 0, entry.progress_total
    running = entry.status in (SyncStatus.QUEUED, SyncStatus.RUNNING)
    errors = list(entry.progress_errors or [])
    if running:
        state = _("En cours")
    elif entry.status == SyncStatus.OK:
        state = _("Terminé") if not errors else ngettext("Terminé, %(num)d refus", "Terminé, %(num)d refus",
                                                          len(errors))
    else:
        state = _("Interrompu : la suite reprendra au prochain essai")
    return {"id": entry.id, "unit": entry.progress_unit, "title": str(UNIT_TITLES[entry.progress_unit]), "done": done, "total": total,
            "percent": min(100, round(100 * done / total)) if total else (None if running else 100),
            "running": running, "ok": entry.status == SyncStatus.OK, "state": state,
            "text": _counted(entry.progress_unit, done, total),
            "errors": [{"ref": str(e.get("ref") or ""), "message": _(str(e.get("message") or ""))} for e in errors]}
