"""The merchant's catalogue pages: create and edit products and variants, import and export
the catalogue as CSV, import a stock count into a warehouse (see :mod:`core.catalog`)."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import catalog
from ..extensions import db
from ..models import Product, Variant, Warehouse
from ..stock import StockError
from ..tenancy import MANAGERS, get_owned, org_id, roles_required, scoped

bp = Blueprint("catalog", __name__)
#: the largest CSV a merchant uploads here
MAX_UPLOAD = 5 * 1024 * 1024
CURRENCIES = ("EUR", "GBP", "CHF", "USD", "SEK", "PLN", "DKK", "CZK")


class ProductFields(FlaskForm):
    product_title = StringField(_l("Titre du produit"), validators=[DataRequired(), Length(max=255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    tags = StringField(_l("Étiquettes"), validators=[Optional(), Length(max=1000)],
                       description=_l("Séparées par des virgules : fragile, été"))
    images = TextAreaField(_l("Images"), validators=[Optional(), Length(max=10000)],
                           description=_l("Une adresse https:// par ligne"))


class VariantFields(FlaskForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=64)],
                      description=_l("Unique dans votre catalogue : c'est la clé commune à tous vos canaux"))
    variant_title = StringField(_l("Nom de la variante"), validators=[Optional(), Length(max=255)])
    options = StringField(_l("Options"), validators=[Optional(), Length(max=500)],
                          description=_l("Taille=M; Couleur=Bleu"))
    barcode = StringField(_l("Code-barres (EAN / UPC)"), validators=[Optional(), Length(max=32)])
    price = StringField(_l("Prix de vente TTC"), validators=[Optional(), Length(max=32)])
    currency = SelectField(_l("Devise"), choices=[(c, c) for c in CURRENCIES], default="EUR")
    cost_price = StringField(_l("Coût d'achat HT"), validators=[Optional(), Length(max=32)])
    weight_grams = StringField(_l("Poids (g)"), validators=[Optional(), Length(max=16)])
    dimensions_cm = StringField(_l("Dimensions (cm)"), validators=[Optional(), Length(max=40)],
                                description=_l("Longueur x largeur x hauteur du colis prêt à partir : 30 x 20 x 10"))
    hs_code = StringField(_l("Code SH (douane)"), validators=[Optional(), Length(max=16)])
    country_of_origin = StringField(_l("Pays d'origine"), validators=[Optional(), Length(max=8)],
                                    description=_l("Code ISO à deux lettres : FR, PT…"))


class NewProductForm(ProductFields, VariantFields):
    """A product with its first variant."""


class UploadForm(FlaskForm):
    file = FileField(_l("Fichier CSV"))
    content = HiddenField()  # the checked file, sent again to confirm


class StockUploadForm(UploadForm):
    warehouse_id = SelectField(_l("Entrepôt"), coerce=int)


def _data(form: FlaskForm, *, product_title: str = "") -> catalog.VariantData:
    row = {name: (getattr(form, name).data or "") for name in catalog.PRODUCT_COLUMNS if hasattr(form, name)}
    row.setdefault("product_title", product_title)
    return catalog.row_to_data(row)


def _check_unique(data: catalog.VariantData, variant_id: int | None) -> None:
    if catalog.sku_taken(org_id(), data.sku, variant_id):
        raise catalog.CatalogError(_("le SKU %(sku)s existe déjà dans votre catalogue", sku=data.sku))
    if catalog.barcode_taken(org_id(), data.barcode, variant_id):
        raise catalog.CatalogError(_("le code-barres %(barcode)s est déjà porté par un autre article",
                                     barcode=data.barcode))


# ----------------------------------------------------------------------------- products
@bp.route("/products/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def product_new():
    form = NewProductForm()
    error = None
    if form.validate_on_submit():
        try:
            data = _data(form)
            _check_unique(data, None)
        except catalog.CatalogError as exc:
            error = str(exc)
        else:
            product = Product(organization_id=org_id(), title=data.product_title)
            catalog.apply_product(product, data)
            variant = Variant(organization_id=org_id(), product=product, sku=data.sku)
            catalog.apply_variant(variant, data)
            db.session.add_all([product, variant])
            db.session.commit()
            flash(_("Produit « %(title)s » créé.", title=product.title), "success")
            return redirect(url_for("main.product", product_id=product.id))
    return render_template("catalog/product_form.html", form=form, error=error, product=None, new=True)


@bp.route("/products/<product_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def product_edit(product_id: str):
    product = get_owned(Product, product_id)
    form = ProductFields(data={"product_title": product.title, "description": product.description,
                               "tags": ", ".join(product.tags or []), "images": "\n".join(product.images or [])})
    error = None
    if form.validate_on_submit():
        try:
            data = catalog.VariantData(sku="-", product_title=form.product_title.data.strip(),
                                       description=(form.description.data or "").strip(),
                                       tags=[t.strip()[:60] for t in (form.tags.data or "").split(",") if t.strip()],
                                       images=catalog.check_images((form.images.data or "").split()))
        except catalog.CatalogError as exc:
            error = str(exc)
        else:
            catalog.apply_product(product, data)
            db.session.commit()
            flash(_("Produit enregistré."), "success")
            return redirect(url_for("main.product", product_id=product.id))
    return render_template("catalog/product_form.html", form=form, error=error, product=product, new=False)


@bp.route("/products/<product_id>/variants/new", methods=["GET", "POST"])
@bp.route("/products/<product_id>/variants/<variant_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def variant_form(product_id: str, variant_id: str | None = None):
    product = get_owned(Product, product_id)
    variant = get_owned(Variant, variant_id) if variant_id is not None else None
    if variant is not None and variant.product_id != product.id:
        return redirect(url_for(".variant_form", product_id=variant.product_id, variant_id=variant.id))
    initial = {}
    if variant is not None:
        initial = {"sku": variant.sku, "variant_title": variant.title if variant.title != product.title else "",
                   "options": catalog.format_options(variant.options), "barcode": variant.barcode or "",
                   "price": catalog._decimal(variant.price), "currency": variant.currency,
                   "cost_price": catalog._decimal(variant.cost_price),
                   "weight_grams": "" if variant.weight_grams is None else str(variant.weight_grams),
                   "dimensions_cm": catalog.format_dimensions(variant),
                   "hs_code": variant.hs_code or "", "country_of_origin": variant.country_of_origin or ""}
    form = VariantFields(data=initial)
    error = None
    if form.validate_on_submit():
        try:
            data = _data(form, product_title=product.title)
            _check_unique(data, variant.id if variant else None)
        except catalog.CatalogError as exc:
            error = str(exc)
        else:
            if variant is None:
                variant = Variant(organization_id=org_id(), product=product, sku=data.sku)
                db.session.add(variant)
            catalog.apply_variant(variant, data)
            db.session.commit()
            flash(_("Variante %(sku)s enregistrée.", sku=variant.sku), "success")
            return redirect(url_for("main.product", product_id=product.id))
    return render_template("catalog/variant_form.html", form=form, error=error, product=product, variant=variant)


# ----------------------------------------------------------------------------- CSV
def _upload(form: UploadForm) -> bytes | None:
    """The file's bytes (a new upload, or the checked content sent back to confirm)."""
    if form.content.data:
        return form.content.data.encode("utf-8")
    storage = form.file.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    content = storage.stream.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise catalog.CatalogError(_("fichier trop gros : %(value)s Mo au plus", value=MAX_UPLOAD // (1024 * 1024)))
    return content


def _decoded(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


@bp.route("/products/import", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def products_import():
    form = UploadForm()
    plan, error, content = None, None, None
    if form.validate_on_submit():
        try:
            raw = _upload(form)
        except catalog.CatalogError as exc:
            raw, error = None, str(exc)
        if raw is None and error is None:
            error = _("Choisissez un fichier CSV.")
        elif raw is not None:
            plan = catalog.plan_products(org_id(), raw)
            content = _decoded(raw) if not plan.errors else None
            if plan.ok and request.form.get("confirm") == "1":
                created, updated = catalog.apply_products(org_id(), plan)
                db.session.commit()
                flash(_("Import terminé : %(created)s article(s) créé(s), %(updated)s mis à jour.",
                        created=created, updated=updated), "success")
                return redirect(url_for("main.products"))
    return render_template("catalog/import.html", form=form, plan=plan, error=error, content=content,
                           columns=catalog.PRODUCT_COLUMNS, kind="products")


@bp.route("/products/export.csv")
@roles_required(*MANAGERS)
def products_export():
    return Response("\ufeff" + catalog.export_products(org_id()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="produits.csv"'})


@bp.route("/stock/import", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def stock_import():
    form = StockUploadForm()
    warehouses = db.session.scalars(scoped(Warehouse).where(Warehouse.active.is_(True)).order_by(Warehouse.name)).all()
    form.warehouse_id.choices = [(w.id, w.name) for w in warehouses]
    plan, error, content = None, None, None
    if form.validate_on_submit():
        warehouse = get_owned(Warehouse, form.warehouse_id.data)
        try:
            raw = _upload(form)
        except catalog.CatalogError as exc:
            raw, error = None, str(exc)
        if raw is None and error is None:
            error = _("Choisissez un fichier CSV.")
        elif raw is not None:
            plan = catalog.plan_stock(org_id(), warehouse, raw)
            content = _decoded(raw) if not plan.errors else None
            if plan.ok and request.form.get("confirm") == "1":
                try:
                    changed = catalog.apply_stock(org_id(), warehouse, plan, user_id=current_user.id)
                except StockError as exc:  # an order reserved units between the preview and now
                    db.session.rollback()
                    error = _("Rien n'a été importé : %(reason)s. Vérifiez puis recommencez.", reason=str(exc))
                else:
                    db.session.commit()
                    flash(_("Inventaire importé dans %(warehouse)s : %(count)s article(s) corrigé(s).",
                            warehouse=warehouse.name, count=changed), "success")
                    return redirect(url_for("main.stock"))
    return render_template("catalog/import.html", form=form, plan=plan, error=error, content=content,
                           columns=catalog.STOCK_COLUMNS, kind="stock")
