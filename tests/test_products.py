"""The merchant's own catalogue and documents: products created and edited by hand, CSV
imports that write all or nothing, a stock count imported into a warehouse, the orders CSV
for the accountant and the packing slips."""
from __future__ import annotations

import csv
import html
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import stock
from core.extensions import db
from core.intake import ingest
from core.models import Order, Product, StockLevel, Variant
from tests.fixtures import FAKE_ADDONS, csrf_token
from tests.pipeline_helpers import norm, variant, warehouse


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


def _post(client, url: str, data: dict, **kw):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data}, **kw)


def _text(res) -> str:
    return html.unescape(res.get_data(as_text=True))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


FORM = {"product_title": "Tasse en grès", "description": "Faite main", "tags": "cuisine, fragile",
        "images": "https://cdn.exemple.fr/tasse.jpg", "sku": "TASSE-01", "variant_title": "",
        "options": "Couleur=Bleu", "barcode": "4006381333931", "price": "18,50", "currency": "EUR",
        "cost_price": "6.20", "weight_grams": "350", "hs_code": "691200", "country_of_origin": "fr"}


# ----------------------------------------------------------------------------- by hand
def test_a_product_made_in_the_form_appears_everywhere(app, client, login, org):
    login(client, "staff")
    res = _post(client, "/products/new", FORM)
    assert res.status_code == 302, res.get_data(as_text=True)[:400]
    product = db.session.scalar(select(Product))
    v = product.variants[0]
    assert (product.title, product.tags, v.sku, v.barcode, v.price, v.cost_price, v.weight_grams, v.hs_code,
            v.country_of_origin, v.options) == ("Tasse en grès", ["cuisine", "fragile"], "TASSE-01", "4006381333931",
                                                Decimal("18.50"), Decimal("6.20"), 350, "691200", "FR",
                                                {"Couleur": "Bleu"})
    for page in ("/products", f"/products/{product.id}", "/products?q=TASSE"):
        assert "TASSE-01" in client.get(page).get_data(as_text=True)

    # a second variant, then an edit of the first
    res = _post(client, f"/products/{product.id}/variants/new", {**FORM, "sku": "TASSE-02", "barcode": "",
                                                                 "options": "Couleur=Vert"})
    assert res.status_code == 302
    res = _post(client, f"/products/{product.id}/variants/{v.id}/edit", {**FORM, "price": "21"})
    assert res.status_code == 302
    db.session.expire_all()
    assert sorted(x.sku for x in db.session.get(Product, product.id).variants) == ["TASSE-01", "TASSE-02"]
    assert db.session.get(Variant, v.id).price == Decimal("21")


def test_dimensions_in_cm_stored_in_mm_shown_and_exported(app, client, login, org):
    login(client)
    assert _post(client, "/products/new", {**FORM, "dimensions_cm": "30,5 × 20 x 10 cm"}).status_code == 302
    v = db.session.scalar(select(Variant))
    assert (v.length_mm, v.width_mm, v.height_mm) == (305, 200, 100)
    assert "30.5 x 20 x 10 cm" in client.get(f"/products/{v.product_id}").get_data(as_text=True)
    exported = client.get("/products/export.csv").get_data(as_text=True)
    assert exported.splitlines()[0].endswith(";dimensions_cm") and "30.5 x 20 x 10" in exported


@pytest.mark.parametrize("field,value,why", [
    ("barcode", "4006381333932", "clé de contrôle"),
    ("barcode", "40063813339³1", "clé de contrôle"),
    ("sku", "TASSE 01", "sans espace"),
    ("price", "1e400", "n'est pas un montant"),
    ("price", "-3", "hors limites"),
    ("weight_grams", "²", "nombre entier"),
    ("country_of_origin", "France", "deux lettres"),
    ("images", "javascript:alert(1)", "https://"),
    ("dimensions_cm", "30 x 20", "longueur x largeur x hauteur"),
    ("dimensions_cm", "30 x 0 x 10", "entre 0,1 et"),
    ("dimensions_cm", "٣٠ x 20 x 10", "longueur x largeur x hauteur"),
])
def test_the_form_refuses_bad_values_and_writes_nothing(app, client, login, field, value, why):
    login(client)
    res = _post(client, "/products/new", {**FORM, field: value})
    assert res.status_code == 200 and why in _text(res)
    assert _count(Product) == 0


def test_a_sku_or_barcode_is_unique_in_the_catalogue(app, client, login, org):
    variant(org.id, "TASSE-01")
    db.session.commit()
    login(client)
    res = _post(client, "/products/new", FORM)
    assert "existe déjà" in _text(res) and _count(Product) == 1


