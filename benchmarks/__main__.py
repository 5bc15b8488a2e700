"""``make bench``: run every benchmark and print one table.

Each ``bench_*.py`` module exposes ``run() -> list[tuple[str, str, str]]``: rows of
(measure, figure, aim).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(selected: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    rows: list[tuple[str, str, str, str]] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        if not hasattr(module, "run"):
            continue
        started = time.perf_counter()
        print(f"running {name} …", file=sys.stderr, flush=True)
        for measure, figure, aim in module.run():
            rows.append((name.removeprefix("bench_"), measure, figure, aim))
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    widths = [max(len(r[i]) for r in rows + [("benchmark", "measure", "figure", "aim")]) for i in range(4)]
    line = "  ".join(h.ljust(w) for h, w in zip(("benchmark", "measure", "figure", "aim"), widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
