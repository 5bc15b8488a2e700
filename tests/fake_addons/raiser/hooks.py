from core import hookimpl


@hookimpl
def stock_available_changed(shop, changes):
    raise RuntimeError("remote exploded")
