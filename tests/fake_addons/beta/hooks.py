"""A channel add-on depending on alpha."""
from core import hookimpl
from tests.fake_addons.alpha.hooks import CALLS


@hookimpl
def stock_available_changed(shop, changes):
    CALLS.append(("beta", "stock_available_changed", shop.id))


@hookimpl
def channel_sync_job(shop):
    return "tests.fake_addons.beta.jobs.sync"
