"""Add-ons' own translation catalogues, and messages translated where they are shown.

:func:`_` marks a French message and returns a :class:`Deferred`, translated when it is shown
(a page, the CLI) rather than when it is written (a job has no reader); stored in a
:class:`~core.models.base.TranslatableText` column it keeps its msgid and parameters. The rule
for which messages are marked is in docs/i18n.md.

Core's strings are translated by ``core/translations``. An add-on that is not part of this
repository (a partner's distribution) ships its own catalogue beside its manifest::

    oms_addon_acme/translations/en/LC_MESSAGES/messages.po

Only the ``.po`` is needed: it is compiled when the app starts, into a directory of the
process's own, and read again when it changes, so a partner's package needs no build step
and its install directory may be read-only. Catalogues are merged with core's, core's
last: an add-on translates its own strings and cannot change the wording of core's.
"""
from __future__ import annotations

import json
import logging
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterable

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app
from flask_babel import Domain, get_locale, gettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

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


# ----------------------------------------------------------------------------- deferred messages
class Deferred(str):
    """A French message translated when it is shown, not when it is written.

    ``_("Colis trop lourd (%(grams)s g).", grams=31000)`` is this string: its value is the French
    sentence (what equality, ``len`` or a log line see), and ``str()``, formatting, ``%s`` and a
    template render it in the reader's language. Raised in an RQ job and stored in a
    :class:`~core.models.base.TranslatableText` column, it keeps its msgid and parameters
    (:meth:`stored`), so an English reader of the sync log reads English. Parameters that are
    themselves messages (a status, a reason) are translated at display too.
    """

    __slots__ = ("msgid", "params", "english")

    def __new__(cls, msgid: str, params: dict[str, Any] | None = None, english: str | None = None) -> Deferred:
        params = dict(params or {})
        self = super().__new__(cls, _render(msgid, params, str.__str__))
        self.msgid, self.params, self.english = msgid, params, english
        return self

    def __str__(self) -> str:
        if self.english is not None and _reads_english():
            return _render(self.english, self.params, str)
        return _render(gettext(self.msgid), self.params, str)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __html__(self) -> Markup:
        return escape(str(self))

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)

    # what a template filter does to a text (truncate, capitalize…) applies to the shown sentence
    def __getitem__(self, key):
        return str(self)[key]

    def capitalize(self) -> str:
        return str(self).capitalize()

    def upper(self) -> str:
        return str(self).upper()

    def lower(self) -> str:
        return str(self).lower()

    def title(self) -> str:
        return str(self).title()

    def __getnewargs__(self) -> tuple[str, dict[str, Any], str | None]:
        return self.msgid, self.params, self.english

    def __reduce__(self):
        return Deferred, (self.msgid, self.params, self.english)

    def stored(self) -> dict[str, Any]:
        """The JSON form, ``{"msgid": …, "params": {…}}``, nested messages included."""
        out: dict[str, Any] = {"msgid": self.msgid}
        if self.params:
            out["params"] = {k: _stored_param(v) for k, v in self.params.items()}
        if self.english is not None:
            out["en"] = self.english
        return out

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Deferred:
        params = {k: cls.from_stored(v) if isinstance(v, dict) and "msgid" in v else v
                  for k, v in (data.get("params") or {}).items()}
        return cls(str(data["msgid"]), params, data.get("en"))


def _reads_english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def _render(text: str, params: dict[str, Any], as_text) -> str:
    if not params:
        return text
    try:
        return text % {k: as_text(v) if isinstance(v, str) else v for k, v in params.items()}
    except (KeyError, ValueError, TypeError):  # a translation whose placeholders went wrong
        return text


def _stored_param(value: Any) -> Any:
    if isinstance(value, Deferred):
        return value.stored()
    if isinstance(value, LazyString):  # flask-babel's lazy_gettext("…"), as in a labels table
        return {"msgid": value._args[0]} if value._args and not value._kwargs else str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, BaseException) and message_of(value) is not None:  # "échec : %(exc)s"
        return message_of(value).stored()
    return str.__str__(value) if isinstance(value, str) else str(value)


def _(msgid: str, **params: Any) -> Deferred:
    """Mark a French message for translation; it is translated where it is shown (see
    :class:`Deferred`). Placeholders are ``%(name)s``, never an f-string."""
    return Deferred(msgid, params)


def worded(french: str, english: str) -> Deferred:
    """A word its caller gives in both languages (the part of a remote a message names: "l'API
    de suivi" / "tracking API"), for a parameter of a message."""
    return Deferred(french, english=english)


def joined(separator: str, parts: Iterable[str]) -> Deferred:
    """``separator.join(parts)`` that keeps each part translatable (a list of reasons, say)."""
    parts = list(parts)
    msgid = separator.replace("%", "%%").join(f"%(p{i})s" for i in range(len(parts)))
    return Deferred(msgid, {f"p{i}": part for i, part in enumerate(parts)})


#: the sync log's technical line: the exception's class, then its (translatable) message
PREFIXED = "%(kind)s: %(message)s"


def prefixed(kind: str, message: Deferred) -> Deferred:
    return Deferred(PREFIXED, {"kind": kind, "message": message})


def message_of(exc: BaseException) -> Deferred | None:
    """The translatable message an exception carries, if it carries one."""
    message = getattr(exc, "message", None)
    if isinstance(message, Deferred):
        return message
    if len(exc.args) == 1 and isinstance(exc.args[0], Deferred):
        return exc.args[0]
    return None


def load(text: str | None) -> str | None:
    """A stored text as it is read back: a :class:`Deferred` for a stored message, the text
    itself for a plain one (older rows, add-ons that store sentences)."""
    if not text or not text.startswith(STORED_MARK):
        return text
    try:
        data = json.loads(text)
        return Deferred.from_stored(data)
    except (ValueError, KeyError, TypeError):
        return text


def dump(value: str | None) -> str | None:
    """What a stored text column holds for ``value``: the JSON form of a :class:`Deferred`."""
    if isinstance(value, Deferred):
        return json.dumps(value.stored(), ensure_ascii=False, separators=(",", ":"))
    return None if value is None else str.__str__(value) if isinstance(value, str) else str(value)


STORED_MARK = '{"msgid":'
