"""Core reads from the bottom up (docs/architecture.md): infrastructure, then the domain, then
the application. A module imports from its own layer or below, and core's import graph —
module-level and function-level imports alike, read with ``ast`` — has no cycle."""
from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"

#: every module of core, by layer (a package stands for its modules)
LAYERS: dict[str, tuple[str, ...]] = {
    "infrastructure": (
        "core", "core.config", "core.extensions", "core.models", "core.crypto", "core.money", "core.types",
        "core.inputs", "core.forms", "core.tenancy", "core.security", "core.csvexport", "core.hookspecs",
        "core.contracts", "core.addons", "core.jobs", "core.rqueue", "core.lease", "core.cron", "core.syncs",
        "core.runner", "core.scheduler", "core.ratelimit", "core.retention", "core.pipeline", "core.connectors",
        "core.i18n", "core.access", "core.mail", "core.markdown", "core.wording", "core.liveness", "core.heap",
    ),
    "domain": (
        "core.intake", "core.routing", "core.stock", "core.orders", "core.shipping", "core.picking", "core.pickup",
        "core.barcodes", "core.bins", "core.pickroute", "core.picklist", "core.listings", "core.shipping_rules",
        "core.returns", "core.analytics", "core.analytics_jobs", "core.fx", "core.catalog", "core.documents",
        "core.plans", "core.services", "core.defaults", "core.alerts", "core.team", "core.helpcentre",
        "core.diagnostics",
    ),
    "application": (
        "core.app", "core.cli", "core.serve", "core.demo", "core.views", "core.sandboxes", "core.scaffold", "core.migrations",
        "core.testing",
    ),
}
ORDER = list(LAYERS)
#: ``core.create_app`` is the public entry point partners and tests call: the package's
#: ``__init__`` hands it over to ``core.app`` lazily, the one import allowed to go up
FACADE = {("core", "core.app")}


def _modules() -> dict[str, Path]:
    found = {}
    for path in CORE.rglob("*.py"):
        if "scaffold_templates" in path.parts:
            continue
        name = ".".join(path.relative_to(CORE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _layer(module: str) -> str:
    best = ""
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            below = module.startswith(prefix + ".") and prefix != "core"  # the package's body alone
            if (module == prefix or below) and len(prefix) > len(best):
                best, found = prefix, layer
    assert best, f"{module} is in no layer: add it to LAYERS (and to docs/architecture.md)"
    return found


def _imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from . import stock`` imports the module core.stock, not the package's body
            names = [f"{target}.{alias.name}" for alias in node.names]
            hits = [n for n in names if n in known]
            candidates = hits or [target]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        for name in candidates:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module and name.startswith("core"):
                out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    known = _modules()
    return {m: _imports(m, p, known) for m, p in known.items() if not m.startswith("core.migrations.versions")}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if (v, w) in FACADE:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_core_has_no_import_cycle():
    cycles = _cycles(graph())
    assert not cycles, "import cycles in core:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


def test_no_module_imports_from_a_layer_above_its_own():
    upward = []
    for module, targets in sorted(graph().items()):
        for target in sorted(targets):
            if (module, target) in FACADE:
                continue
            if ORDER.index(_layer(target)) > ORDER.index(_layer(module)):
                upward.append(f"{module} ({_layer(module)}) imports {target} ({_layer(target)})")
    assert not upward, "imports going up a layer:\n" + "\n".join(upward)


def test_core_never_imports_an_addon():
    offenders = [f"{m} imports {t}" for m, p in _modules().items()
                 for t in _raw_imports(p) if t == "addons" or t.startswith("addons.")]
    assert not offenders, offenders


def _raw_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names
