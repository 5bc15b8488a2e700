"""The English catalogue translates every French string the sources mark for translation.

Extraction runs exactly as babel.cfg documents it (same mapping, same keywords), into a
temporary template, so a string added to a template or a Python file without its English
version fails here, with the list of what is missing.
"""
from __future__ import annotations

import ast
import builtins
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
BABEL_CFG = ROOT / "babel.cfg"
ENGLISH_PO = ROOT / "core" / "translations" / "en" / "LC_MESSAGES" / "messages.po"

#: printf-style placeholders as Python's % operator reads them, %% included
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
#: str.format placeholders ({name}, {0}, {name!r:>10})
BRACES = re.compile(r"\{[A-Za-z_0-9.\[\]]*(?:![rsa])?(?::[^{}]*)?\}")
#: HTML elements that may appear inside a message (not "<clé>"-style prose)
HTML_TAGS = ("a", "abbr", "b", "br", "code", "em", "i", "kbd", "mark", "p", "small", "span", "strong",
             "sub", "sup", "time", "u")
TAG = re.compile(r"</?(%s)\b[^<>]*>" % "|".join(HTML_TAGS))


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path


def _found(pattern: re.Pattern, text: str) -> Counter:
    """The placeholders (or tag names, for TAG) of text, with their counts."""
    if pattern is TAG:
        return Counter(m.group(0).split()[0].rstrip("/>") for m in pattern.finditer(text))
    return Counter(m.group(0) for m in pattern.finditer(text))


def _short(msgid) -> str:
    text = msgid if isinstance(msgid, str) else " | ".join(msgid)
    return text if len(text) <= 140 else text[:137] + "..."


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory) -> dict:
    """msgid -> locations, for every string the sources mark for translation."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(BABEL_CFG), "-o", str(pot),
                                "--no-wrap", str(ROOT)])
    with pot.open("rb") as fh:
        template = read_po(fh)
    return {m.id: [(_relative(path), line) for path, line in m.locations] for m in template if m.id}


@pytest.fixture(scope="module")
def english():
    with ENGLISH_PO.open("rb") as fh:
        return read_po(fh, locale="en")


def _forms(message) -> list[tuple[str, str]]:
    """(source, translation) pairs: one per plural form, the singular for form 0."""
    if isinstance(message.id, str):
        return [(message.id, message.string or "")]
    strings = list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]
    return [(message.id[0] if i == 0 else message.id[1], s or "") for i, s in enumerate(strings)]


def test_every_source_string_has_an_english_translation(source_messages, english):
    assert len(source_messages) > 100, "extraction found almost nothing: is babel.cfg still read?"
    missing, empty, fuzzy = [], [], []
    for msgid, locations in source_messages.items():
        where = " ".join(f"{path}:{line}" for path, line in locations[:2])
        message = english.get(msgid)
        if message is None:
            missing.append(f"  {_short(msgid)!r}  ({where})")
        elif not all(translation.strip() for _, translation in _forms(message)):
            empty.append(f"  {_short(msgid)!r}  ({where})")
        elif message.fuzzy:
            fuzzy.append(f"  {_short(msgid)!r}  ({where})")
    problems = []
    if missing:
        problems.append(f"{len(missing)} msgid(s) missing from {ENGLISH_PO.relative_to(ROOT)}:\n" + "\n".join(missing))
    if empty:
        problems.append(f"{len(empty)} msgid(s) with an empty msgstr:\n" + "\n".join(empty))
    if fuzzy:
        problems.append(f"{len(fuzzy)} msgid(s) still flagged fuzzy:\n" + "\n".join(fuzzy))
    if problems:
        problems.append("Run the commands at the top of babel.cfg (extract, update), translate, then compile.")
    assert not problems, "\n\n".join(problems)


def test_english_translations_keep_placeholders_and_tags(english):
    wrong = []
    for message in english:
        if not message.id:
            continue
        for source, translation in _forms(message):
            if not translation:
                continue  # reported by the test above when the source still uses it
            for kind, pattern in (("placeholders", PERCENT), ("format fields", BRACES), ("HTML tags", TAG)):
                want, got = _found(pattern, source), _found(pattern, translation)
                if want != got:
                    wrong.append(f"  {_short(source)!r} -> {_short(translation)!r}: {kind} "
                                 f"{sorted(want.elements())} vs {sorted(got.elements())}")
        # the checks `pybabel compile` runs (format strings, number of plural forms)
        for error in message.check(english):
            wrong.append(f"  {_short(message.id)!r}: {error}")
    assert not wrong, f"{len(wrong)} translation(s) that do not match their source:\n" + "\n".join(wrong)


# ----------------------------------------------------------------------------- raised messages
#: what makes a message French, hence a merchant's (docs/i18n.md): accented letters or French
#: quotes, an elided article ("l'adresse", "n'a", "qu'il"), or two common French words
FRENCH_LETTERS = re.compile(r"[àâäçéèêëîïôöùûüÿœæÀÂÇÉÈÊËÎÏÔÙÛÜŒ«»]")
FRENCH_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu)'\w", re.I)
#: words that are French and not English (one is enough), and common French words (two are)
FRENCH_ONLY = re.compile(r"\b(?:le|les|des|du|une|et|est|sont|pas|pour|avec|dans|aucun|aucune|votre|vos|cette|ces|"
                         r"au|aux|puis|sans|de|en|ou|un|ne)\b")
FRENCH_WORDS = re.compile(r"\b(?:la|sur|par|doit|peut|trop|entre|commande|commandes|boutique|introuvable|impossible|"
                          r"inconnu|inconnue|renseignez|manquant|manquante|invalide)\b", re.I)
#: the functions that mark a message for translation (babel.cfg's keywords and babel's own)
MARKERS = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "pgettext", "npgettext", "N_"}
#: the exceptions Python defines, from which the project's own are found
BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)}


def _is_french(text: str) -> bool:
    text = re.sub(r"<[^<>]*>|https?://\S*", " ", text)  # markup (an SVG's attributes) and addresses are not prose
    return bool(FRENCH_LETTERS.search(text) or FRENCH_ELISION.search(text) or FRENCH_ONLY.search(text)
                or len(FRENCH_WORDS.findall(text)) >= 2)


def _literal_text(node: ast.AST) -> str | None:
    """The text of a string literal, an f-string or a concatenation of them; None otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        left, right = _literal_text(node.left), _literal_text(node.right)
        return None if left is None and right is None else (left or "") + (right or "")
    return None


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _swept_files() -> list[Path]:
    """core and the add-ons, less their tests, migrations and emulators (which speak the
    vendor's words)."""
    files = sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "addons").rglob("*.py")])
    return [p for p in files if not {"tests", "migrations"} & set(p.relative_to(ROOT).parts)
            and not p.name.startswith("sandbox")]


