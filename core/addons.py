"""Add-on discovery, manifests, dependency order and per-shop hook calls.

Add-ons are found through the ``oms.addons`` entry-point group (the in-tree ones too). Each
entry point names an add-on's ``hooks`` module; the add-on's ``__manifest__.py`` beside it is
read with ``ast.literal_eval`` (never imported). A broken add-on (bad manifest, missing or
circular dependency, import error, incompatible core version) is reported and left out; the
app starts without it.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import re
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import __version__, hookspecs
from .contracts import missing_hooks
from .extensions import db
from .models import SyncLog, SyncStatus, utcnow

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "oms.addons"
CORE_PLUGIN = "core"

#: manifest ``category`` values and their catalog labels (French; English via Babel)
CATEGORIES = {
    "marketplace": "Marketplace",
    "carrier": "Transporteur",
    "dropshipping": "Dropshipping",
    "pos": "Point de vente",
    "analytics": "Analyses",
    "tools": "Outils",
}
KINDS = ("channel", "carrier", "fulfilment", "tool")
SCOPES = ("shop", "organization")
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "name": str, "version": str, "summary": str, "category": str, "depends": list,
}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "kind": str, "scope": str, "icon": str, "application": bool, "auto_install": bool,
    "author": str, "maintainers": list, "license": str, "external_dependencies": dict,
    "core_version": str, "website": str, "api_version": str, "summaries": dict, "example": bool,
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class ManifestError(ValueError):
    pass


@dataclass
class Addon:
    """One add-on as the loader saw it."""

    name: str
    module: str  # dotted path of its hooks module
    path: Path | None = None  # its package folder
    manifest: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    plugin: Any = None  # the registered hooks module

    @property
    def ok(self) -> bool:
        return self.error is None and self.plugin is not None

    @property
    def contract_gaps(self) -> list[str]:
        """Hooks this add-on's kind requires that it does not implement (see core.contracts)."""

        return missing_hooks(self.kind, self.plugin) if self.plugin is not None else []

    @property
    def title(self) -> str:
        return self.manifest.get("name", self.name)

    def summary_for(self, locale: str | None) -> str:
        """The summary in the merchant's language: ``summaries[locale]`` when the manifest
        gives one (``{"en": "..."}``), else ``summary`` (French, the default language)."""
        localized = self.manifest.get("summaries") or {}
        text = localized.get((locale or "").split("_")[0]) if isinstance(localized, dict) else None
        return text if isinstance(text, str) and text else self.manifest.get("summary", "")

    @property
    def category(self) -> str:
        return self.manifest.get("category", "tools")

    @property
    def kind(self) -> str:
        return self.manifest.get("kind", "tool")

    @property
    def scope(self) -> str:
        return self.manifest.get("scope", "shop")

    @property
    def depends(self) -> list[str]:
        return [d for d in self.manifest.get("depends", []) if d != CORE_PLUGIN]

    def readme(self, part: str) -> str:
        """Text of ``readme/<PART>.md`` (DESCRIPTION, CONFIGURE, USAGE), or ''."""
        if self.path is None:
            return ""
        f = self.path / "readme" / f"{part.upper()}.md"
        return f.read_text(encoding="utf-8") if f.is_file() else ""

    def icon_path(self) -> Path | None:
        if self.path is None:
            return None
        rel = self.manifest.get("icon", "static/description/icon.svg")
        f = (self.path / rel).resolve()
        return f if f.is_file() and self.path.resolve() in f.parents else None


def parse_manifest(text: str, *, source: str = "__manifest__.py") -> dict[str, Any]:
    """Parse and validate a manifest (a single dict literal)."""
    try:
        data = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ManifestError(f"{source}: not a dict literal ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: must hold one dict literal")
    for key, typ in _REQUIRED.items():
        if key not in data:
            raise ManifestError(f"{source}: missing key {key!r}")
        if not isinstance(data[key], typ):
            raise ManifestError(f"{source}: {key!r} must be {typ.__name__}")
    unknown = set(data) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise ManifestError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    for key, typ in _OPTIONAL.items():
        if key in data and not isinstance(data[key], typ):
            raise ManifestError(f"{source}: {key!r} must be {typ.__name__ if isinstance(typ, type) else typ}")
    if not _SEMVER.match(data["version"]):
        raise ManifestError(f"{source}: version {data['version']!r} is not breaking.feature.fix")
    if data["category"] not in CATEGORIES:
        raise ManifestError(f"{source}: category {data['category']!r} not one of {', '.join(CATEGORIES)}")
    if data.get("kind", "tool") not in KINDS:
        raise ManifestError(f"{source}: kind {data['kind']!r} not one of {', '.join(KINDS)}")
    if data.get("scope", "shop") not in SCOPES:
        raise ManifestError(f"{source}: scope {data['scope']!r} not one of {', '.join(SCOPES)}")
    if not all(isinstance(d, str) for d in data["depends"]):
        raise ManifestError(f"{source}: depends must list add-on names")
    if "core_version" in data:
        try:
            SpecifierSet(data["core_version"])
        except InvalidSpecifier:
            raise ManifestError(f"{source}: core_version {data['core_version']!r} is not a version range") from None
    return data


