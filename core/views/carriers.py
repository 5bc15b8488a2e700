"""Carrier rules, on the ``ops`` blueprint: which carrier each parcel gets (or the cheapest
for its service level), tried in order when a parcel is created (``core.shipping_rules``)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from .. import shipping, shipping_rules
from ..addons import registry
from ..extensions import db
from ..forms import ConditionsForm
from ..models import CarrierRule, Order, OrderStatus, Shop
from ..tenancy import MANAGERS, get_owned, org_id, roles_required, scoped
from .ops import ActionForm, _invalid, bp, reorder


class CarrierRuleForm(ConditionsForm):
    name = StringField(_l("Nom de la règle"), validators=[DataRequired(), Length(max=120)])
    carrier = SelectField(_l("Transporteur"), validators=[DataRequired()],
                          description=_l("« Le moins cher » compare les tarifs de vos transporteurs pour chaque "
                                         "colis et garde le moins cher qui respecte le niveau de service."))
    active = BooleanField(_l("Active"), default=True)


def _carriers() -> list[tuple[str, str]]:
    """Every carrier add-on installed, by title (a rule may name one not enabled everywhere)."""
    return sorted(((a.name, a.title) for a in registry().loaded() if a.kind == "carrier"), key=lambda c: c[1].lower())


def _carrier_titles() -> dict[str, str]:
    return {shipping.CHEAPEST: _("Le moins cher pour le niveau de service"), **dict(_carriers())}


def _rules() -> list[CarrierRule]:
    return list(db.session.scalars(scoped(CarrierRule).order_by(CarrierRule.position, CarrierRule.id)))


def _form(rule: CarrierRule | None = None) -> CarrierRuleForm:
    data = None
    if rule is not None and request.method != "POST":
        data = {"name": rule.name, "carrier": rule.carrier, "active": rule.active,
                **shipping_rules.conditions_data(rule)}
    form = CarrierRuleForm(data=data) if data else CarrierRuleForm()
    form.carrier.choices = [(shipping.CHEAPEST, _("Le moins cher pour le niveau de service")), *_carriers()]
    form.channels.choices = shipping_rules.channel_choices()
    return form


def _fill(rule: CarrierRule, form: CarrierRuleForm) -> None:
    rule.name = form.name.data.strip()
    rule.carrier = form.carrier.data
    rule.active = bool(form.active.data)
    shipping_rules.fill_conditions(rule, form.data)


def _preview(order: Order, titles: dict[str, str]) -> str:
    """What the rules give this order shipped whole, in words (nothing is stored)."""
    enabled = {name for name, _title in shipping.carrier_addons(order.shop)} | {shipping.CHEAPEST}
    lines = [(ln, ln.quantity) for ln in order.lines]
    rule = shipping_rules.choose_carrier(order, lines, shipping.shipment_weight(lines), None, enabled)
    if rule is None:
        default = shipping.default_carrier(order.shop)
        return _("aucune règle : transporteur par défaut de la boutique (%(carrier)s)",
                 carrier=titles.get(default, _("saisie manuelle du suivi")))
    return f"{rule.name} → {titles.get(rule.carrier, rule.carrier)}"


@bp.route("/shipping/rules")
@roles_required(*MANAGERS)
def carrier_rules():
    rules = _rules()
    titles = _carrier_titles()
    channels = dict(shipping_rules.channel_choices())
    shop_ids = [s.id for s in db.session.scalars(scoped(Shop))]
    waiting = list(db.session.scalars(scoped(Order).where(
        Order.shop_id.in_(shop_ids), Order.status.in_([OrderStatus.ALLOCATED, OrderStatus.PICKING]))
        .order_by(Order.placed_at).limit(10))) if rules else []
    return render_template("ops/carrier_rules.html", rules=rules, titles=titles, action=ActionForm(),
                           conditions={r.id: shipping_rules.describe(r, channels) for r in rules},
                           preview=[(o, _preview(o, titles)) for o in waiting], carriers=_carriers())


@bp.route("/shipping/rules/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def carrier_rule_new():
    form = _form()
    if form.validate_on_submit():
        last = db.session.scalar(select(func.max(CarrierRule.position)).where(
            CarrierRule.organization_id == org_id())) or 0
        rule = CarrierRule(organization_id=org_id(), position=last + 1)
        _fill(rule, form)
        db.session.add(rule)
        db.session.commit()
        flash(_("Règle « %(name)s » créée.", name=rule.name), "success")
        return redirect(url_for(".carrier_rules"))
    _invalid(form)
    return render_template("ops/carrier_rule_form.html", form=form, rule=None)


@bp.route("/shipping/rules/<rule_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def carrier_rule_edit(rule_id: str):
    rule = get_owned(CarrierRule, rule_id)
    form = _form(rule)
    if form.validate_on_submit():
        _fill(rule, form)
        db.session.commit()
        flash(_("Règle « %(name)s » enregistrée.", name=rule.name), "success")
        return redirect(url_for(".carrier_rules"))
    _invalid(form)
    return render_template("ops/carrier_rule_form.html", form=form, rule=rule)


@bp.route("/shipping/rules/<rule_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def carrier_rule_delete(rule_id: str):
    rule = get_owned(CarrierRule, rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = rule.name
    db.session.delete(rule)
    db.session.commit()
    flash(_("Règle « %(name)s » supprimée.", name=name), "success")
    return redirect(url_for(".carrier_rules"))


@bp.route("/shipping/rules/<rule_id>/<any(up, down):direction>", methods=["POST"])
@roles_required(*MANAGERS)
def carrier_rule_move(rule_id: str, direction: str):
    rule = get_owned(CarrierRule, rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    reorder(_rules(), rule, direction)
    db.session.commit()
    return redirect(url_for(".carrier_rules"))