def _exception_names(trees: dict[Path, ast.Module]) -> set[str]:
    """Every exception class the sources define (a base is an exception, to a fixed point)."""
    names = set(BUILTIN_EXCEPTIONS)
    classes = [node for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    while True:
        found = {c.name for c in classes if c.name not in names and any(
            (b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "")) in names for b in c.bases)}
        if not found:
            return names
        names |= found


#: what writes an order's history or hold reason: the position of the text
POSITIONS = {"record": 2, "hold": 2, "decide": 2}


def _message_arguments(tree: ast.Module, exceptions: set[str]):
    """(node, text) for each literal given as a message to an exception (in a ``raise``, to an
    exception's constructor anywhere, ``error_from`` which builds one, or ``super().__init__`` in
    an exception class), written to an order's history, hold reason or a ``reason=``, given to
    a connection test's answer, or returned by a function (a job's result, the helpers that
    build it)."""
    inits = set()
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef) and cls.name in exceptions:
            inits |= {id(n) for n in ast.walk(cls) if isinstance(n, ast.Call) and _callee(n) == "__init__"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _callee(node) in MARKERS:
            continue
        name = _callee(node)
        if name in exceptions or name == "error_from" or id(node) in inits:
            given = [*node.args, *(k.value for k in node.keywords if k.arg in ("message", "msg", "detail"))]
        elif name == "ConnectionResult":
            given = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "message")]
        elif name in POSITIONS and len(node.args) > POSITIONS[name]:
            given = [node.args[POSITIONS[name]]]
        else:
            given = []
        given += [k.value for k in node.keywords if k.arg == "reason"]
        for arg in given:
            text = _literal_text(arg)
            if text is not None:
                yield arg, text
    for node in ast.walk(tree):  # a job's result is its sync-log line, and helpers build those lines
        if isinstance(node, ast.Return) and node.value is not None:
            text = _literal_text(node.value)
            if text is not None:
                yield node.value, text


def test_every_french_message_raised_goes_through_gettext():
    """A French message handed to an exception reaches a merchant (a page, a flash, the CLI, a
    stored error): it is written ``_("… %(name)s …", name=…)`` so that it is extracted into the
    catalogue and shown in the reader's language. Internal messages are written in English."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in _swept_files()}
    exceptions = _exception_names(trees)
    offenders = [f"  {_relative(str(path))}:{arg.lineno}: {_short(text)!r}"
                 for path, tree in trees.items()
                 for arg, text in _message_arguments(tree, exceptions)
                 if _is_french(text)]
    assert len(trees) > 100 and len(exceptions) > len(BUILTIN_EXCEPTIONS) + 20, "the sweep found almost nothing"
    assert not offenders, (f"{len(offenders)} French message(s) raised without gettext (wrap each in _() with "
                           f"%(name)s placeholders; see docs/i18n.md):\n" + "\n".join(offenders))


@pytest.mark.parametrize("text, french", [
    ("la commande n'existe pas", True), ("Colis trop lourd pour le transporteur", True), ("Adresse du destinataire incomplète", True),
    ("boutique {} introuvable", True), ("unknown job kind {}", False), ("naive datetime: use an aware UTC datetime", False),
    ("add-on {} depends on {}, which is not installed", False), ("Trop de redirections en suivant l'adresse", True),
    ('<text font-family="system-ui, sans-serif">{}</text>', False), ("Rupture de stock : ", True),
    ("https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition={}", False),
])
def test_the_sweep_tells_french_from_english(text, french):
    assert _is_french(text) is french


def test_no_function_hides_the_message_marker():
    """``first, _, last = text.partition(" ")`` in a function that also marks a message makes
    ``_("…")`` call a string: each such function is listed."""
    hidden = []
    for path in _swept_files():
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            nodes = list(ast.walk(function))
            binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) for n in nodes)
            calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in nodes)
            if binds and calls:
                hidden.append(f"  {_relative(str(path))}:{function.lineno} {function.name}")
    assert not hidden, "functions that assign `_` and call `_()`:\n" + "\n".join(hidden)
