"""Markdown for merchants' eyes: the add-ons' readmes and the help centre.

Rendered with markdown-it-py in CommonMark mode plus tables, with raw HTML off (any ``<tag>``
in the text is shown as text, never run) and markdown-it's link check (``javascript:``,
``vbscript:``, ``file:`` and non-image ``data:`` links are not made into links). The result
is safe to put in a page as it is.
"""
from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

    def link_open(self, tokens, idx, options, env):  # links leaving the product open in a new tab
        href = str(tokens[idx].attrGet("href") or "")
        if href.startswith(("http://", "https://")):
            tokens[idx].attrSet("rel", "noopener noreferrer")
            tokens[idx].attrSet("target", "_blank")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


def render(text: str) -> Markup:
    return Markup(_parser().render(text or ""))  # noqa: S704 - html is off: the output is escaped


_MARKUP = re.compile(r"[`*_#>|\[\]()]|^-{3,}$|^\s*[-+]\s", re.MULTILINE)


def plain(text: str) -> str:
    """The words of a Markdown text, for search and snippets."""
    return re.sub(r"\s+", " ", _MARKUP.sub(" ", text or "")).strip()
