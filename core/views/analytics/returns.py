"""The returns (RMA) pages: open a return from an order, the list, a return's page and its
steps (receive, inspect, restock, write off, refund, close, cancel)."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ... import analytics as an
from ... import orders as order_flow
from ... import returns as rma
from ... import stock as stock_flow
from ...extensions import db
from ...forms import coerce_id
from ...models import Order, OrderLine, Return, ReturnLine, ReturnReason, ReturnStatus, Shop, Warehouse
from ...inputs import parse_id, parse_page
from ...tenancy import MANAGERS, get_owned, org_id, roles_required, scoped
from .base import (
    ActionForm,
    CommaDecimalField,
    OUTCOME_LABELS,
    REASON_LABELS,
    RETURN_STATUS_LABELS,
    _channel_title,
    _org,
    _parse_day,
    bp,
)


# ============================================================================ returns (RMA)
class ReturnForm(FlaskForm):
    reason = SelectField(_l("Motif"), choices=[(k, v) for k, v in REASON_LABELS.items()], validators=[DataRequired()])
    note = TextAreaField(_l("Remarque"), validators=[Optional(), Length(max=2000)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Remarque"), validators=[Optional(), Length(max=2000)])


class RestockForm(FlaskForm):
    warehouse_id = SelectField(_l("Remettre en stock dans"), coerce=coerce_id, validate_choice=False)


class RefundForm(FlaskForm):
    amount = CommaDecimalField(_l("Montant remboursé"), validators=[InputRequired(), NumberRange(min=0)])


def _quantities(order: Order) -> dict[int, int]:
    out = {}
    for line in order.lines:
        raw = request.form.get(f"qty-{line.id}", "").strip()
        if raw:
            try:
                out[line.id] = int(raw)
            except ValueError:
                raise rma.ReturnError(_("Quantité invalide pour %(sku)s.", sku=line.sku)) from None
    return out


@bp.route("/orders/<order_id>/returns/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def return_new(order_id: str):
    order = get_owned(Order, order_id)
    left = rma.returnable_quantities(order)
    form = ReturnForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            ret = rma.open_return(order, form.reason.data, _quantities(order), note=form.note.data or "",
                                  user_id=current_user.id)
        except rma.ReturnError as exc:
            db.session.rollback()
            flash(_("Retour refusé : %(reason)s", reason=str(exc)), "error")
        else:
            db.session.commit()
            flash(_("Retour %(rma)s ouvert.", rma=ret.rma), "success")
            return redirect(url_for(".return_detail", return_id=ret.id))
    elif request.method == "POST":
        flash(_("Choisissez le motif du retour."), "error")
    if not any(left.values()):
        flash(_("Rien à retourner sur cette commande : elle doit être expédiée ou livrée, avec des articles pas "
                "encore retournés."), "info")
    return render_template("analytics/return_new.html", order=order, left=left, form=form)


@bp.route("/returns")
@roles_required(*MANAGERS)
def returns():
    args = request.args
    stmt = scoped(Return).join(Order, Order.id == Return.order_id)
    status = args.get("status", "")
    reason = args.get("reason", "")
    q = args.get("q", "").strip()
    channel = args.get("channel", "").strip()
    shop_id = args.get("shop", type=parse_id)
    date_from, date_to = _parse_day(args.get("from")), _parse_day(args.get("to"))
    if status in RETURN_STATUS_LABELS:
        stmt = stmt.where(Return.status == ReturnStatus(status))
    if reason in REASON_LABELS:
        stmt = stmt.where(Return.reason == ReturnReason(reason))
    if channel:
        stmt = stmt.where(Order.shop_id.in_(select(Shop.id).where(Shop.organization_id == org_id(),
                                                                  Shop.addon == channel)))
    if shop_id:
        stmt = stmt.where(Order.shop_id == shop_id)
    zone = an.org_zone(_org())
    if date_from:
        stmt = stmt.where(Order.placed_at >= datetime.combine(date_from, datetime.min.time(), tzinfo=zone))
    if date_to:
        stmt = stmt.where(Order.placed_at < datetime.combine(date_to + timedelta(days=1), datetime.min.time(),
                                                             tzinfo=zone))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Order.number.ilike(like) | Order.email.ilike(like) | Return.id.in_(
            select(ReturnLine.return_id).join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
            .where(OrderLine.sku.ilike(like))))
    page = parse_page(args.get("page"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Return.created_at.desc(), Return.id.desc()).limit(50)
                              .offset((page - 1) * 50)
                              .options(selectinload(Return.order), selectinload(Return.lines))).all()
    shops = list(db.session.scalars(scoped(Shop).order_by(Shop.name)))
    filters = {"status": status, "reason": reason, "q": q, "channel": channel, "shop": shop_id or "",
               "from": date_from.isoformat() if date_from else "", "to": date_to.isoformat() if date_to else ""}
    return render_template("analytics/returns_list.html", returns=rows, total=total, page=page, filters=filters,
                           shops=shops, channels=sorted({s.addon for s in shops}), channel_title=_channel_title,
                           reasons=REASON_LABELS, statuses=RETURN_STATUS_LABELS, outcome=rma.outcome,
                           outcomes=OUTCOME_LABELS)


@bp.route("/returns/<return_id>")
@roles_required(*MANAGERS)
def return_detail(return_id: str):
    ret = get_owned(Return, return_id)
    order = ret.order
    warehouses = list(db.session.scalars(scoped(Warehouse).where(Warehouse.active.is_(True))
                                         .order_by(Warehouse.priority, Warehouse.name)))
    restock_form = RestockForm(formdata=None)
    restock_form.warehouse_id.choices = [(w.id, w.name) for w in warehouses]
    default_wh = next((ln.order_line.warehouse_id for ln in ret.lines if ln.order_line.warehouse_id), None)
    if default_wh in {w.id for w in warehouses}:
        restock_form.warehouse_id.data = default_wh
    due = rma.refund_due(order, {ln.order_line_id: ln.quantity for ln in ret.lines}) if ret.lines else Decimal(0)
    refund_form = RefundForm(formdata=None, data={"amount": ret.refund_amount if ret.refund_amount is not None else due})
    shop = db.session.get(Shop, ret.shop_id) if ret.shop_id else None
    return render_template("analytics/return.html", ret=ret, order=order, due=due, steps=rma.TRANSITIONS[ret.status],
                           restock_form=restock_form, refund_form=refund_form, note_form=NoteForm(formdata=None),
                           action=ActionForm(), reasons=REASON_LABELS, statuses=RETURN_STATUS_LABELS,
                           outcome=rma.outcome(ret), outcomes=OUTCOME_LABELS, shop=shop, ReturnStatus=ReturnStatus)


_STEPS = ("receive", "inspect", "restock", "write_off", "refund", "close", "cancel")


@bp.route("/returns/<return_id>/<step>", methods=["POST"])
@roles_required(*MANAGERS)
def return_step(return_id: str, step: str):
    ret = get_owned(Return, return_id)
    if step not in _STEPS:
        abort(404)
    back = url_for(".return_detail", return_id=ret.id)
    number = ret.rma
    try:
        if step == "receive":
            if not ActionForm().validate_on_submit():
                abort(400)
            rma.receive(ret, user_id=current_user.id)
            message = _("Retour %(rma)s reçu.", rma=number)
        elif step == "inspect":
            form = NoteForm()
            if not form.validate_on_submit():
                abort(400)
            rma.inspect(ret, note=form.note.data or "", user_id=current_user.id)
            message = _("Retour %(rma)s contrôlé : remettez-le en stock ou mettez-le au rebut.", rma=number)
        elif step == "restock":
            form = RestockForm()
            if not form.validate_on_submit():
                abort(400)
            warehouse = get_owned(Warehouse, form.warehouse_id.data)
            rma.restock(ret, warehouse, user_id=current_user.id)
            message = _("Retour %(rma)s remis en stock à %(warehouse)s.", rma=number, warehouse=warehouse.name)
        elif step == "write_off":
            form = NoteForm()
            if not form.validate_on_submit():
                abort(400)
            rma.write_off(ret, note=form.note.data or "", user_id=current_user.id)
            message = _("Retour %(rma)s mis au rebut : sa valeur compte comme une perte.", rma=number)
        elif step == "refund":
            form = RefundForm()
            if not form.validate_on_submit():
                flash(_("Indiquez le montant remboursé."), "error")
                return redirect(back)
            rma.record_refund(ret, form.amount.data, user_id=current_user.id)
            message = _("Remboursement de %(rma)s enregistré.", rma=number)
        elif step == "close":
            if not ActionForm().validate_on_submit():
                abort(400)
            rma.close(ret, user_id=current_user.id)
            message = _("Retour %(rma)s clos.", rma=number)
        else:
            if not ActionForm().validate_on_submit():
                abort(400)
            order_id_ = ret.order_id
            rma.cancel(ret, user_id=current_user.id)
            db.session.commit()
            flash(_("Retour %(rma)s annulé.", rma=number), "success")
            return redirect(url_for("main.order", order_id=order_id_))
    except (rma.ReturnError, order_flow.TransitionError, stock_flow.StockError) as exc:
        db.session.rollback()
        flash(_("Refusé : %(reason)s", reason=str(exc)), "error")
        return redirect(back)
    db.session.commit()
    flash(message, "success")
    return redirect(back)
