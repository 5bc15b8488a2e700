"""Analytics: what each channel, product and customer really earns.

- ``facts``   the figures computed per order and stored (line, order and return facts, the
              daily roll-up), the fee schedule, the refresh queued by each transaction that
              touched an order, the rebuild
- ``reports`` what the pages read: sums of those facts, products that lose money, the
              pricing helper

Every name stays importable from ``core.analytics`` (``from core.analytics import
set_actual_fees``, job functions such as ``core.analytics.rebuild``).
"""
from __future__ import annotations

from .facts import (
    ANY_CATEGORY,
    BATCH,
    FEE_DEFAULTS_FILE,
    FEE_KINDS,
    REFRESH_JOB,
    SCALE,
    FeeSchedule,
    _roll_up,
    allocate,
    cents,
    channels_in_use,
    collect_changed_orders,
    collect_direct_rows,
    default_fees_for,
    ensure_default_fees,
    fee_defaults,
    from_cents,
    local_day,
    mark_dirty,
    org_zone,
    queue_late_changes,
    queue_rebuild,
    queue_refresh,
    rebuild,
    rebuild_all,
    rebuild_pending,
    refresh_job_id,
    refresh_orders,
    set_actual_fees,
)
from .reports import (
    CUSTOMER_SORTS,
    MAX_RAISE,
    PRODUCT_SORTS,
    STREAM_AFTER_DAYS,
    Figures,
    Filters,
    Loser,
    PriceQuote,
    bucket_of,
    bucket_unit,
    by_channel,
    by_customer,
    by_product,
    by_warehouse,
    losers,
    margin_at,
    overview,
    price_for_margin,
    quotes,
    returns_by_product,
    returns_by_reason,
    suggest,
    timeline,
)

__all__ = [
    "ANY_CATEGORY", "BATCH", "CUSTOMER_SORTS", "FEE_DEFAULTS_FILE", "FEE_KINDS", "MAX_RAISE", "PRODUCT_SORTS",
    "REFRESH_JOB", "SCALE", "STREAM_AFTER_DAYS", "FeeSchedule", "Figures", "Filters", "Loser", "PriceQuote",
    "_roll_up", "allocate", "bucket_of", "bucket_unit", "by_channel", "by_customer", "by_product", "by_warehouse",
    "cents", "channels_in_use", "collect_changed_orders", "collect_direct_rows", "default_fees_for", "ensure_default_fees", "fee_defaults", "from_cents",
    "local_day", "losers", "margin_at", "mark_dirty", "org_zone", "overview", "price_for_margin", "queue_late_changes",
    "queue_rebuild", "queue_refresh", "quotes", "rebuild", "rebuild_all", "rebuild_pending", "refresh_job_id", "refresh_orders", "returns_by_product",
    "returns_by_reason", "set_actual_fees", "suggest", "timeline",
]
