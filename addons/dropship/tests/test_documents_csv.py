"""The purchase-order CSV a supplier opens in a spreadsheet never runs a formula."""
from __future__ import annotations

import csv
import io

from addons.dropship.documents import csv_bytes


def test_purchase_order_csv_cells_are_inert():
    payload = {"reference": "PO-1", "order_number": "=1+1", "currency": "EUR",
               "ship_to": {"name": '=HYPERLINK("http://evil.example")', "city": "@Paris", "phone": "+33612345678"},
               "lines": [{"supplier_sku": "-SKU", "sku": "MUG", "title": "\tMug", "quantity": 2,
                          "unit_cost": "-3.50"}]}
    rows = list(csv.reader(io.StringIO(csv_bytes([payload]).decode("utf-8-sig")), delimiter=";"))
    line = dict(zip(rows[0], rows[1]))
    assert line["order_number"] == "'=1+1"
    assert line["ship_to_name"] == "'=HYPERLINK(\"http://evil.example\")"
    assert line["ship_to_city"] == "'@Paris" and line["ship_to_phone"] == "'+33612345678"
    assert line["supplier_sku"] == "'-SKU" and line["title"] == "'\tMug"
    assert line["unit_cost"] == "-3.50" and line["quantity"] == "2"
