"""Architecture invariants: core names no add-on, in-tree manifests are sound, every add-on
loads with all hooks known, and the migrations build exactly the models."""
from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from core.addons import ENTRY_POINT_GROUP, parse_manifest, registry

ROOT = Path(__file__).resolve().parent.parent
IN_TREE = sorted(p.parent.name for p in (ROOT / "addons").glob("*/__manifest__.py"))


def test_four_addons_in_tree_and_registered():
    assert {"amazon", "shopify", "sendcloud", "dropship"} <= set(IN_TREE)
    eps = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for name in IN_TREE:
        assert eps.get(name) == f"addons.{name}.hooks", f"{name} missing from the oms.addons entry points"


def _domain_words() -> set[str]:
    """Values of core's enums (``LineSource.DROPSHIP`` is a routing source, not an add-on)."""
    import enum

    from core import models

    return {m.value for obj in vars(models).values()
            if isinstance(obj, type) and issubclass(obj, enum.Enum) for m in obj}


def test_core_imports_no_addon():
    domain = _domain_words()
    for path in (ROOT / "core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods = [node.module or ""]
            for mod in mods:
                assert not mod.startswith("addons"), f"{path.relative_to(ROOT)} imports {mod}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in IN_TREE or node.value in domain, f"{path.relative_to(ROOT)} names the add-on {node.value!r}"


@pytest.mark.parametrize("name", IN_TREE)
def test_manifest_parses_and_depends_exist(name):
    manifest = parse_manifest((ROOT / "addons" / name / "__manifest__.py").read_text(encoding="utf-8"))
    for dep in manifest["depends"]:
        assert dep == "core" or dep in IN_TREE, f"{name} depends on unknown {dep}"
    for part in ("DESCRIPTION", "CONFIGURE", "USAGE"):
        assert (ROOT / "addons" / name / "readme" / f"{part}.md").is_file()
    assert (ROOT / "addons" / name / manifest.get("icon", "static/description/icon.svg")).is_file()


@pytest.fixture
def addons():
    return IN_TREE


def test_all_addons_load_and_hooks_are_known(app):
    reg = registry()
    assert [a.name for a in reg.addons.values() if a.error] == []
    reg.pm.check_pending()
    sandboxes = reg.pm.hook.register_sandbox()
    assert {s.name for s in sandboxes} == set(IN_TREE)


def test_migrations_match_models(app):
    """Upgrading an empty database to every head gives exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    from core.extensions import db

    import logging

    connector_log = logging.getLogger("oms.connectors.probe")  # a logger that exists before
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
    assert not connector_log.disabled  # migrating in a process keeps that process's logs
