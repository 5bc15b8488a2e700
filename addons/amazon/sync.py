"""Orders Amazon → OMS on the Orders API v2026-01-01.

Each run reads one window of last-updated times, ``[cursor − overlap, now − 2 min]``, and
moves ``Shop.sync_cursor`` to the window's end only once every order of it is committed.
The reading itself is saved after each page (``AmazonSyncState``), so a run stopped by a
rate limit, an error or a restart goes on where it stopped; re-reading an order is harmless
(core deduplicates on the Amazon order id and ignores stale updates).

The first window of a shop can hold a large backlog. Its first ``searchOrders`` page tells
how dense the window is; from it the run estimates how long each legal path would take at
the documented rates and takes the faster one:

* paging ``searchOrders`` (0.0056 request/s, burst 20, 100 orders a page);
* an orders report (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``: createReport,
  getReport, getReportDocument), then ``getOrder`` (0.5/s, burst 30) only for the open
  merchant-fulfilled orders, whose address and order-item ids the report lacks.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.models import Shop, utcnow
from core.syncs import Progress

from .client import AmazonError, SellingPartnerClient
from .clock import as_datetime, iso, parse_iso
from .importing import ingest_orders
from .mapping import OPEN_STATUSES, from_order, from_report_rows, parse_tsv
from .models import AmazonOrder, AmazonSyncState
from .operations import OPERATIONS
from .runtime import marketplaces
from core.i18n import _

#: an order updated just before the previous window's end may show up late: read it again
OVERLAP = timedelta(minutes=5)
#: searchOrders refuses a window ending less than 2 minutes ago
MIN_LAG = timedelta(minutes=2)
PAGE_SIZE = 100
DEFAULT_IMPORT_DAYS = 30
INCLUDED_DATA = ["BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT", "PACKAGES"]
ORDERS_REPORT = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
#: time Amazon takes to produce a report or process a feed. Not documented; a cautious
#: figure used only to compare paths, never to wait.
REPORT_PROCESSING_ESTIMATE = 15 * 60.0
#: seconds between two getReport calls while a report is being produced
REPORT_POLL = 30.0
#: orders of a report ingested (and committed) together; orders detailed by getOrder per commit
REPORT_PAGE = 200
DETAILS_PAGE = 20
#: an order of the report that Amazon no longer gives (shown in the merchant's language)
ORDER_GONE = _l("Commande introuvable chez Amazon (annulée ou archivée depuis le rapport) : elle n'est pas "
                "importée.")


class ResumeLater(Exception):
    """Work remains but must wait ``wait`` seconds (a report being produced, a quota)."""

    def __init__(self, wait: float, reason: str) -> None:
        super().__init__(reason)
        self.wait = wait


@dataclass
class SyncResult:
    pages: int = 0
    created: int = 0
    updated: int = 0
    path: str = "search"
    decision: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return (_("%(created)s commande(s) créée(s), %(updated)s mise(s) à jour (%(value)s, %(pages)s page(s))",
                  created=self.created, updated=self.updated, value='rapport de commandes' if self.path == 'report' else 'searchOrders', pages=self.pages))


def _state(shop: Shop) -> AmazonSyncState:
    stmt = select(AmazonSyncState).where(AmazonSyncState.shop_id == shop.id)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    state = db.session.scalar(stmt)
    if state is None:
        state = AmazonSyncState(shop_id=shop.id, reports={}, details_pending=[], decision={})
        db.session.add(state)
        db.session.flush()
    return state


#: a run that ends further behind than this reads the next window at once (catching up
#: after a long first import)
CATCH_UP = timedelta(minutes=5)


def run(shop: Shop, client: SellingPartnerClient, *, import_days: int | None = None) -> SyncResult:
    """Import what changed since the cursor; resumes an interrupted window first, and reads
    the following window at once when the first one took long."""
    result = SyncResult()
    for _round in range(4):
        _window(shop, client, result, import_days)
        behind = as_datetime(client.clock.time()) - MIN_LAG - parse_iso(shop.sync_cursor or iso(0))
        if behind <= CATCH_UP:
            break
    return result


def _window(shop: Shop, client: SellingPartnerClient, result: SyncResult, import_days: int | None) -> None:
    state = _state(shop)
    if state.path is None:
        now = as_datetime(client.clock.time())
        if shop.sync_cursor:
            after = parse_iso(shop.sync_cursor) - OVERLAP
        else:
            days = import_days or int(shop.addon_settings("amazon").get("import_days") or DEFAULT_IMPORT_DAYS)
            after = now - timedelta(days=days)
        before = now - MIN_LAG
        if before <= after:
            return
        state.path = "search"
        state.window_after, state.window_before = iso(after), iso(before)
        state.next_token, state.reports, state.details_pending = None, {}, []
        # the first window's choice (backlog path) stays on record; later windows only page
        state.decision = {"first": True} if shop.sync_cursor is None else {**(state.decision or {}), "first": False}
        state.started_at = utcnow()
        db.session.commit()
    if state.decision.get("chosen"):
        result.decision = dict(state.decision)
    if state.path == "search":
        _search(shop, client, state, result)
    if state.path == "report":
        result.path = "report"
        _report(shop, client, state, result)


def _finish_window(shop: Shop, state: AmazonSyncState) -> None:
    shop.sync_cursor = state.window_before
    state.path, state.next_token, state.reports, state.details_pending = None, None, {}, []
    db.session.commit()


def _count(result: SyncResult, created: bool, changed: list[str]) -> None:
    if created:
        result.created += 1
    elif changed:
        result.updated += 1


# ----------------------------------------------------------------------------- searchOrders
def _progress(state: AmazonSyncState) -> Progress | None:
    """The first window's progress (the backlog import), carried over the runs that resume it."""
    if not (state.decision or {}).get("first"):
        return None
    done, total = (state.decision or {}).get("progress") or (0, None)
    progress = Progress.for_job("orders")
    progress.start(total, done=done)
    return progress


