"""Pinned dependencies: every install takes its versions from constraints.txt, and the
emulator-only packages (the ``sandbox`` extra) are not needed to run the OMS."""
from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirement_name(line: str) -> str:
    return re.split(r"[\[<>=!~; ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt pins exact versions: {line}"
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def _setup() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def test_every_dependency_is_pinned():
    cfg, pins = _setup(), _pins()
    wanted = [line for line in cfg["options"]["install_requires"].splitlines() if line.strip()]
    for extra in ("sandbox", "dev"):
        wanted += [line for line in cfg["options.extras_require"][extra].splitlines() if line.strip()]
    missing = [line for line in wanted if _requirement_name(line) not in pins]
    assert missing == []


def test_make_installs_from_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all("-c constraints.txt" in line for line in installs)
    assert "$(PIP) -e '.[sandbox]'" in makefile and "$(PIP) -e '.[dev,sandbox]'" in makefile


def test_graphql_core_is_an_emulator_only_dependency():
    cfg = _setup()
    assert "graphql-core" not in cfg["options"]["install_requires"]
    assert "graphql-core" in cfg["options.extras_require"]["sandbox"]


def test_the_app_starts_and_serves_without_the_sandbox_extra(tmp_path):
    """Every add-on loaded, no emulator mounted, ``graphql`` not importable: pages answer."""
    script = f"""
import sys
sys.modules["graphql"] = None  # as if the sandbox extra were not installed
from core.app import create_app
from core.extensions import db
app = create_app({{"TESTING": True, "SECRET_KEY": "k", "JOBS_MODE": "manual", "REDIS_URL": None,
                  "SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path / 'oms.db'}",
                  "ADDONS": ["shopify", "amazon", "sendcloud", "dropship"]}})
with app.app_context():
    db.create_all()
client = app.test_client()
assert client.get("/login").status_code == 200
assert client.post("/apps/shopify/webhooks", data=b"{{}}").status_code == 401
assert "graphql" not in [m for m in sys.modules if sys.modules[m] is not None]
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
