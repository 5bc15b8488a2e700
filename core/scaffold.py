"""``oms addons new NAME --kind channel|carrier|fulfilment``: a separate, pip-installable
add-on package (``oms-addon-NAME``) with its manifest, entry point, hooks, settings form,
jobs, model and migration branch, emulator and passing tests.

The generated add-on stands on core's connector kit (``core.connectors``): its client on
``HttpClient`` with a ``Remote`` and a ``RemoteError`` subclass, its emulator on the emulator
base, and, for a channel, the order sync on the ``Poller`` and a webhook endpoint on the
``WebhookInbox``."""
from __future__ import annotations

import re
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent / "scaffold_templates"
KINDS = {
    "channel": ("marketplace", "Vendez sur ce canal : commandes, stock et suivi synchronisés",
                "https://api.example-marketplace.com/v1"),
    "carrier": ("carrier", "Étiquettes, tarifs et suivi de ce transporteur", "https://api.example-carrier.com/v1"),
    "fulfilment": ("dropshipping", "Ce partenaire expédie pour vous les produits qu'il fournit",
                   "https://api.example-partner.com/v1"),
}
#: generated path → template (``{pkg}`` is the Python package, ``{name}`` the add-on name)
FILES = {
    "pyproject.toml": "common_pyproject.toml",
    "README.md": "common_README.md",
    "{pkg}/__init__.py": "common___init__.py",
    "{pkg}/__manifest__.py": "common___manifest__.py",
    "{pkg}/forms.py": "common_forms.py",
    "{pkg}/client.py": "common_client.py",
    "{pkg}/models.py": "common_models.py",
    "{pkg}/hooks.py": "{kind}_hooks.py",
    "{pkg}/jobs.py": "{kind}_jobs.py",
    "{pkg}/sandbox.py": "{kind}_sandbox.py",
    "{pkg}/migrations/{name}_0001_initial.py": "common_migration.py",
    "{pkg}/readme/DESCRIPTION.md": "common_DESCRIPTION.md",
    "{pkg}/readme/CONFIGURE.md": "common_CONFIGURE.md",
    "{pkg}/readme/USAGE.md": "common_USAGE.md",
    "{pkg}/static/description/icon.svg": "common_icon.svg",
    "{pkg}/translations/en/LC_MESSAGES/messages.po": "common_messages.po",
    "babel.cfg": "common_babel.cfg",
    "tests/__init__.py": None,
    "tests/conftest.py": "common_conftest.py",
    "tests/test_{name}.py": "{kind}_test.py",
    "tests/test_client.py": "common_test_client.py",
    "tests/test_translations.py": "common_test_translations.py",
}
#: files only some kinds have
KIND_FILES = {
    "channel": {
        "{pkg}/forms.py": "channel_forms.py",
        "{pkg}/readme/CONFIGURE.md": "channel_CONFIGURE.md",
        "{pkg}/normalize.py": "channel_normalize.py",
        "{pkg}/inbox.py": "channel_inbox.py",
        "{pkg}/views.py": "channel_views.py",
        "{pkg}/templates/{name}/shop.html": "channel_shop.html",
        "tests/test_webhooks.py": "channel_test_webhooks.py",
    },
}
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class ScaffoldError(ValueError):
    pass


def new_addon(name: str, kind: str, directory: Path, *, title: str | None = None, author: str = "") -> Path:
    """Write ``oms-addon-<name>/`` under ``directory``; return its path."""
    if not NAME.match(name):
        raise ScaffoldError("the name must be lowercase snake_case (letters, digits, _), e.g. colissimo")
    if kind not in KINDS:
        raise ScaffoldError(f"kind must be one of {', '.join(KINDS)}")
    root = Path(directory) / f"oms-addon-{name.replace('_', '-')}"
    if root.exists():
        raise ScaffoldError(f"{root} already exists")
    category, summary, base_url = KINDS[kind]
    title = title or name.replace("_", " ").title()
    values = {"name": name, "kind": kind, "title": title, "summary": summary, "category": category,
              "author": author or f"{title} maintainers", "default_base_url": base_url,
              "host": urlsplit(base_url).hostname,
              "Class": "".join(part.title() for part in name.split("_")),
              "initials": "".join(p[0] for p in title.split()[:2]).upper()[:2] or name[:2].upper()}
    pkg = f"oms_addon_{name}"
    for target, source in {**FILES, **KIND_FILES.get(kind, {})}.items():
        path = root / target.format(pkg=pkg, name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            path.write_text("", encoding="utf-8")
            continue
        template = (HERE / (source.format(kind=kind) + ".tmpl")).read_text(encoding="utf-8")
        path.write_text(Template(template).substitute(values), encoding="utf-8")
    return root
