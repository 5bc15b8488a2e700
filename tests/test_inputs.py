"""Input checked against its real range before any query: ids, numbers, dates, text files and
JSON bodies."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.inputs import (
    INT_MAX,
    InputError,
    checked_json,
    parse_day,
    parse_decimal,
    parse_id,
    parse_int,
    parse_page,
    read_text_file,
)


@pytest.mark.parametrize("raw, expected", [
    ("12", 12), (12, 12), (str(INT_MAX), INT_MAX), (str(INT_MAX + 1), None), ("99999999999999999999", None),
    ("0", None), ("-1", None), ("²", None), ("١٢", None), ("1e3", None), ("", None), (None, None), (True, None),
])
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("-5", -5), ("1 000", 1000), ("²", None), ("١٢", None), ("12.5", None), ("99999999999999999999", None),
])
def test_parse_int(raw, expected):
    assert parse_int(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("12,50", Decimal("12.50")), ("-3.5", Decimal("-3.5")), ("1e400", None), ("Infinity", None), ("NaN", None),
    ("-Infinity", None), ("1" * 20, None), ("²", None), ("", None),
])
def test_parse_decimal(raw, expected):
    assert parse_decimal(raw) == expected


def test_pages_and_days():
    assert parse_page("99999999999999999999") == 1 and parse_page("3") == 3 and parse_page("-2") == 1
    assert parse_day("9999-12-31") is None and parse_day("0001-01-01") is None and parse_day("2026-02-30") is None
    assert parse_day("2026-03-01") == date(2026, 3, 1) and parse_day("２０２６-03-01") is None


def test_text_files():
    assert read_text_file("sku;qté\nMUG;3\n".encode("cp1252")) == "sku;qté\nMUG;3\n"
    assert read_text_file("\ufeffsku\n".encode()) == "sku\n"
    for content, reason in ((b"a\x00b", "octets nuls"), (b"PK\x03\x04rest", "classeur"),
                            (b"\x01\x02\x03\x04", "caractères de contrôle")):
        with pytest.raises(InputError, match=reason):
            read_text_file(content)
    with pytest.raises(InputError, match="trop volumineux"):
        read_text_file(b"x" * 2048, max_bytes=1024)


def test_json_depth_and_non_finite_numbers_refused():
    assert checked_json(b'{"a": [1, 2.5, {"b": null}]}') == {"a": [1, 2.5, {"b": None}]}
    assert checked_json('{"t": "%s\\" ["}' % ("[" * 40)) == {"t": "[" * 40 + '" ['}  # inside a string
    with pytest.raises(InputError, match="imbriqué"):
        checked_json(b"[" * 100_000 + b"]" * 100_000)  # json.loads would raise RecursionError
    for body in (b'{"total": NaN}', b'{"total": Infinity}', b'{"total": -Infinity}', b'{"total": 1e400}'):
        with pytest.raises(InputError, match="non fini"):
            checked_json(body)
    with pytest.raises(InputError, match="volumineux"):
        checked_json(b" " * 2048, max_bytes=1024)
    with pytest.raises(InputError, match="illisible"):
        checked_json(b"{")


@pytest.mark.parametrize("raw", ["²" * 13, "١٢٣٤٥٦٧٨", "A-²-1", "V99999999999999-B1", "０１２３４５６７"])
def test_scans_of_unicode_digits_are_plain_codes(raw):
    from core import picking

    code = picking.read_code(raw)
    assert code.symbology == "Code 128" and code.gtin is None
    assert picking.natural_key(raw)  # sorts without reading ² as a number
    assert picking.parse_bin(raw) is None
