"""Add-ons' own translation catalogues.

Core's strings are translated by ``core/translations``. An add-on that is not part of this
repository (a partner's distribution) ships its own catalogue beside its manifest::

    oms_addon_acme/translations/en/LC_MESSAGES/messages.po

Only the ``.po`` is needed: it is compiled when the app starts, into a directory of the
process's own, and read again when it changes, so a partner's package needs no build step
and its install directory may be read-only. Catalogues are merged with core's, core's
last: an add-on translates its own strings and cannot change the wording of core's.
"""
from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path
from typing import Iterable

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app
from flask_babel import Domain

log = logging.getLogger(__name__)
DOMAIN = "messages"
_lock = threading.Lock()
_compiled: dict[Path, tuple[float, Path]] = {}
_root: Path | None = None


def _workdir() -> Path:
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="oms-i18n-"))
    return _root


def compiled_directory(name: str, translations: Path) -> Path | None:
    """A translations directory for ``name`` holding a ``.mo`` for every ``.po`` under
    ``translations`` (compiled again when a ``.po`` changed); None when it has none."""
    catalogues = sorted(translations.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    if not catalogues:
        return None
    target = _workdir() / name
    with _lock:
        for po in catalogues:
            stamp = po.stat().st_mtime
            known = _compiled.get(po)
            if known is not None and known[0] == stamp:
                continue
            mo = target / po.relative_to(translations).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            try:
                with po.open("rb") as fh:
                    catalogue = read_po(fh, locale=po.parts[-3])
                with mo.open("wb") as fh:
                    write_mo(fh, catalogue, use_fuzzy=False)
            except Exception as exc:  # a broken catalogue leaves the add-on's strings in French
                log.warning("translations of add-on %s not loaded from %s: %s", name, po, exc)
                continue
            _compiled[po] = (stamp, mo)
    return target


def addon_directories(addons: Iterable) -> list[str]:
    """The compiled translation directories of the loaded add-ons that ship a catalogue."""
    found = []
    for addon in addons:
        path = getattr(addon, "path", None)
        if path is None or not (path / "translations").is_dir():
            continue
        directory = compiled_directory(addon.name, path / "translations")
        if directory is not None:
            found.append(str(directory))
    return found


class PerAppDomain(Domain):
    """Flask-Babel's default domain keeps one cache of loaded catalogues for the whole
    process; each app keeps its own here, since apps with other add-ons have other
    catalogues (tests and the CLI build several apps in one process)."""

    def get_translations_cache(self, ctx):
        return current_app.extensions.setdefault("oms_translations", {})


def install(babel, app, addons: Iterable) -> None:
    """Add the add-ons' catalogues to ``app`` (partners' first, core's last: core's wording
    wins) and give the app its own cache of loaded catalogues."""
    babel.__dict__["domain_instance"] = PerAppDomain(domain=app.extensions["babel"].default_domain)
    app.extensions["babel"].translation_directories[:0] = addon_directories(addons)
