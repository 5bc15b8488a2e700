from core import hookimpl


@hookimpl
def stock_available_changed(shop, changes):
    raise RuntimeError("remote exploded")


@hookimpl
def order_status_changed(shop, order, old, new):
    raise RuntimeError("status webhook exploded")


@hookimpl
def intake_order_received(shop, order, created):
    raise RuntimeError("intake listener exploded")


@hookimpl
def shop_diagnose(shop):
    raise RuntimeError("diagnostic exploded")
