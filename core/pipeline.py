"""What happens around a commit, in one visible order.

Some work belongs to the transaction that caused it: the stock ledger and its dirty marks,
the resume of orders held for a SKU that now exists, the analytics refresh of the orders that
changed, the relay of the jobs the transaction queued. Each is a named function of the module
that owns it; the app factory lists them here, in the order they run, and installs them on
its own database session (``db.session``) only — the sessions the relay or the rate buckets
open on the side run none of them.

A savepoint (an add-on's hook runs in one) is not a commit: the steps that end a transaction
ignore the end of a nested one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import event

Step = Callable[..., None]


@dataclass(frozen=True)
class CommitPipeline:
    """Steps per session event, each run in the order given."""

    before_flush: tuple[Step, ...] = ()
    after_flush: tuple[Step, ...] = ()
    after_flush_postexec: tuple[Step, ...] = ()
    before_commit: tuple[Step, ...] = ()
    after_commit: tuple[Step, ...] = ()
    after_rollback: tuple[Step, ...] = ()

    def describe(self) -> dict[str, list[str]]:
        """Event → the steps' dotted names, in order (docs, tests, ``oms`` diagnostics)."""
        return {f.name: [f"{s.__module__}.{s.__qualname__}" for s in getattr(self, f.name)]
                for f in fields(self) if getattr(self, f.name)}

    def install(self, target: Any) -> None:
        """Listen on ``target`` (a scoped session or sessionmaker): one listener per event,
        which runs that event's steps in order. Installing the same pipeline again on the
        same target is a no-op (the app factory runs once per app, the session is shared)."""
        installed = _INSTALLED.setdefault(id(target), {})
        for f in fields(self):
            steps = getattr(self, f.name)
            if not steps or installed.get(f.name) == steps:
                continue
            if f.name in installed:
                raise RuntimeError(f"another pipeline is already installed for {f.name} on this session")
            event.listen(target, f.name, _runner(steps))
            installed[f.name] = steps


_INSTALLED: dict[int, dict[str, tuple[Step, ...]]] = {}


def _runner(steps: tuple[Step, ...]) -> Callable[..., None]:
    def run(*args: Any) -> None:
        for step in steps:
            step(*args)

    return run
