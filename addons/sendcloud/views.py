"""Sendcloud pages: shipping rules (``/apps/sendcloud/rules``) and the webhook endpoint
(``/apps/sendcloud/webhooks/<shop id>``, the URL to give Sendcloud as ``webhook_url``)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from core import shipping, shipping_rules
from core.connectors.guards import addon_required
from core.extensions import csrf, db
from core.models import Order, OrderStatus, Shipment, ShipmentLine, ShipmentStatus, Shop, ShopAddon
from core.tenancy import get_owned, org_id, scoped

from .forms import RuleForm
from .labels import parcel_row
from .models import SendcloudShippingMethod, SendcloudShippingRule
from .rules import NoMethod, choose
from .tracking import INBOX

ADDON = "sendcloud"
bp = Blueprint(ADDON, __name__, template_folder="templates", url_prefix="/apps/sendcloud")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _shops() -> list[Shop]:
    return list(db.session.scalars(
        scoped(Shop).join(ShopAddon, ShopAddon.shop_id == Shop.id)
        .where(ShopAddon.addon == ADDON, ShopAddon.active.is_(True)).order_by(Shop.name)))


def _methods(shops: list[Shop]) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(SendcloudShippingMethod).where(
        SendcloudShippingMethod.shop_id.in_([s.id for s in shops])).order_by(SendcloudShippingMethod.name))
    seen: dict[str, str] = {}
    for row in rows:
        seen.setdefault(row.method_id, f"{row.name} ({row.method_id})")
    return list(seen.items())


def _rule_form(shops: list[Shop], rule: SendcloudShippingRule | None = None) -> RuleForm:
    form = RuleForm(obj=rule) if rule is not None and request.method == "GET" else RuleForm()
    if rule is not None and request.method == "GET":
        form.countries.data = ", ".join(rule.countries or [])
    methods = _methods(shops)
    if rule is not None and rule.method_id not in dict(methods):
        methods.append((rule.method_id, rule.method_name or rule.method_id))
    form.method_id.choices = methods
    form.channels.choices = shipping_rules.channel_choices()
    return form


def _fill(rule: SendcloudShippingRule, form: RuleForm) -> None:
    rule.name = form.name.data
    rule.method_id = form.method_id.data
    rule.method_name = dict(form.method_id.choices).get(form.method_id.data, form.method_id.data)[:200]
    shipping_rules.fill_conditions(rule, form.data)
    rule.active = bool(form.active.data)


def _rules() -> list[SendcloudShippingRule]:
    return list(db.session.scalars(scoped(SendcloudShippingRule).order_by(SendcloudShippingRule.position,
                                                                          SendcloudShippingRule.id)))


def _waiting(shops: list[Shop]) -> list[Shipment]:
    return list(db.session.scalars(
        select(Shipment).join(Order, Order.id == Shipment.order_id)
        .where(Order.shop_id.in_([s.id for s in shops]), Order.status != OrderStatus.CANCELLED,
               Shipment.status == ShipmentStatus.DRAFT, Shipment.carrier == ADDON).order_by(Shipment.id)))


# ----------------------------------------------------------------------------- rules
@bp.route("/")
@addon_required(ADDON)
def index():
    return redirect(url_for(".rules"))


@bp.route("/rules")
@addon_required(ADDON)
def rules():
    shops = _shops()
    preview = []
    for order in db.session.scalars(scoped(Order).where(Order.shop_id.in_([s.id for s in shops]),
                                                        Order.status.in_([OrderStatus.ALLOCATED, OrderStatus.PICKING,
                                                                          OrderStatus.PACKED]))
                                    .order_by(Order.placed_at).limit(20)):
        preview.append((order, _preview(order)))
    return render_template("sendcloud/rules.html", rules=_rules(), shops=shops, action=ActionForm(),
                           waiting=_waiting(shops), preview=preview,
                           webhook_urls=[(s, url_for(".webhook", shop_id=s.id, _external=True)) for s in shops])


def _preview(order: Order) -> str:
    """The method the rules would give this order shipped whole (nothing is stored)."""
    lines = [(ln, ln.quantity) for ln in order.lines]
    draft = Shipment(carrier=ADDON, weight_grams=shipping.shipment_weight(lines))
    draft.lines = [ShipmentLine(quantity=qty, order_line=ln) for ln, qty in lines]
    try:
        method, rule = choose(order.shop, order, draft, order.shop.addon_settings(ADDON))
    except NoMethod:
        return _("aucune règle ni méthode par défaut")
    return f"{rule.name if rule else _('méthode par défaut')} → {method}"


@bp.route("/rules/new", methods=["GET", "POST"])
@addon_required(ADDON)
def rule_new():
    shops = _shops()
    form = _rule_form(shops)
    if form.validate_on_submit():
        rule = SendcloudShippingRule(organization_id=org_id(), position=1 + (db.session.scalar(
            select(func.max(SendcloudShippingRule.position)).where(
                SendcloudShippingRule.organization_id == org_id())) or 0))
        _fill(rule, form)
        db.session.add(rule)
        db.session.commit()
        flash(_("Règle « %(name)s » ajoutée.", name=rule.name), "success")
        return redirect(url_for(".rules"))
    return render_template("sendcloud/rule_form.html", form=form, rule=None)


@bp.route("/rules/<rule_id>", methods=["GET", "POST"])
@addon_required(ADDON)
def rule_edit(rule_id: str):
    rule = get_owned(SendcloudShippingRule, rule_id)
    form = _rule_form(_shops(), rule)
    if request.method == "POST" and form.validate_on_submit():
        _fill(rule, form)
        db.session.commit()
        flash(_("Règle « %(name)s » enregistrée.", name=rule.name), "success")
        return redirect(url_for(".rules"))
    return render_template("sendcloud/rule_form.html", form=form, rule=rule)


@bp.route("/rules/<rule_id>/delete", methods=["POST"])
@addon_required(ADDON)
def rule_delete(rule_id: str):
    rule = get_owned(SendcloudShippingRule, rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db.session.delete(rule)
    db.session.commit()
    flash(_("Règle supprimée."), "success")
    return redirect(url_for(".rules"))


@bp.route("/rules/<rule_id>/move/<direction>", methods=["POST"])
@addon_required(ADDON)
def rule_move(rule_id: str, direction: str):
    rule = get_owned(SendcloudShippingRule, rule_id)
    if not ActionForm().validate_on_submit() or direction not in ("up", "down"):
        abort(400)
    ordered = _rules()
    index = ordered.index(rule)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    db.session.commit()
    return redirect(url_for(".rules"))


@bp.route("/rules/rerun", methods=["POST"])
@addon_required(ADDON)
def rules_rerun():
    """Apply the rules again to the parcels still waiting for their Sendcloud label."""
    if not ActionForm().validate_on_submit():
        abort(400)
    done = failed = 0
    waiting = [s.id for s in _waiting(_shops())]
    for shipment_id in waiting:
        shipment = db.session.get(Shipment, shipment_id)
        row = parcel_row(shipment)
        if row is not None and row.state != "announced":
            row.method_id = None
            row.rule_id = None
        shipment.service = None
        db.session.commit()  # the choice is forgotten before the carrier is asked again
        if shipping.fetch_label(shipment_id, user_id=current_user.id).state in ("label_ready", "shipped"):
            done += 1
        else:
            failed += 1
    flash(_("Règles relancées : %(done)s étiquette(s) créée(s), %(failed)s colis encore en attente.",
            done=done, failed=failed), "success" if not failed else "warning")
    return redirect(url_for(".rules"))


# ----------------------------------------------------------------------------- webhook
@bp.route("/webhooks/<int:shop_id>", methods=["POST"])
@csrf.exempt
def webhook(shop_id: int):
    shop = db.session.get(Shop, shop_id)
    if shop is None or ADDON not in shop.enabled_addons():
        return jsonify({"error": "inconnu"}), 404
    got = INBOX.receive(request.get_data(cache=False), request.headers.get, shop_id=shop.id)
    if got.status != 200:
        db.session.rollback()
        return jsonify({"error": got.message}), got.status
    db.session.commit()
    if got.duplicate:  # the same body again: already stored, applied once
        return jsonify({"error": "envoi déjà traité (rejoué)"}), 409
    return jsonify({"ok": True, "action": str(got.payload.get("action") or ""), "result": "reçu"})

