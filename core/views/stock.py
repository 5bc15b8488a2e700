"""Stock pages of the merchant's blueprint (``main``): levels per warehouse and what each
shop may sell, adjustments, a variant's movements, sending the stock to every shop."""
from __future__ import annotations

from collections import defaultdict

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .. import stock as stock_flow
from ..extensions import db
from ..forms import IntegerField, coerce_id
from ..jobs import enqueue
from ..models import Order, Product, StockLevel, StockMovement, User, Variant, Warehouse
from ..tenancy import MANAGERS, get_owned, org_id, roles_required, scoped
from .main import ActionForm, PAGE, _form_errors, _page, _shops, _warehouses, bp, local_next


# ----------------------------------------------------------------------------- stock
class AdjustForm(FlaskForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=64)])
    warehouse_id = SelectField(_l("Entrepôt"), coerce=coerce_id, validate_choice=False)
    delta = IntegerField(_l("Quantité (+ entrée, − sortie)"), validators=[InputRequired()])
    reason = StringField(_l("Raison"), validators=[Optional(), Length(max=500)],
                         description=_l("Inventaire, casse, réception fournisseur… Obligatoire."))


def _adjust_form(**data) -> AdjustForm:
    form = AdjustForm(formdata=None, data=data) if data else AdjustForm(formdata=None)
    form.warehouse_id.choices = [(w.id, w.name) for w in _warehouses() if w.active or w.id == data.get("warehouse_id")]
    return form


@bp.route("/stock")
@roles_required(*MANAGERS)
def stock():
    q = request.args.get("q", "").strip()
    stmt = scoped(Variant)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Variant.sku.ilike(like) | Variant.product_id.in_(
            select(Product.id).where(Product.organization_id == org_id(), Product.title.ilike(like))))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    variants = db.session.scalars(stmt.order_by(Variant.sku).limit(PAGE).offset((_page() - 1) * PAGE)).all()
    ids = [v.id for v in variants]
    levels: dict[int, list[StockLevel]] = defaultdict(list)
    if ids:
        for level in db.session.scalars(
                select(StockLevel).join(Warehouse, StockLevel.warehouse_id == Warehouse.id)
                .where(StockLevel.variant_id.in_(ids), Warehouse.organization_id == org_id())
                .order_by(Warehouse.priority, Warehouse.name)):
            levels[level.variant_id].append(level)
    shops = _shops()
    sellable = {shop.id: stock_flow.available_to_sell(shop, ids) for shop in shops}
    return render_template("main/stock.html", variants=variants, levels=levels, shops=shops, sellable=sellable,
                           warehouses=_warehouses(), q=q, page=_page(), per_page=PAGE, total=total,
                           adjust_form=_adjust_form(sku=q if len(variants) == 1 and variants[0].sku == q else None),
                           action=ActionForm())


@bp.route("/stock/adjust", methods=["POST"])
@roles_required(*MANAGERS)
def stock_adjust():
    warehouse = get_owned(Warehouse, request.form.get("warehouse_id"))
    form = AdjustForm()
    back = local_next(url_for(".stock"))
    if not form.validate_on_submit():
        flash(_("Vérifiez l'ajustement : %(errors)s", errors=_form_errors(form)), "error")
        return redirect(back)
    sku = form.sku.data.strip()
    variant = db.session.scalar(scoped(Variant).where(Variant.sku == sku))
    if variant is None:
        flash(_("Aucun produit de votre catalogue n'a le SKU « %(sku)s ».", sku=sku), "error")
        return redirect(back)
    delta = form.delta.data
    if not delta:
        flash(_("Indiquez une quantité différente de zéro."), "error")
        return redirect(back)
    try:
        stock_flow.adjust(org_id(), variant.id, warehouse.id, delta, reason=form.reason.data or "",
                          user_id=current_user.id)
    except stock_flow.StockError as exc:
        db.session.rollback()
        flash(_("Ajustement refusé : %(reason)s", reason=str(exc)), "error")
        return redirect(back)
    db.session.commit()
    level = stock_flow.level(variant.id, warehouse.id)
    flash(_("%(sku)s à %(warehouse)s : %(delta)s (en stock : %(on_hand)s, disponible : %(available)s).",
            sku=variant.sku, warehouse=warehouse.name, delta=f"{delta:+d}", on_hand=level.on_hand,
            available=level.available), "success")
    return redirect(back)


@bp.route("/stock/variants/<variant_id>/movements")
@roles_required(*MANAGERS)
def stock_movements(variant_id: str):
    variant = get_owned(Variant, variant_id)
    stmt = select(StockMovement).where(StockMovement.variant_id == variant.id,
                                       StockMovement.organization_id == org_id())
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    per_page = 100
    moves = db.session.scalars(stmt.order_by(StockMovement.at.desc(), StockMovement.id.desc())
                               .limit(per_page).offset((_page() - 1) * per_page)).all()
    user_ids = {m.user_id for m in moves if m.user_id}
    order_ids = {m.order_id for m in moves if m.order_id}
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(user_ids), User.organization_id == org_id()))} if user_ids else {}
    orders = {o.id: o for o in db.session.scalars(scoped(Order).where(Order.id.in_(order_ids)))} if order_ids else {}
    levels = db.session.scalars(select(StockLevel).join(Warehouse, StockLevel.warehouse_id == Warehouse.id)
                                .where(StockLevel.variant_id == variant.id, Warehouse.organization_id == org_id())
                                .order_by(Warehouse.priority, Warehouse.name)).all()
    return render_template("main/stock_movements.html", variant=variant, moves=moves, users=users, orders=orders,
                           levels=levels, page=_page(), per_page=per_page, total=total,
                           adjust_form=_adjust_form(sku=variant.sku))


@bp.route("/stock/push", methods=["POST"])
@roles_required(*MANAGERS)
def stock_push():
    if not ActionForm().validate_on_submit():
        abort(400)
    enqueue("core.stock.reconcile", org_id(), job_id=f"stock-reconcile-{org_id()}", unique=True)
    db.session.commit()
    flash(_("Envoi de tout le stock à vos boutiques programmé : les quantités seront à jour dans quelques "
            "instants."), "success")
    return redirect(local_next(url_for(".stock")))
