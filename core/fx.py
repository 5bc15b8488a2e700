"""Currency conversion with a dated rate table.

Rates follow the European Central Bank's euro reference rates: one row says that on ``day``,
1 EUR = ``rate`` units of ``currency`` (the ECB publishes them every working day at
https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/).
Each organization keeps its own table, editable on the "Taux de change" page; an amount is
converted with the latest rate on or before its order's date. Converting between two
currencies goes through the euro: ``amount / rate(from) × rate(to)``.

New organizations start with a few seed rates (:data:`SEED_RATES`): rounded orders of
magnitude of the ECB rates of :data:`SEED_DAY`, to be replaced by the published figures.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from .extensions import db
from .models import FxRate

BASE = "EUR"
SOURCE_ECB = "BCE — taux de référence de l'euro"
SEED_SOURCE = "valeur d'amorçage approximative (BCE) : à mettre à jour"
SEED_DAY = date(2025, 6, 30)
#: 1 EUR = … ; rounded seed values, replace them with the ECB's published rates
SEED_RATES: dict[str, Decimal] = {
    "GBP": Decimal("0.8555"),
    "PLN": Decimal("4.2420"),
    "SEK": Decimal("11.1465"),
    "USD": Decimal("1.1720"),
    "CHF": Decimal("0.9347"),
}
#: a rate older than this before the order's date makes the conversion "stale"
STALE_AFTER = timedelta(days=31)

#: conversion outcomes, from best to worst
OK, STALE, LATER, MISSING = "ok", "stale", "later", "missing"
_RANK = {OK: 0, STALE: 1, LATER: 2, MISSING: 3}


def worst(*statuses: str) -> str:
    """The least reliable of several conversion outcomes."""
    return max(statuses, key=lambda s: _RANK[s], default=OK)


@dataclass(frozen=True)
class Converted:
    """An amount converted to the target currency, and how reliable the rate was."""

    amount: Decimal
    status: str


class RateTable:
    """One organization's rates, loaded once; lookups are in memory (bisect by day)."""

    def __init__(self, rates: dict[str, list[tuple[date, Decimal]]]) -> None:
        self._days = {cur: [d for d, _r in sorted(rows)] for cur, rows in rates.items()}
        self._rates = {cur: [r for _d, r in sorted(rows)] for cur, rows in rates.items()}

    @classmethod
    def load(cls, org_id: int) -> "RateTable":
        rates: dict[str, list[tuple[date, Decimal]]] = {}
        for currency, day, rate in db.session.execute(
                select(FxRate.currency, FxRate.day, FxRate.rate).where(FxRate.organization_id == org_id)):
            rates.setdefault(currency, []).append((day, Decimal(rate)))
        return cls(rates)

    def rate(self, currency: str, day: date) -> tuple[Decimal | None, str]:
        """Units of ``currency`` for 1 EUR on ``day``: the latest rate on or before it, else
        the earliest later one (status ``later``), else None (``missing``)."""
        currency = currency.upper()
        if currency == BASE:
            return Decimal(1), OK
        days = self._days.get(currency)
        if not days:
            return None, MISSING
        i = bisect_right(days, day)
        if i == 0:
            return self._rates[currency][0], LATER
        status = STALE if day - days[i - 1] > STALE_AFTER else OK
        return self._rates[currency][i - 1], status

    def convert(self, amount: Decimal, currency: str, to: str, day: date) -> Converted:
        """``amount`` of ``currency`` in ``to`` with the rates of ``day`` (unrounded)."""
        if currency.upper() == to.upper():
            return Converted(amount, OK)
        src, s1 = self.rate(currency, day)
        dst, s2 = self.rate(to, day)
        if src is None or dst is None or src == 0:
            return Converted(Decimal(0), MISSING)
        return Converted(amount / src * dst, worst(s1, s2))


def ensure_seed(org_id: int) -> int:
    """Give an organization without any rate the seed rates; returns how many were added."""
    if db.session.scalar(select(func.count()).select_from(FxRate).where(FxRate.organization_id == org_id)):
        return 0
    for currency, rate in sorted(SEED_RATES.items()):
        db.session.add(FxRate(organization_id=org_id, currency=currency, day=SEED_DAY, rate=rate,
                              source=SEED_SOURCE))
    db.session.flush()
    return len(SEED_RATES)


def latest_rates(org_id: int) -> dict[str, FxRate]:
    """Each currency's most recent row (the figures the rates page leads with)."""
    rows = db.session.scalars(select(FxRate).where(FxRate.organization_id == org_id)
                              .order_by(FxRate.currency, FxRate.day.desc())).all()
    latest: dict[str, FxRate] = {}
    for row in rows:
        latest.setdefault(row.currency, row)
    return latest
