"""Input from merchants, suppliers and remotes, checked against its real range before any
query: ids within the integer columns, ASCII digits only (``²`` or ``١٢`` are digits to
Python's ``str.isdigit`` but no number), quantities and money within their columns, finite
numbers only, dates of this era, text files that are text."""
from __future__ import annotations

import json
import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from .i18n import _

#: the largest value of an INTEGER column (PostgreSQL ``integer``, the ids' type)
INT_MAX = 2**31 - 1
#: quantities of stock and order lines
QTY_MAX = 10_000_000
#: dates a filter or a form may ask for
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)

_ASCII_INT = re.compile(r"[+-]?[0-9]+")


class InputError(ValueError):
    """Input refused; the message is French and shown as is to the merchant."""


def parse_id(value: Any) -> int | None:
    """A row id (1 .. INT_MAX) from a URL or a form, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= INT_MAX else None
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= INT_MAX else None


def parse_int(value: Any, *, lo: int = -INT_MAX, hi: int = INT_MAX) -> int | None:
    """An integer in ``lo .. hi`` written with ASCII digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if lo <= value <= hi else None
    text = str(value if value is not None else "").strip().replace(" ", "").replace("\u00a0", "")
    if not _ASCII_INT.fullmatch(text) or len(text) > 12:
        return None
    number = int(text)
    return number if lo <= number <= hi else None


def parse_decimal(value: Any, *, max_digits: int = 12, places: int = 2, lo: Decimal | None = None,
                  hi: Decimal | None = None) -> Decimal | None:
    """A finite decimal that fits ``Numeric(max_digits, places)`` (and ``lo .. hi``), else None.
    Accepts the French comma."""
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value if value is not None else "").strip().replace(" ", "").replace("\u00a0", "")
        text = text.replace(",", ".")
        if not text.isascii() or not re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)", text):
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    if not number.is_finite():
        return None
    if abs(number) >= Decimal(10) ** (max_digits - places):
        return None
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        return None
    return number


def in_date_range(day: date | None) -> bool:
    return day is None or DATE_MIN <= day <= DATE_MAX


# ----------------------------------------------------------------------------- text files
#: the largest CSV a merchant or a supplier may upload
UPLOAD_MAX_BYTES = 10 * 1024 * 1024


def read_text_file(content: bytes, *, max_bytes: int = UPLOAD_MAX_BYTES) -> str:
    """The text of an uploaded CSV: UTF-8 (with or without BOM) or Windows-1252. A binary file
    (an image, a spreadsheet saved as .xlsx), NUL bytes or a file too large are refused with a
    message the merchant can act on."""
    if len(content) > max_bytes:
        raise InputError(_("fichier trop volumineux (%(value)s Ko, au plus %(value2)s Mo) : découpez-le",
                           value=len(content) // 1024, value2=max_bytes // (1024 * 1024)))
    if content.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError(_("ce fichier est un classeur (Excel, LibreOffice) : enregistrez-le au format CSV"))
    if b"\x00" in content:
        raise InputError(_("ce fichier n'est pas un texte CSV (octets nuls) : enregistrez-le au format CSV"))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    controls = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\r\n\t")
    if controls:
        raise InputError(_("ce fichier n'est pas un texte CSV (caractères de contrôle) : enregistrez-le au format "
                           "CSV"))
    return text


# ----------------------------------------------------------------------------- JSON bodies
#: nesting deeper than any order, product or notification a marketplace sends
JSON_MAX_DEPTH = 32
#: a signed webhook body (Shopify's payloads reach about 1 MB)
WEBHOOK_MAX_BYTES = 5 * 1024 * 1024


def _refuse_constant(name: str) -> Any:
    raise InputError(_("nombre non fini refusé : %(name)s", name=name))


#: a JSON string (escapes included) and the characters that open or close a level
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKETS = re.compile(r"[\[\]{}]")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise InputError(_("nombre non fini refusé"))
    return value


def _check_nesting(text: str, max_depth: int) -> None:
    """Refuse a text nested deeper than ``max_depth``, read on the text alone: the strings
    taken out, then only the brackets walked (the scan runs at the regex engine's speed;
    a document with fewer brackets than the limit cannot exceed it)."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for char in _JSON_BRACKETS.findall(_JSON_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise InputError(_("document JSON trop imbriqué (plus de %(max_depth)s niveaux)",
                                   max_depth=max_depth))
        else:
            depth -= 1


def checked_json(body: bytes | str, *, max_bytes: int = WEBHOOK_MAX_BYTES,
                 max_depth: int = JSON_MAX_DEPTH) -> Any:
    """The JSON document of a webhook body, refused (InputError) before anything is stored when
    it is too large, nested deeper than ``max_depth``, or holds ``NaN``/``Infinity`` (or a
    number too large to be finite). The depth is measured on the text first, so a hostile
    body never reaches the recursive parser."""
    if len(body) > max_bytes:
        raise InputError(_("document trop volumineux (au plus %(value)s Mo)", value=max_bytes // (1024 * 1024)))
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    _check_nesting(text, max_depth)
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise InputError(f"JSON illisible : {exc.msg} (ligne {exc.lineno})") from None


# ----------------------------------------------------------------------------- query strings
#: the last page a list can ask for (50 rows a page: five million rows)
PAGE_MAX = 100_000


def parse_page(value: Any) -> int:
    """A list's page number from the query string: 1 when missing or out of range."""
    return parse_int(value, lo=1, hi=PAGE_MAX) or 1


def parse_day(value: Any) -> date | None:
    """An ISO date (``2026-03-01``) between DATE_MIN and DATE_MAX, else None."""
    text = str(value or "").strip()
    if not text.isascii() or len(text) != 10:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if in_date_range(day) else None
