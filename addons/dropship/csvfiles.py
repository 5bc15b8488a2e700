"""Reading the CSV files suppliers and merchants upload (tracking, stock feeds): UTF-8 (with
or without BOM) or Windows-1252, separated by commas, semicolons or tabs, headers matched
without regard to case or surrounding spaces."""
from __future__ import annotations

import csv
import io

from core.inputs import InputError, read_text_file
from core.i18n import _

MAX_ROWS = 50_000


class CsvFileError(ValueError):
    """The file cannot be read at all (reported on its ``line``)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def decode(content: bytes) -> str:
    """The file's text; a binary file, NUL bytes or a file too large: CsvFileError."""
    try:
        return read_text_file(content)
    except InputError as exc:
        raise CsvFileError(str(exc)) from None


def read_csv(content: bytes, *, required: tuple[str, ...],
             alternatives: dict[str, tuple[str, ...]] | None = None) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each non-empty row, keys being the lower-case headers.

    ``required`` columns must be there; ``alternatives`` maps a required name to other
    accepted headers (``{"supplier_sku": ("sku",)}``). Raises CsvFileError.
    """
    text = decode(content)
    if not text.strip():
        raise CsvFileError("fichier vide")
    first = text.splitlines()[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise CsvFileError(_("en-tête illisible : %(exc)s", exc=exc)) from None
    names = list(header)
    for wanted in required:
        if wanted in names:
            continue
        other = next((alt for alt in (alternatives or {}).get(wanted, ()) if alt in names), None)
        if other is None:
            accepted = " ou ".join((wanted, *(alternatives or {}).get(wanted, ())))
            raise CsvFileError(f"colonne manquante : {accepted} (colonnes lues : {', '.join(names) or 'aucune'})")
        names[names.index(other)] = wanted
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFileError(_("plus de %(max_rows)s lignes : découpez le fichier", max_rows=MAX_ROWS), reader.line_num)
            rows.append((reader.line_num, {name: (values[i].strip() if i < len(values) else "")
                                           for i, name in enumerate(names) if name}))
    except csv.Error as exc:
        raise CsvFileError(f"ligne illisible : {exc}", reader.line_num) from None
    return rows
