"""A supplier feed with a bad row keeps its good rows; an unreadable file is refused whole,
with a reason the merchant can act on, and nothing else is lost."""
from __future__ import annotations

import io

from sqlalchemy import select

from addons.dropship.feeds import apply_feed
from addons.dropship.models import DropshipFeedRun
from core.extensions import db
from core.models import StockLevel
from tests.pipeline_helpers import variant

from .conftest import link


def _on_hand(variant_id: int, warehouse_id: int) -> int | None:
    return db.session.scalar(select(StockLevel.on_hand).where(StockLevel.variant_id == variant_id,
                                                              StockLevel.warehouse_id == warehouse_id))


def test_one_bad_row_never_aborts_the_feed(app, org, make_supplier):
    supplier, _ = make_supplier()
    skus = ["A", "B", "C", "D", "E", "F", "G", "H"]
    variants = {s: variant(org.id, f"SKU-{s}") for s in skus}
    for s, v in variants.items():
        link(supplier, v, f"SUP-{s}", "1.00")
    content = ("sku;quantity;cost\n"
               "SUP-A;5;\n"
               "SUP-B;²;\n"                      # a Unicode digit is no quantity
               "SUP-C;99999999999999999999;\n"   # beyond the stock column
               "SUP-D;7;1e400\n"                 # a cost beyond every column
               "SUP-E;3;NaN\n"
               "SUP-F;4;Infinity\n"
               "SUP-G;١٢;\n"                     # Arabic-Indic digits
               "SUP-H;9;2,50\n").encode()
    run = apply_feed(supplier, content, source="upload")
    db.session.commit()
    assert run.error is None and run.ok_rows == 2
    assert [e["line"] for e in run.errors] == [3, 4, 5, 6, 7, 8]
    assert run.errors[0]["reason"] == "quantité invalide : « ² »"
    assert run.errors[2]["reason"] == "coût invalide : « 1e400 »"
    assert _on_hand(variants["A"].id, supplier.warehouse_id) == 5
    assert _on_hand(variants["H"].id, supplier.warehouse_id) == 9
    assert all(_on_hand(variants[s].id, supplier.warehouse_id) is None for s in "BCDEFG")


def test_binary_and_nul_files_refused_with_a_reason(app, client, login, post_form, shop, org, make_supplier):
    supplier, _ = make_supplier()
    login(client)
    for content, reason in ((b"sku;quantity\nSUP\x00;1\n", "octets nuls"),
                            (b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "classeur"),
                            (b"\x89PNG\r\n\x1a\n" + bytes(range(1, 32)) * 4, "caractères de contrôle")):
        res = post_form(f"/apps/dropship/suppliers/{supplier.id}/feed", page="/apps/dropship/feeds",
                        data={"file": (io.BytesIO(content), "stock.csv")}, content_type="multipart/form-data",
                        follow_redirects=True)
        assert res.status_code == 200
        assert reason in res.get_data(as_text=True)
    runs = list(db.session.scalars(select(DropshipFeedRun).order_by(DropshipFeedRun.id)))
    assert len(runs) == 3 and all(r.ok_rows == 0 and r.error for r in runs)
