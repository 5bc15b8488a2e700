"""A channel that records what it is asked to push, for the coalescing benchmark."""
from core import hookimpl

PUSHES: list[tuple[int, int]] = []  # (shop id, number of SKUs in the push)
LAST: dict[tuple[int, str], int] = {}


@hookimpl
def stock_available_changed(shop, changes):
    PUSHES.append((shop.id, len(changes)))
    for change in changes:
        LAST[(shop.id, change.sku)] = change.available