def _package_dir(module: str) -> Path | None:
    """Folder of the package holding ``module`` without importing the package itself."""
    pkg = module.rpartition(".")[0] or module
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def discover(names: list[str] | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Map add-on name → hooks module, from the ``oms.addons`` entry points plus ``extra``.

    With ``names``, keep only those (a name nobody provides maps to '').
    """
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found.update(extra or {})
    if names is None:
        return found
    return {n: found.get(n, "") for n in names}


class AddonRegistry:
    """Loads add-ons into a pluggy PluginManager and answers "who runs for this shop"."""

    def __init__(self, core_plugin: Any = None) -> None:
        """``core_plugin``: core's default hook implementations (``core.defaults``), which the
        app factory hands in; the registry itself knows no domain module."""
        self.pm = pluggy.PluginManager("oms")
        self.pm.add_hookspecs(hookspecs)
        if core_plugin is not None:
            self.pm.register(core_plugin, name=CORE_PLUGIN)
        self.addons: dict[str, Addon] = {}
        self._callers: dict[tuple[str, Any], Any] = {}

    # ----------------------------------------------------------------- loading
    def load(self, modules: dict[str, str]) -> None:
        for name, module in sorted(modules.items()):
            addon = Addon(name=name, module=module)
            self.addons[name] = addon
            if not module:
                addon.error = f"add-on {name!r} is not installed (no '{ENTRY_POINT_GROUP}' entry point)"
                continue
            if not _NAME.match(name):
                addon.error = f"add-on name {name!r} must be lowercase snake_case"
                continue
            try:
                addon.path = _package_dir(module)
                if addon.path is None or not (addon.path / "__manifest__.py").is_file():
                    raise ManifestError(f"no __manifest__.py beside {module}")
                addon.manifest = parse_manifest((addon.path / "__manifest__.py").read_text(encoding="utf-8"),
                                                source=f"{name}/__manifest__.py")
            except (ManifestError, ImportError, OSError) as exc:
                addon.error = str(exc)
                continue
            rng = addon.manifest.get("core_version")
            if rng and Version(__version__) not in SpecifierSet(rng):
                addon.error = (f"add-on {name!r} requires core {rng}, this is core {__version__}: "
                               "upgrade the add-on or core")
        for name in self._dependency_order():
            addon = self.addons[name]
            if addon.error:
                continue
            try:
                plugin = importlib.import_module(addon.module)
                self.pm.register(plugin, name=name)
                addon.plugin = plugin
            except Exception as exc:  # an add-on must never take the app down
                addon.error = f"import failed: {exc.__class__.__name__}: {exc}"
                log.debug("add-on %s import traceback:\n%s", name, traceback.format_exc())
        self.pm.check_pending()
        for addon in self.addons.values():
            if addon.error:
                log.error("add-on %s left out: %s", addon.name, addon.error)
            elif addon.contract_gaps:
                log.warning("add-on %s (%s) does not implement %s", addon.name, addon.kind,
                            ", ".join(addon.contract_gaps))

    def _dependency_order(self) -> list[str]:
        """Topological order (bases first); flags missing and circular dependencies."""
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(name: str, chain: list[str]) -> bool:
            addon = self.addons[name]
            if state.get(name) == "done":
                return addon.error is None
            if state.get(name) == "visiting":
                cycle = chain[chain.index(name):] + [name]
                msg = "circular dependency: " + " → ".join(cycle)
                for n in cycle:
                    self.addons[n].error = self.addons[n].error or msg
                return False
            state[name] = "visiting"
            ok = addon.error is None
            for dep in addon.depends:
                if dep not in self.addons:
                    addon.error = addon.error or f"depends on {dep!r}, which is not installed"
                    ok = False
                elif not visit(dep, chain + [name]):
                    addon.error = addon.error or f"depends on {dep!r}, which failed to load"
                    ok = False
            state[name] = "done"
            order.append(name)
            return ok and addon.error is None

        for name in sorted(self.addons):
            visit(name, [])
        return order

    # ----------------------------------------------------------------- queries
    def loaded(self) -> list[Addon]:
        return [a for a in self.addons.values() if a.ok]

    def get(self, name: str) -> Addon | None:
        return self.addons.get(name)

    def hook_for(self, enabled: set[str] | frozenset[str], hook: str):
        """A hook caller restricted to core's defaults and the ``enabled`` add-ons."""
        key = (hook, frozenset(enabled))
        caller = self._callers.get(key)
        if caller is None:
            others = [a.plugin for a in self.loaded() if a.name not in enabled]
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[key] = caller
        return caller

    def impl_caller(self, hook: str, plugin_name: str):
        """A hook caller that runs only ``plugin_name``'s implementation of ``hook``."""
        key = (hook, "only:" + plugin_name)
        caller = self._callers.get(key)
        if caller is None:
            others = [p for name, p in self.pm.list_name_plugin() if name != plugin_name]
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[key] = caller
        return caller

    def call_one(self, addon: str, hook: str, **kwargs: Any) -> Any:
        """Call a hook on one add-on only (settings form, connection test…)."""
        a = self.addons.get(addon)
        if a is None or not a.ok:
            return None
        impls = [i for i in getattr(self.pm.hook, hook).get_hookimpls() if i.plugin is a.plugin]
        for impl in reversed(impls):
            res = impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
            if res is not None:
                return res
        return None


def catalog_entries(addon: Addon) -> list:
    """The catalog cards ``addon`` offers through ``register_catalog_entries`` (``CatalogEntry``
    list); an empty list means one card, the add-on's own. A failing hook is logged and the
    add-on keeps its one card."""
    try:
        entries = registry().call_one(addon.name, "register_catalog_entries")
    except Exception as exc:  # a broken data file must not take the catalog down
        log.error("add-on %s: register_catalog_entries failed: %s", addon.name, exc, exc_info=exc)
        return []
    return [e for e in (entries or []) if getattr(e, "key", None)]


def catalog_entry(addon: Addon, key: str | None):
    """The entry ``key`` of ``addon``'s catalog cards, or None."""
    if not key:
        return None
    return next((e for e in catalog_entries(addon) if e.key == key), None)


def registry() -> AddonRegistry:
    from flask import current_app

    return current_app.extensions["oms_addons"]


def call(shop, hook: str, **kwargs: Any) -> Any:
    """Fire ``hook`` for ``shop``: only core's defaults and the add-ons enabled for the shop run.

    Each implementation runs through pluggy (its own ``subset_hook_caller``, keyword arguments)
    in pluggy's order. An add-on's implementation runs inside its own savepoint: if it raises,
    what it wrote is rolled back to that savepoint, the error goes to the shop's sync log with
    the add-on's name, and the caller's work and the other add-ons go on (a ``firstresult``
    hook then falls back to the next). Core's own defaults are not isolated: their errors are
    the caller's.
    """
    reg = registry()
    enabled = frozenset(shop.enabled_addons()) if shop is not None else frozenset()
    caller = reg.hook_for(enabled, hook)
    spec = caller.spec
    firstresult = bool(spec and spec.opts.get("firstresult"))
    if spec is not None and "shop" in spec.argnames:
        kwargs = {"shop": shop, **kwargs}
    results = []
    for impl in reversed(caller.get_hookimpls()):  # pluggy order: last registered / tryfirst first
        single = reg.impl_caller(hook, impl.plugin_name)
        if impl.plugin_name == CORE_PLUGIN:
            out = single(**kwargs)
        else:
            try:
                with db.session.begin_nested():
                    out = single(**kwargs)
            except Exception as exc:
                _isolate(shop, impl.plugin_name, hook, exc)
                continue
        res = out if firstresult else (out[0] if out else None)
        if res is not None:
            if firstresult:
                return res
            results.append(res)
    return None if firstresult else results


def _isolate(shop, addon: str, hook: str, exc: Exception) -> None:
    """Record an add-on's failure inside a hook on the shop's sync log (caller's transaction)."""
    log.error("add-on %s failed in %s: %s", addon, hook, exc, exc_info=exc)
    db.session.add(SyncLog(shop_id=shop.id if shop else None,
                           organization_id=shop.organization_id if shop else None,
                           addon=addon, func=f"hook:{hook}", status=SyncStatus.FAILED,
                           error=f"{exc.__class__.__name__}: {exc}"[:4000], finished_at=utcnow()))
