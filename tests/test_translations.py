"""The English catalogue translates every French string the sources mark for translation.

Extraction runs exactly as babel.cfg documents it (same mapping, same keywords), into a
temporary template, so a string added to a template or a Python file without its English
version fails here, with the list of what is missing.
"""
from __future__ import annotations

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
