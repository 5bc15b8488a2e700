"""What a scanner reads: GTIN codes (EAN-8, UPC-A, EAN-13, GTIN-14) checked by their check
digit, other codes (Code 128) taken as they are, and whether a code names a variant.

A numeric code of a GTIN length must have a valid check digit; UPC-A ``036000291452`` and
EAN-13 ``0036000291452`` are the same item (compared as 14 digits). Keyboard-wedge scanners
may send a symbology prefix (``]E0``, ``]C1``…) and control characters: they are dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .models import Variant

GTIN_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}
#: symbology identifiers some scanners send before the data (``]E0`` EAN/UPC, ``]C1`` GS1-128…)
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


def _digits(text: str) -> bool:
    """ASCII digits only: ``²`` or ``١٢`` count as digits for ``str.isdigit`` but a scanner
    never sends them."""
    return text.isascii() and text.isdigit()


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of ``body`` (every digit but the last): weights 3 and 1 from the right."""
    if not _digits(body):
        raise ValueError("a GTIN holds digits only")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    """EAN-8, UPC-A, EAN-13 or GTIN-14 with a correct check digit."""
    return _digits(code) and len(code) in GTIN_LENGTHS and gtin_check_digit(code[:-1]) == int(code[-1])


def clean_scan(raw: str) -> str:
    """What a keyboard-wedge scanner typed, without its symbology prefix and control characters."""
    code = "".join(ch for ch in raw if ch.isprintable()).strip()
    return _AIM_PREFIX.sub("", code).strip()


def gtin_key(code: str) -> str | None:
    """A GTIN as 14 digits (UPC-A 036000291452 and EAN-13 0036000291452 are the same item)."""
    return code.zfill(14) if is_valid_gtin(code) else None


@dataclass(frozen=True)
class ScanCode:
    value: str
    symbology: str  # EAN-13, UPC-A, EAN-8, GTIN-14 or Code 128
    valid: bool
    gtin: str | None = None


def read_code(raw: str) -> ScanCode:
    code = clean_scan(raw)
    if _digits(code) and len(code) in GTIN_LENGTHS:
        return ScanCode(code, GTIN_LENGTHS[len(code)], is_valid_gtin(code), gtin_key(code))
    return ScanCode(code, "Code 128", bool(code))


def code_matches(code: ScanCode, variant: Variant) -> bool:
    if code.value.casefold() == (variant.sku or "").casefold():
        return True
    barcode = (variant.barcode or "").strip()
    if not barcode:
        return False
    if code.gtin and gtin_key(barcode):
        return code.gtin == gtin_key(barcode)
    return code.value.casefold() == barcode.casefold()
