"""The kit's poller: overlap, pages committed one by one, the cursor moved at the end (or after
each committed page of a fetch sorted by change time)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.connectors.poller import Cursor, Poller

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


class Remote:
    def __init__(self, items: list[tuple[str, datetime]], page_size: int = 2, fail_on_page: int | None = None):
        self.items, self.page_size, self.fail_on_page = items, page_size, fail_on_page
        self.asked: list[datetime | None] = []

    def pages(self, since):
        self.asked.append(since)
        chosen = [i for i in self.items if since is None or i[1] >= since]
        for n in range(0, len(chosen), self.page_size):
            if self.fail_on_page == n // self.page_size:
                raise ConnectionError("remote down")
            yield chosen[n:n + self.page_size]


def test_pages_are_committed_one_by_one_and_the_cursor_moves_last():
    store: dict = {"cursor": T0 - timedelta(hours=1)}
    log: list[str] = []
    committed: list[str] = []
    remote = Remote([("a", T0 - timedelta(minutes=62)), ("b", T0 - timedelta(minutes=58)),
                     ("c", T0 - timedelta(minutes=30)), ("d", T0 - timedelta(minutes=10))])
    poller = Poller(cursor=Cursor(lambda: store["cursor"], lambda when: (log.append("cursor"),
                                                                         store.update(cursor=when))),
                    fetch=remote.pages, handle=lambda page: log.extend(i[0] for i in page),
                    commit=lambda: (log.append("commit"), committed.append(",".join(log))),
                    overlap=timedelta(minutes=5), now=lambda: T0)
    result = poller.run()
    assert remote.asked == [T0 - timedelta(minutes=65)]  # the overlap
    assert log == ["a", "b", "commit", "c", "d", "commit", "cursor", "commit"]
    assert store["cursor"] == T0 and (result.pages, result.items) == (2, 4)


def test_a_failure_mid_way_keeps_the_committed_pages_and_the_old_cursor():
    store: dict = {"cursor": None}
    done: list[str] = []
    remote = Remote([(x, T0) for x in "abcd"], fail_on_page=1)
    poller = Poller(cursor=Cursor(lambda: store["cursor"], lambda when: store.update(cursor=when)),
                    fetch=remote.pages, handle=lambda page: done.extend(i[0] for i in page), commit=lambda: None,
                    now=lambda: T0)
    with pytest.raises(ConnectionError):
        poller.run()
    assert done == ["a", "b"] and store["cursor"] is None and remote.asked == [None]
    remote.fail_on_page = None
    poller.now = lambda: T0 + timedelta(minutes=10)
    poller.run()  # starts over from the same point; the upsert makes the repeat harmless
    assert remote.asked == [None, None] and store["cursor"] == T0 + timedelta(minutes=10)


def test_a_fetch_sorted_by_change_time_moves_the_cursor_after_each_committed_page():
    store: dict = {"cursor": None}
    saved: list[datetime] = []
    stamps = [T0 - timedelta(minutes=m) for m in (50, 40, 30, 20)]
    remote = Remote(list(zip("abcd", stamps)), fail_on_page=1)
    poller = Poller(cursor=Cursor(lambda: store["cursor"], lambda when: (saved.append(when),
                                                                         store.update(cursor=when))),
                    fetch=remote.pages, handle=lambda page: None, commit=lambda: None,
                    overlap=timedelta(minutes=5), now=lambda: T0, reached=lambda page: page[-1][1])
    with pytest.raises(ConnectionError):
        poller.run()
    assert store["cursor"] == stamps[1]  # the first page's last change, committed
    remote.fail_on_page = None
    result = poller.run()  # resumes there (less the overlap), not from the start
    assert remote.asked == [None, stamps[1] - timedelta(minutes=5)]
    assert result.items == 3 and saved == [stamps[1], stamps[2], stamps[3], T0]


def test_a_page_reaching_past_the_run_start_moves_the_cursor_to_the_start_only():
    store: dict = {"cursor": T0 - timedelta(hours=1)}
    remote = Remote([("a", T0 - timedelta(minutes=1)), ("b", T0 + timedelta(minutes=3))])
    poller = Poller(cursor=Cursor(lambda: store["cursor"], lambda when: store.update(cursor=when)),
                    fetch=remote.pages, handle=lambda page: None, commit=lambda: None,
                    now=lambda: T0, reached=lambda page: page[-1][1])
    poller.run()
    assert store["cursor"] == T0


def test_a_run_asked_to_stop_ends_after_a_committed_page_and_the_next_goes_on_from_there():
    """A job near its time limit (``stop_when``) stops after the page it committed, says there
    is more, and the next run reads on from that page instead of from the start."""
    store: dict = {"cursor": None}
    stamps = [T0 - timedelta(minutes=m) for m in (50, 40, 30, 20)]
    remote = Remote(list(zip("abcd", stamps)))
    handled: list[list] = []
    calls = {"n": 0}

    def near_the_limit() -> bool:
        calls["n"] += 1
        return calls["n"] == 1  # only during the first page of the first run

    poller = Poller(cursor=Cursor(lambda: store["cursor"], lambda when: store.update(cursor=when)),
                    fetch=remote.pages, handle=handled.append, commit=lambda: None,
                    overlap=timedelta(minutes=5), now=lambda: T0, reached=lambda page: page[-1][1],
                    stop_when=near_the_limit)
    first = poller.run()
    assert first.more and first.pages == 1
    assert store["cursor"] == stamps[1] + timedelta(minutes=5)  # so that the next run starts at stamps[1]
    second = poller.run()
    assert not second.more and remote.asked == [None, stamps[1]]
    # the page's last change is read again ("b": the upsert makes it harmless), nothing before it
    assert store["cursor"] == T0 and [x for page in handled for x, _s in page] == ["a", "b", "b", "c", "d"]


def test_a_backlog_whose_overlap_holds_more_than_a_run_still_ends():
    """Every item changed within the overlap (a bulk edit): each resumed run reads on from the
    last page it committed, not from the overlap again, so the runs end; the cursor never
    moves back while the overlap's items are read again."""
    store: dict = {"cursor": None}
    saved: list[datetime] = []
    stamps = [T0 - timedelta(seconds=90 - n) for n in range(12)]  # 12 items within 90 s
    remote = Remote(list(zip("abcdefghijkl", stamps)), page_size=2)
    handled: list[str] = []
    pages_this_run = {"n": 0}

    def after_two_pages() -> bool:  # each run may read only two pages
        pages_this_run["n"] += 1
        return pages_this_run["n"] % 2 == 0

    poller = Poller(cursor=Cursor(lambda: store["cursor"], lambda when: (saved.append(when),
                                                                         store.update(cursor=when))),
                    fetch=remote.pages, handle=lambda page: handled.extend(x for x, _s in page),
                    commit=lambda: None, overlap=timedelta(minutes=5), now=lambda: T0,
                    reached=lambda page: page[-1][1], stop_when=after_two_pages)
    runs = 0
    while True:
        runs += 1
        assert runs < 10, "the backlog never ends"
        if not poller.run().more:
            break
    assert handled[:4] == list("abcd") and set(handled) == set("abcdefghijkl")
    assert remote.asked[1] == stamps[3] and store["cursor"] == T0
    stored = [w for w in saved if w != T0]
    assert all(a <= b for a, b in zip(stored, stored[1:]))  # forward only
