"""Polling a remote for what changed: a cursor per shop and resource, an overlap window, the
pages followed, the cursor moved only after the pages' data is committed.

The rules every channel's periodic sync follows (Shopify's orders, Amazon's windows):

1. the run's start time is read *before* the first request: anything changed while the run
   pages through is caught by the next run;
2. the request asks for changes since ``cursor - overlap`` (the remote's clocks, indexes and
   replicas lag a little: an item stamped just before the cursor may appear late), so a few
   items are seen twice and the add-on's upsert must be idempotent;
3. each page is handled and committed on its own (a failure later keeps what is done);
4. the cursor moves to the run's start only after the last page is committed; a run that
   fails leaves it where it was, and the next run starts over from the same point;
5. a fetch sorted by change time, oldest first, may say how far each page reached
   (``reached(page)``: its last item's change time): the cursor then moves there as soon as
   the page is committed, so a run cut short (a failure, a job's time limit on a large
   backlog) resumes after the pages it stored instead of reading them all again;
6. with ``reached``, ``stop_when()`` is asked after each page is committed (a job near its
   time limit: :func:`core.jobs.out_of_time`): true, the run stops there with
   ``PollResult.more`` set, for the next run to go on from that page's last change exactly.
   The overlap is for the end of a run, where the remote may still be catching up; the
   pages already read need none, and re-reading it at every resume would never end a
   backlog whose overlap alone holds more than one run can read (orders all changed within
   minutes, by a bulk edit or a flash sale);
7. the cursor never moves back: a page reaching less far than the cursor (the overlap's
   items read again) leaves it where it is.

The cursor's storage is the caller's (``Shop.sync_cursor``, an add-on's state row): a
:class:`Cursor` is two functions, so the helper stays free of any model.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True)
class Cursor:
    """Where one shop's resource was last read up to: ``load()`` (None before the first run)
    and ``save(when)``."""

    load: Callable[[], datetime | None]
    save: Callable[[datetime], None]


@dataclass
class PollResult:
    since: datetime | None
    until: datetime
    pages: int = 0
    items: int = 0
    more: bool = False  # stopped early (``stop_when``): the next run goes on from the cursor


@dataclass
class Poller(Generic[Item]):
    """One resource's poll: ``fetch(since)`` yields pages (lists) of items changed since
    ``since`` (None: the first run, the add-on chooses how far back), ``handle(page)`` stores
    one page, ``commit()`` commits the caller's transaction."""

    cursor: Cursor
    fetch: Callable[[datetime | None], Iterable[list[Item]]]
    handle: Callable[[list[Item]], None]
    commit: Callable[[], None]
    overlap: timedelta = timedelta(minutes=5)
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    reached: Callable[[list[Item]], datetime | None] | None = None
    stop_when: Callable[[], bool] | None = None

    def run(self) -> PollResult:
        started = self.now()
        last = self.cursor.load()
        since = last - self.overlap if last is not None else None
        result = PollResult(since=since, until=started)
        furthest = since  # everything changed up to here is read and committed
        for page in self.fetch(since):
            self.handle(page)
            self.commit()
            result.pages += 1
            result.items += len(page)
            stamp = self.reached(page) if self.reached is not None and page else None
            if stamp is not None:
                stamp = min(stamp, started)
                furthest = stamp if furthest is None else max(furthest, stamp)
                if last is None or stamp > last:
                    self.cursor.save(stamp)
                    self.commit()
                    last = stamp
                if self.stop_when is not None and self.stop_when():
                    # stored so that the next run's ``cursor - overlap`` is exactly this point
                    # (never before the cursor: ``since`` is already ``last - overlap``)
                    self.cursor.save(furthest + self.overlap)
                    self.commit()
                    result.more = True
                    return result
        self.cursor.save(started)
        self.commit()
        return result
