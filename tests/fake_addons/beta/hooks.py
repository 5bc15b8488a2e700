"""A channel add-on depending on alpha."""
from core import hookimpl
from tests.fake_addons.alpha.hooks import CALLS

#: last figure pushed per (shop id, sku)
LAST: dict[tuple[int, str], int] = {}


@hookimpl
def stock_available_changed(shop, changes):
    CALLS.append(("beta", "stock_available_changed", shop.id))
    for change in changes:
        LAST[(shop.id, change.sku)] = change.available


@hookimpl
def channel_sync_job(shop):
    return "tests.fake_addons.beta.jobs.sync"