def test_pickers_cannot_touch_the_catalogue(app, client, login):
    login(client, "picker")
    assert client.get("/products/new").status_code == 403
    assert client.get("/products/import").status_code == 403
    assert client.get("/products/export.csv").status_code == 403


def test_another_organizations_product_is_not_found(app, client, login, make_org):
    other = make_org("Autre")
    product = variant(other.id, "SECRET").product
    db.session.commit()
    login(client)
    assert client.get(f"/products/{product.id}/edit").status_code == 404
    assert _post(client, "/products/new", FORM).status_code == 302  # its SKU does not clash with ours
    assert client.get(f"/products/{product.id}/variants/new").status_code == 404


# ----------------------------------------------------------------------------- CSV
def _csv(rows: list[dict], delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def _upload(client, url: str, content: bytes, **extra):
    return _post(client, url, {"file": (io.BytesIO(content), "import.csv"), **extra},
                 content_type="multipart/form-data")


TEN = [{"sku": f"MUG-{i:02d}", "product_title": "Mug émaillé" if i < 5 else f"Bol {i}", "options": f"Taille={i}",
        "price": "12,90", "cost_price": "4,10", "weight_grams": "420", "barcode": ""} for i in range(10)]


def test_ten_products_imported_after_a_preview_that_writes_nothing(app, client, login):
    login(client)
    res = _upload(client, "/products/import", _csv(TEN, encoding="cp1252"))
    page = _text(res)
    assert "data-import-preview" in page and "10 article(s) à créer" in page
    assert _count(Variant) == 0  # a preview only
    token = csrf_token(client, "/products/import")
    raw = res.get_data(as_text=True)
    content = raw.split('name="content" value="', 1)[1].split('"', 1)[0]
    res = client.post("/products/import", data={"csrf_token": token, "content": html.unescape(content),
                                                "confirm": "1"})
    assert res.status_code == 302
    assert _count(Variant) == 10 and _count(Product) == 6  # the five mugs share one product
    mug = db.session.scalar(select(Variant).where(Variant.sku == "MUG-03"))
    assert mug.product.title == "Mug émaillé" and mug.price == Decimal("12.90") and mug.options == {"Taille": "3"}
    for url in ("/products", "/stock"):
        assert "MUG-03" in client.get(url + "?q=MUG-03").get_data(as_text=True)


def test_one_bad_line_and_nothing_is_imported(app, client, login):
    login(client)
    rows = [dict(r) for r in TEN]
    rows[3]["price"] = "douze"
    rows[7]["sku"] = "MUG-01"
    res = _upload(client, "/products/import", _csv(rows), confirm="1")
    page = _text(res)
    assert "data-import-errors" in page and "data-import-confirm" not in page
    assert "« douze » n'est pas un montant" in page and "déjà présent ligne 3" in page
    assert ">5<" in page and ">9<" in page  # each error with its line number (header is line 1)
    assert _count(Variant) == 0


@pytest.mark.parametrize("content,why", [
    (b"sku;price\x00\x01\x02", "octets binaires"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "octets binaires"),
    (b"nom;prix\nA;1\n", "colonne(s) manquante(s)"),
    (b"", "le fichier est vide"),
])
def test_what_is_not_a_catalogue_csv_is_refused_clearly(app, client, login, content, why):
    login(client)
    res = _upload(client, "/products/import", content)
    assert res.status_code == 200 and why in _text(res)


def test_the_exported_catalogue_imports_back_as_updates(app, client, login, org):
    v = variant(org.id, "=HYPERLINK(\"x\")")
    v.product.title = "@SUM(A1)"
    variant(org.id, "PLAIN")
    db.session.commit()
    login(client)
    body = client.get("/products/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body and "'@SUM(A1)" in body  # formulas exported inert
    plain = "\n".join(line for line in body.lstrip("\ufeff").splitlines() if "HYPERLINK" not in line)
    res = _upload(client, "/products/import", plain.encode("utf-8"))
    assert "0 article(s) à créer, 1 à mettre à jour" in _text(res)


# ----------------------------------------------------------------------------- stock counts
def test_a_stock_count_sets_each_skus_figure_with_its_trace(app, client, login, org):
    wh = warehouse(org.id, "PAR")
    a = variant(org.id, "A", {wh: 3})
    b = variant(org.id, "B", {wh: 10})
    db.session.commit()
    stock.reserve(org.id, b.id, wh.id, 4)
    db.session.commit()
    login(client)
    bad = _upload(client, "/stock/import", b"sku;quantity\nA;7\nZZZ;1\nB;2\n", warehouse_id=str(wh.id))
    page = _text(bad)
    assert "ZZZ" in page and "inconnu" in page and "déjà réservé" in page
    assert stock.level(a.id, wh.id).on_hand == 3  # nothing applied
    res = _upload(client, "/stock/import", b"sku;quantity\nA;7\nB;12\n", warehouse_id=str(wh.id), confirm="1")
    assert res.status_code == 302
    db.session.expire_all()
    assert (stock.level(a.id, wh.id).on_hand, stock.level(b.id, wh.id).on_hand) == (7, 12)
    assert db.session.scalar(select(StockLevel.reserved).where(StockLevel.variant_id == b.id)) == 4


# ----------------------------------------------------------------------------- orders
def test_orders_export_has_the_accountants_columns(app, client, login, org, shop_factory):
    shop = shop_factory("beta", "Boutique Beta")
    wh = warehouse(org.id, "PAR")
    variant(org.id, "MUG", {wh: 10})
    db.session.commit()
    first_id = ingest(shop, norm("1", [("MUG", 2)], tax_total=Decimal("3.33"),
                                 shipping_total=Decimal("4.90"))).order_id
    ingest(shop, norm("2", [("MUG", 1)], country="BE", email="autre@exemple.fr"))
    db.session.get(Order, first_id).customer.name = '=HYPERLINK("http://evil.example/")'
    db.session.commit()
    login(client, "staff")
    body = client.get("/orders/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    assert sorted(r["numero"] for r in rows) == ["#1", "#2"]
    first = next(r for r in rows if r["numero"] == "#1")
    assert (first["total_ttc"], first["tva"], first["total_ht"], first["livraison"], first["pays"],
            first["boutique"], first["statut"]) == ("20,00", "3,33", "16,67", "4,90", "FR", "Boutique Beta", "allouée")
    assert first["client"].startswith("'=")  # inert in a spreadsheet
    only_be = client.get("/orders/export.csv?q=%232").get_data(as_text=True)
    assert "#2" in only_be and "#1;" not in only_be


def test_packing_slips_for_an_order_and_a_wave(app, client, login, org, shop_factory, make_org):
    from core import picking

    shop = shop_factory("beta")
    wh = warehouse(org.id, "PAR")
    variant(org.id, "MUG", {wh: 10})
    db.session.commit()
    order = db.session.get(Order, ingest(shop, norm("9", [("MUG", 1)])).order_id)
    db.session.commit()
    wave = picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh.id))
    db.session.commit()
    login(client, "picker")
    slip = client.get(f"/orders/{order.id}/packing-slip.pdf")
    assert slip.status_code == 200 and slip.data.startswith(b"%PDF")
    waves = client.get(f"/preparation/waves/{wave.id}/packing-slips.pdf")
    assert waves.status_code == 200 and waves.data.startswith(b"%PDF")
    other = make_org("Autre")
    foreign = db.session.get(Order, ingest(shop_factory("beta", organization=other), norm("X", [("Z", 1)])).order_id)
    db.session.commit()
    assert client.get(f"/orders/{foreign.id}/packing-slip.pdf").status_code == 404


def test_a_channels_accented_sku_stays_editable(app, client, login, org):
    v = variant(org.id, "MÉ-CRÈ")
    db.session.commit()
    login(client)
    res = _post(client, f"/products/{v.product_id}/variants/{v.id}/edit", {**FORM, "sku": "MÉ-CRÈ", "barcode": ""})
    assert res.status_code == 302, _text(res)[:300]
    db.session.expire_all()
    assert db.session.get(Variant, v.id).price == Decimal("18.50")


def test_an_order_held_for_a_sku_resumes_when_the_form_creates_it(app, client, login, org, shop_factory):
    from core.jobs import run_pending
    from core.models import OrderStatus

    shop = shop_factory("beta")
    warehouse(org.id, "PAR")
    db.session.commit()
    held = db.session.get(Order, ingest(shop, norm("H1", [("TASSE-01", 1)])).order_id)
    db.session.commit()
    assert held.status == OrderStatus.ON_HOLD and held.hold_code == "unknown_sku"
    login(client)
    assert _post(client, "/products/new", FORM).status_code == 302
    run_pending()
    db.session.expire_all()
    order = db.session.get(Order, held.id)
    assert order.hold_code != "unknown_sku" and order.lines[0].variant_id is not None