def _advance(state: AmazonSyncState, progress: Progress | None, count: int, *, total: int | None = None,
             restart: bool = False, errors: list[tuple[str, Any]] | None = None) -> None:
    """Tell the progress what the last commit brought (call it between commits); the figures
    are kept on the state, committed with the next page."""
    if progress is None:
        return
    if restart:
        progress.start(total)
    elif total is not None:
        progress.total = total
    progress.advance(count, errors or [])
    state.decision = {**(state.decision or {}), "progress": [progress.done, progress.total]}


def _search(shop: Shop, client: SellingPartnerClient, state: AmazonSyncState, result: SyncResult) -> None:
    mps = marketplaces(shop)
    progress = _progress(state)
    while True:
        params: dict[str, Any] = {"lastUpdatedAfter": state.window_after, "lastUpdatedBefore": state.window_before,
                                  "marketplaceIds": mps, "maxResultsPerPage": PAGE_SIZE,
                                  "includedData": INCLUDED_DATA}
        if state.next_token:
            params["paginationToken"] = state.next_token
        body = client.call("searchOrders", params=params).body
        orders = body.get("orders") or []
        for r in ingest_orders(shop, [from_order(raw) for raw in orders], source="poll"):
            _count(result, r.created, r.changed)
        result.pages += 1
        token = (body.get("pagination") or {}).get("nextToken")
        total = None
        if token and state.decision.get("first") and "chosen" not in state.decision:
            state.decision = {**decide(client, orders, parse_iso(state.window_after), parse_iso(state.window_before),
                                       len(mps)), "progress": state.decision.get("progress")}
            result.decision = dict(state.decision)
            total = state.decision["estimated_orders"]
            if state.decision["chosen"] == "report":
                state.path, state.next_token = "report", None
                db.session.commit()
                _advance(state, progress, len(orders), total=total)
                return
        state.next_token = token
        if not token:
            _finish_window(shop, state)
            if progress is not None:
                _advance(state, progress, len(orders))
                progress.finish()
            return
        db.session.commit()
        _advance(state, progress, len(orders), total=total)


def decide(client: SellingPartnerClient, first_page: list[dict[str, Any]], after: datetime, before: datetime,
           marketplace_count: int) -> dict[str, Any]:
    """Estimate the backlog from the first page and the time each path needs at the
    documented rates (and the tokens left in the buckets); choose the faster."""
    stamps = [parse_iso(o["lastUpdatedTime"]) for o in first_page]
    span = (max(stamps) - after).total_seconds() if stamps else 0
    window = (before - after).total_seconds()
    estimate = len(first_page) * window / span if span > 0 else float(len(first_page))
    estimate = max(estimate, len(first_page) + 1.0)
    open_share = (sum(1 for o in first_page if (o.get("fulfillment") or {}).get("fulfilledBy") == "MERCHANT"
                      and (o.get("fulfillment") or {}).get("fulfillmentStatus") in OPEN_STATUSES)
                  / max(len(first_page), 1))
    pages_left = math.ceil(estimate / PAGE_SIZE) - 1
    search_time = _bucket_time(client, "searchOrders", pages_left)
    details = math.ceil(estimate * open_share)
    report_time = (_bucket_time(client, "createReport", marketplace_count) + REPORT_PROCESSING_ESTIMATE
                   + _bucket_time(client, "getReportDocument", marketplace_count)
                   + _bucket_time(client, "getOrder", details))
    return {"first": True, "estimated_orders": round(estimate), "open_merchant_share": round(open_share, 3),
            "search_seconds": round(search_time), "report_seconds": round(report_time),
            "chosen": "report" if report_time < search_time else "search"}


