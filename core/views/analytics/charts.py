"""Inline SVG charts of the analytics pages: horizontal bars around a zero line and orders /
revenue per channel over time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import format_decimal

from ... import analytics as an
from .base import SERIES, View, _channel_title, _money


# ============================================================================ charts (inline SVG)
@dataclass
class HBar:
    label: str
    display: str
    x: float
    width: float
    y: float
    negative: bool
    href: str | None
    series: int = 0


@dataclass
class HBarChart:
    title: str
    bars: list[HBar]
    zero_x: float
    width: int = 720
    label_width: int = 190
    row: int = 30

    @property
    def height(self) -> int:
        return self.row * max(len(self.bars), 1) + 10


def hbar_chart(title: str, items: list[tuple[str, Decimal, str, str | None]], *,
               series: list[int] | None = None, width: int = 1160) -> HBarChart:
    """Horizontal bars around a zero line: ``items`` are (label, value, shown value, link).
    ``width`` is the drawing's width in pixels at full size: 1160 for a chart across the
    page, 720 for one of a pair."""
    label_w, value_w = (240, 130) if width > 900 else (190, 110)
    plot_x0, plot_x1 = label_w + 10, width - value_w
    values = [Decimal(v) for _l, v, _d, _h in items]
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    span = (high - low) or Decimal(1)
    scale = (plot_x1 - plot_x0) / float(span)
    zero_x = plot_x0 + float(-low) * scale
    bars = []
    for i, (label, value, shown, href) in enumerate(items):
        w = abs(float(value)) * scale
        x = zero_x - w if value < 0 else zero_x
        bars.append(HBar(label=label, display=shown, x=round(x, 1), width=round(max(w, 1.0), 1), y=5 + i * 30,
                         negative=value < 0, href=href, series=(series[i] if series else 0) % SERIES))
    return HBarChart(title=title, bars=bars, zero_x=round(zero_x, 1), width=width, label_width=label_w)


@dataclass
class Segment:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str
    href: str


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class TimeChart:
    """Orders per channel (stacked columns) and revenue per channel (lines) over time."""

    segments: list[Segment]
    lines: list[tuple[int, str, str]]  # (series, channel title, "x,y x,y …")
    points: list[tuple[int, float, float, str, str]]  # (series, x, y, title, link)
    x_ticks: list[Tick]
    orders_ticks: list[Tick]
    revenue_ticks: list[Tick]
    legend: list[tuple[int, str]]
    width: int = 720
    height: int = 200
    left: int = 64
    bottom: int = 24


def _nice(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10.0 * power


def time_chart(view: View, buckets: list[date], unit: str, data: dict[tuple[date, str], tuple[int, Decimal]],
               channels: list[str]) -> TimeChart:
    width, height, left, right, top, bottom = 720, 200, 64, 12, 8, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(buckets), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    max_orders = _nice(max((sum(data.get((b, c), (0, 0))[0] for c in channels) for b in buckets), default=0))
    max_revenue = _nice(float(max((data.get((b, c), (0, Decimal(0)))[1] for b in buckets for c in channels),
                                  default=Decimal(0))))
    series = {c: i % SERIES for i, c in enumerate(channels)}
    segments: list[Segment] = []
    points: list[tuple[int, float, float, str, str]] = []
    polylines: dict[str, list[str]] = {c: [] for c in channels}
    for i, b in enumerate(buckets):
        end = _bucket_end(b, unit)
        base = top + plot_h
        label = _bucket_label(b, unit)
        for c in channels:
            orders, revenue = data.get((b, c), (0, Decimal(0)))
            link = view.orders_url(date_from=max(b, view.f.date_from), date_to=min(end, view.f.date_to), channel=c)
            if orders:
                h = plot_h * orders / max_orders
                base -= h
                segments.append(Segment(x=round(left + i * slot + (slot - bar_w) / 2, 1), y=round(base, 1),
                                        width=round(bar_w, 1), height=round(max(h, 0.5), 1), series=series[c],
                                        title=f"{label} · {_channel_title(c)} : {format_decimal(orders)}",
                                        href=link))
            x = round(left + i * slot + slot / 2, 1)
            y = round(top + plot_h - plot_h * float(revenue) / max_revenue, 1)
            polylines[c].append(f"{x},{y}")
            points.append((series[c], x, y, f"{label} · {_channel_title(c)} : {_money(revenue, view.currency)}", link))
    every = max(1, -(-n // 8))
    x_ticks = [Tick(round(left + i * slot + slot / 2, 1), _bucket_label(b, unit))
               for i, b in enumerate(buckets) if i % every == 0]
    orders_ticks = [Tick(round(top + plot_h - plot_h * k / 2, 1),
                         format_decimal(Decimal(str(max_orders * k / 2)), format="#,##0.#")) for k in (0, 1, 2)]
    revenue_ticks = [Tick(round(top + plot_h - plot_h * k / 2, 1),
                          format_decimal(Decimal(str(max_revenue * k / 2)), format="#,##0.#"))
                     for k in (0, 1, 2)]
    return TimeChart(segments=segments, lines=[(series[c], _channel_title(c), " ".join(polylines[c]))
                                               for c in channels],
                     points=points, x_ticks=x_ticks, orders_ticks=orders_ticks, revenue_ticks=revenue_ticks,
                     legend=[(series[c], _channel_title(c)) for c in channels])


def _bucket_end(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=6)
    if unit == "month":
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return nxt - timedelta(days=1)
    return start


def _bucket_label(start: date, unit: str) -> str:
    from flask_babel import format_date

    if unit == "month":
        return format_date(start, "MMM yyyy")
    return format_date(start, "d MMM")


def _buckets(f: an.Filters, unit: str) -> list[date]:
    out, current = [], an.bucket_of(f.date_from, unit)
    while current <= f.date_to:
        out.append(current)
        current = _bucket_end(current, unit) + timedelta(days=1)
    return out
