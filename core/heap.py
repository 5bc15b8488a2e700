"""The garbage collector in the long-running processes (``oms serve``'s web workers, ``oms
worker``, ``oms scheduler``).

A process holds, once started, a large heap that lives as long as it does: every module, the
add-ons, SQLAlchemy's mappers and compiled statements, the app. CPython's collector walks all
of it at every full collection, and an intake page (a few thousand new objects: orders, lines,
history) triggers collections often: on a 2-core machine a third of an import's time went to
walking objects that could never be garbage. :func:`settle` moves what exists once the process
is ready into the collector's permanent generation (``gc.freeze``): later collections walk only
what the process allocated since, the jobs' and requests' own objects. Nothing is leaked by it:
frozen objects are those the process keeps anyway, and cycles created afterwards are collected
as before.
"""
from __future__ import annotations

import gc


def settle() -> int:
    """Collect once, then freeze every object left: call it when a process is ready to work
    (app built, add-ons loaded), before its first job or request. Returns how many objects
    the collector will no longer walk."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
