"""Long-running processes freeze their startup heap out of the collector's walks
(core.heap.settle), and the garbage they make afterwards is still collected."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import core.heap
import core.rqueue
import core.scheduler


def test_settle_freezes_what_exists_and_later_cycles_are_still_collected():
    script = textwrap.dedent("""
        import gc, weakref
        from core import create_app, heap
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
        assert gc.get_freeze_count() == 0
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() > 50_000, frozen

        class Node:
            pass

        node = Node()
        node.self = node  # a cycle made after the freeze
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is None
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_worker_and_the_scheduler_settle_before_their_first_job(app, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(core.heap, "settle", lambda: calls.append("settle") or 0)
    monkeypatch.setattr(core.rqueue, "run_worker", lambda *_a, **_k: calls.append("work"))
    monkeypatch.setattr(core.scheduler.Scheduler, "run", lambda *_a, **_k: calls.append("schedule"))
    app.config["REDIS_URL"] = app.config.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    runner = app.test_cli_runner()
    res = runner.invoke(args=["worker", "--burst", "--nice", "0"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(args=["scheduler", "--once"])
    assert res.exit_code == 0, res.output
    assert calls == ["settle", "work", "settle", "schedule"]