def _bucket_time(client: SellingPartnerClient, operation: str, calls: int) -> float:
    """Seconds ``calls`` calls take from the operation's bucket as it stands."""
    if calls <= 0:
        return 0.0
    op = OPERATIONS[operation]
    tokens = max(math.floor(client.tokens(operation)), 0)
    return max(0, calls - tokens) / client.rate(op.name)


# ----------------------------------------------------------------------------- orders report
def _report(shop: Shop, client: SellingPartnerClient, state: AmazonSyncState, result: SyncResult) -> None:
    progress = _progress(state)
    reports = dict(state.reports or {})
    for mp in marketplaces(shop):
        if mp not in reports:
            body = client.call("createReport", json={
                "reportType": ORDERS_REPORT, "marketplaceIds": [mp],
                "dataStartTime": state.window_after, "dataEndTime": state.window_before}).body
            reports[mp] = {"id": body["reportId"]}
            state.reports = reports
            db.session.commit()
    for mp, rep in sorted(reports.items()):
        if rep.get("ingested"):
            continue
        report = _wait_report(client, rep["id"])
        if report["processingStatus"] != "DONE":
            # FATAL or CANCELLED: page through searchOrders instead
            state.path, state.reports = "search", {}
            state.decision = {**state.decision, "report_failed": report["processingStatus"]}
            db.session.commit()
            _search(shop, client, state, result)
            return
        doc = client.call("getReportDocument", path={"reportDocumentId": report["reportDocumentId"]}).body
        text = client.download(doc["url"], doc.get("compressionAlgorithm")).decode("utf-8-sig")
        by_order: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in parse_tsv(text):
            if row.get("amazon-order-id"):
                by_order[row["amazon-order-id"]].append(row)
        complete = set(db.session.scalars(select(AmazonOrder.amazon_order_id).where(
            AmazonOrder.shop_id == shop.id, AmazonOrder.complete.is_(True),
            AmazonOrder.amazon_order_id.in_(list(by_order)))) if by_order else [])
        pending = list(state.details_pending or [])
        page: list[tuple[Any, Any]] = []
        # the report's orders are the total (the first report's orders start the count again)
        first_report = not any(r.get("ingested") for r in reports.values())
        _advance(state, progress, 0, restart=first_report,
                 total=(0 if first_report or progress is None else progress.total or 0) + len(by_order))
        for order_id, rows in by_order.items():
            normalized, facts = from_report_rows(rows, mp)
            if facts.fulfilled_by == "MERCHANT" and facts.status in OPEN_STATUSES and order_id not in complete:
                pending.append(order_id)  # the merchant ships it: address and item ids needed
                continue
            page.append((normalized, facts))
            if len(page) == REPORT_PAGE:
                _advance(state, progress, _ingest_page(shop, page, result, "import"))
        _advance(state, progress, _ingest_page(shop, page, result, "import"))
        result.pages += 1
        rep["ingested"] = True
        reports[mp] = dict(rep)
        state.reports, state.details_pending = dict(reports), pending
        db.session.commit()
    pending = list(state.details_pending or [])
    while pending:
        chunk, fetched, missing = pending[:DETAILS_PAGE], [], []
        for order_id in chunk:
            try:
                body = client.call("getOrder", path={"orderId": order_id},
                                   params={"includedData": INCLUDED_DATA}).body
            except AmazonError as exc:
                if exc.status != 404:
                    raise
                missing.append((order_id, ORDER_GONE))
                continue
            fetched.append(from_order(body["order"]))
        pending = pending[len(chunk):]
        state.details_pending = list(pending)
        _advance(state, progress, _ingest_page(shop, fetched, result, "import") + len(missing), errors=missing)
    _finish_window(shop, state)


def _ingest_page(shop: Shop, page: list[tuple[Any, Any]], result: SyncResult, source: str) -> int:
    """Ingest and commit a page of orders, then empty it; returns how many it held."""
    count = len(page)
    for r in ingest_orders(shop, page, source=source):
        _count(result, r.created, r.changed)
    db.session.commit()
    page.clear()
    return count


def _wait_report(client: SellingPartnerClient, report_id: str) -> dict[str, Any]:
    while True:
        report = client.call("getReport", path={"reportId": report_id}).body
        if report.get("processingStatus") in ("DONE", "FATAL", "CANCELLED"):
            return report
        if REPORT_POLL > client.max_wait:
            raise ResumeLater(REPORT_POLL, _("rapport %(report_id)s en préparation chez Amazon",
                                             report_id=report_id))
        client.clock.sleep(REPORT_POLL)
