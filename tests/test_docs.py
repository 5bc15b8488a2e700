"""Every hook is documented in docs/hooks.md under its exact, current signature, and every
hook the code fires exists."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
SPECS = {name: fn for name, fn in vars(hookspecs).items()
         if inspect.isfunction(fn) and hasattr(fn, "oms_spec")}


def test_specs_found():
    assert len(SPECS) >= 15


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_documented_with_signature(name):
    fn = SPECS[name]
    signature = f"{name}({', '.join(inspect.signature(fn).parameters)})"
    assert f"### `{signature}`" in DOC, f"docs/hooks.md lacks the heading ### `{signature}`"
    assert fn.__doc__ and ":return:" in fn.__doc__, f"{name} docstring must say what it returns"
    if fn.oms_spec.get("firstresult"):
        assert "Stops at the first non-None result" in fn.__doc__


def test_no_stale_headings():
    documented = set(re.findall(r"^### `(\w+)\(", DOC, flags=re.M))
    assert documented == set(SPECS), f"stale: {documented - set(SPECS)}, missing: {set(SPECS) - documented}"


def test_every_fired_hook_exists():
    fired = set()
    for path in list((ROOT / "core").rglob("*.py")) + list((ROOT / "addons").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        fired |= set(re.findall(r"pm\.hook\.(\w+)\(", text))
        # core's call(shop, "hook"), not a client's own .call(service, "operation")
        fired |= set(re.findall(r"(?<![.\w])call\(\s*[\w.]+,\s*\"(\w+)\"", text))
        fired |= set(re.findall(r"call_one\(\s*[\w.]+,\s*\"(\w+)\"", text))
    assert fired, "no hook call found: the scan is broken"
    assert fired <= set(SPECS), f"undeclared hooks fired: {fired - set(SPECS)}"
