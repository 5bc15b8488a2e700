"""Analytics pages (what each channel, product and customer earns, returns, preparation
times, products that lose money, pricing helper, fee schedule, exchange rates) and the
returns (RMA) pages. Every table has a CSV export built from the very same rows.

The figures come from the stored facts and roll-up of ``core.analytics``; a page only sums
them. The blueprint lives in ``base``; each module below adds its routes to it:

- ``pages``   the analytics pages, their CSV export, the rebuild button, the pricing helper
- ``tables``  the tables those pages show (and export)
- ``charts``  their inline SVG charts
- ``fees``    the fee schedule and the exchange rates
- ``returns`` the returns (RMA) pages

The ``oms analytics rebuild`` command lives with the other commands, in ``core.cli``.
"""
from __future__ import annotations

from . import fees, pages, returns
from .base import bp

__all__ = ["bp", "fees", "pages", "returns"]
