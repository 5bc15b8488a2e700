"""Preparation pages: pick waves, the walk and the sort (scan pages), packing up to the label,
shipments waiting for a label or a tracking number, and bin locations."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, URLField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import documents
from .. import orders as order_flow
from .. import picking
from .. import picklist
from .. import shipping
from ..stock import StockError
from ..extensions import db
from ..forms import IntegerField, coerce_id
from ..models import (
    BinLocation,
    Order,
    OrderStatus,
    PickWave,
    PickWaveOrder,
    PickWaveOrderStatus,
    PickWaveStatus,
    ServiceLevel,
    Shipment,
    ShipmentStatus,
    Shop,
    StockLevel,
    Variant,
    Warehouse,
    WarehouseKind,
)
from ..inputs import UPLOAD_MAX_BYTES, InputError, parse_id, parse_page, read_text_file
from ..tenancy import EVERYONE, MANAGERS, get_owned, org_id, roles_required, scoped

bp = Blueprint("picking", __name__, url_prefix="/preparation")
LOCATIONS_PAGE = 100


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


class WaveForm(FlaskForm):
    warehouse_id = SelectField(_l("Entrepôt"), coerce=coerce_id, validate_choice=False)
    shop_ids = SelectMultipleField(_l("Boutiques"), coerce=coerce_id, validate_choice=False)
    channels = SelectMultipleField(_l("Canaux"), validate_choice=False)
    carriers = SelectMultipleField(_l("Transporteurs"), validate_choice=False)
    service_levels = SelectMultipleField(_l("Niveaux de service"), validate_choice=False,
                                         choices=[(s.value, s.value) for s in ServiceLevel])
    single_item_first = BooleanField(_l("Commandes à un seul article en premier"), default=True)
    max_orders = IntegerField(_l("Commandes au plus"), default=20, validators=[NumberRange(min=1, max=200)])


class PackForm(FlaskForm):
    weight_grams = IntegerField(_l("Poids du colis (g)"), validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    carrier = SelectField(_l("Transporteur"), validate_choice=False)


class TrackingForm(FlaskForm):
    tracking_number = StringField(_l("Numéro de suivi"), validators=[DataRequired(), Length(max=128)])
    carrier_name = StringField(_l("Transporteur"), validators=[Optional(), Length(max=120)],
                               description=_l("Par exemple Colissimo, Mondial Relay, DHL."))
    tracking_url = URLField(_l("Lien de suivi"), validators=[Optional(), Length(max=500)])


class RemoveForm(FlaskForm):
    reason = StringField(_l("Raison"), validators=[DataRequired(), Length(min=3, max=500)])


class BinForm(FlaskForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=64)])
    bin_code = StringField(_l("Emplacement"), validators=[DataRequired(), Length(max=32)])
    sort_key = StringField(_l("Ordre de passage"), validators=[Optional(), Length(max=64)])


class ImportForm(FlaskForm):
    file = FileField(_l("Fichier CSV"), validators=[DataRequired()],
                     description=_l("Colonnes : sku;emplacement;ordre (ordre facultatif)."))


# ----------------------------------------------------------------------------- helpers
def _warehouses() -> list[Warehouse]:
    return list(db.session.scalars(scoped(Warehouse).where(Warehouse.kind == WarehouseKind.OWN,
                                                           Warehouse.active.is_(True))
                                   .order_by(Warehouse.priority, Warehouse.name)))


def _shops() -> list[Shop]:
    return list(db.session.scalars(scoped(Shop).order_by(Shop.name)))


def _wave(wave_id: Any) -> PickWave:
    return get_owned(PickWave, wave_id)


def _member(member_id: Any) -> PickWaveOrder:
    ident = parse_id(member_id)
    if ident is None:
        abort(404)
    member = db.session.get(PickWaveOrder, ident)
    if member is None or member.wave.organization_id != org_id():
        abort(404)
    return member


def _shipment(shipment_id: Any) -> Shipment:
    ident = parse_id(shipment_id)
    if ident is None:
        abort(404)
    shipment = db.session.get(Shipment, ident)
    if shipment is None or shipment.order.organization_id != org_id():
        abort(404)
    return shipment


def _wave_form() -> WaveForm:
    form = WaveForm()
    form.warehouse_id.choices = [(w.id, w.name) for w in _warehouses()]
    shops = _shops()
    form.shop_ids.choices = [(s.id, s.name) for s in shops]
    form.channels.choices = sorted({(s.addon, s.addon) for s in shops})
    carriers = {shipping.MANUAL: _("Saisie manuelle")}
    for shop in shops:
        carriers.update(dict(shipping.carrier_addons(shop)))
    form.carriers.choices = sorted(carriers.items())
    return form


def _counts(lines: list, stage: str) -> dict[str, list[int]]:
    """Per-row progress of a scan page (keys as the page's rows carry them)."""
    if stage == "pack":
        return {f"line-{ln.id}": [ln.packed, ln.quantity] for ln in lines}
    if stage == "slot":
        by_slot: dict[str, list[int]] = {}
        for ln in lines:
            row = by_slot.setdefault(f"slot-{ln.wave_order.slot}", [0, 0])
            row[0] += ln.slotted
            row[1] += ln.picked
        return by_slot
    out: dict[str, list[int]] = {}
    for ln in lines:
        row = out.setdefault(f"{ln.bin_code or ''}|{ln.variant_id or ''}", [0, 0])
        row[0] += ln.picked
        row[1] += ln.quantity
    return out


def _scan_reply(stage: str, lines: list, member: PickWaveOrder | None = None) -> Response:
    data = request.get_json(silent=True) or {}
    key = str(data.get("key") or "")
    if data.get("override"):
        if stage == "pack":
            candidates = [ln for ln in lines if f"line-{ln.id}" == key]
        else:
            candidates = [ln for ln in lines if f"{ln.bin_code or ''}|{ln.variant_id or ''}" == key]
        line = picking.line_for(candidates, stage) if candidates else None
        if line is None:
            result = picking.ScanResult(False, "error", _("Choisissez une ligne encore à compter."))
        else:
            result = picking.override(stage, line, lines, str(data.get("reason") or ""), user_id=current_user.id)
    else:
        result = picking.scan(stage, org_id(), lines, str(data.get("code") or ""), user_id=current_user.id)
    db.session.commit()
    body = result.as_json()
    body["counts"] = _counts(lines, stage)
    if member is not None:
        body["order_status"] = member.order.status.value
        body["packed"] = member.status == PickWaveOrderStatus.PACKED or member.status == PickWaveOrderStatus.SHIPPED
    return jsonify(body)


# ----------------------------------------------------------------------------- waves
@bp.route("/waves")
@roles_required(*EVERYONE)
def waves():
    form = _wave_form()
    active = list(db.session.scalars(scoped(PickWave).where(PickWave.status.in_(picking.ACTIVE_WAVE))
                                     .order_by(PickWave.id.desc())))
    for item in active:  # orders cancelled or shipped elsewhere since may have closed a wave
        picking.refresh(item)
    db.session.commit()
    active = [w for w in active if w.status in picking.ACTIVE_WAVE]
    done = list(db.session.scalars(scoped(PickWave).where(PickWave.status == PickWaveStatus.DONE)
                                   .order_by(PickWave.id.desc()).limit(10)))
    ready = {w.id: len(picking.candidates(org_id(), picking.WaveFilters(warehouse_id=w.id))) for w in _warehouses()}
    return render_template("picking/waves.html", form=form, active=active, done=done, ready=ready,
                           waiting=shipping.waiting_shipments(org_id()), action=ActionForm())


@bp.route("/waves", methods=["POST"])
@roles_required(*EVERYONE)
def create_wave():
    form = _wave_form()
    if not form.validate_on_submit():
        flash(_("Vague non créée : vérifiez les filtres."), "error")
        return redirect(url_for(".waves"))
    if form.warehouse_id.data not in {w.id for w in _warehouses()}:
        abort(404)
    filters = picking.WaveFilters(
        warehouse_id=form.warehouse_id.data, shop_ids=[i for i in form.shop_ids.data or []],
        channels=list(form.channels.data or []), carriers=list(form.carriers.data or []),
        service_levels=[s for s in form.service_levels.data or [] if s in {lv.value for lv in ServiceLevel}],
        single_item_first=bool(form.single_item_first.data), max_orders=form.max_orders.data or 20)
    wave = picking.build_wave(org_id(), filters, user_id=current_user.id)
    db.session.commit()
    if wave is None:
        flash(_("Aucune commande allouée ne correspond à ces filtres."), "warning")
        return redirect(url_for(".waves"))
    flash(_("Vague %(id)s créée : %(n)s commande(s).", id=wave.id, n=len(wave.orders)), "success")
    return redirect(url_for(".wave", wave_id=wave.id))


@bp.route("/waves/<wave_id>")
@roles_required(*EVERYONE)
def wave(wave_id: str):
    wave = _wave(wave_id)
    return render_template("picking/wave.html", wave=wave, stops=picking.route(wave), tote_code=picking.tote_code,
                           remove_form=RemoveForm(), lines=picking.live_lines(wave))


@bp.route("/waves/<wave_id>/picklist.pdf")
@roles_required(*EVERYONE)
def pick_list_pdf(wave_id: str):
    wave = _wave(wave_id)
    return Response(picklist.pick_list_pdf(wave), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="vague-{wave.id}.pdf"'})


@bp.route("/waves/<wave_id>/packing-slips.pdf")
@roles_required(*EVERYONE)
def wave_packing_slips(wave_id: str):
    """The wave's packing slips, one page per order, in slot order."""
    wave = _wave(wave_id)
    members = sorted((m for m in wave.orders if m.status != PickWaveOrderStatus.REMOVED), key=lambda m: m.slot)
    pdf = documents.packing_slips_pdf([m.order for m in members], title=f"Bons de livraison, vague {wave.id}")
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="bons-de-livraison-vague-{wave.id}.pdf"'})


@bp.route("/waves/<wave_id>/pick")
@roles_required(*EVERYONE)
def pick(wave_id: str):
    wave = _wave(wave_id)
    lines = picking.live_lines(wave)
    return render_template("picking/scan.html", wave=wave, stage="pick", stops=picking.route(wave),
                           counts=_counts(lines, "pick"), scan_url=url_for(".wave_scan", wave_id=wave.id, stage="pick"))


@bp.route("/waves/<wave_id>/sort")
@roles_required(*EVERYONE)
def sort(wave_id: str):
    wave = _wave(wave_id)
    lines = picking.live_lines(wave)
    return render_template("picking/scan.html", wave=wave, stage="slot", stops=picking.route(wave),
                           counts=_counts(lines, "slot"), tote_code=picking.tote_code,
                           scan_url=url_for(".wave_scan", wave_id=wave.id, stage="slot"))


@bp.route("/waves/<wave_id>/scan/<stage>", methods=["POST"])
@roles_required(*EVERYONE)
def wave_scan(wave_id: str, stage: str):
    wave = _wave(wave_id)
    if stage not in ("pick", "slot") or wave.status in (PickWaveStatus.DONE, PickWaveStatus.CANCELLED):
        return jsonify({"ok": False, "status": "error", "message": _("Cette vague est terminée.")}), 409
    return _scan_reply(stage, picking.live_lines(wave))


@bp.route("/waves/<wave_id>/orders/<member_id>/remove", methods=["POST"])
@roles_required(*EVERYONE)
def remove_order(wave_id: str, member_id: str):
    wave = _wave(wave_id)
    member = _member(member_id)
    if member.wave_id != wave.id:
        abort(404)
    form = RemoveForm()
    if not form.validate_on_submit():
        flash(_("Indiquez pourquoi la commande sort de la vague."), "error")
        return redirect(url_for(".wave", wave_id=wave.id))
    try:
        picking.remove_order(member, form.reason.data, user_id=current_user.id)
    except picking.PickingError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".wave", wave_id=wave.id))
    db.session.commit()
    flash(_("Commande %(number)s retirée de la vague : remettez ses articles en rayon.",
            number=member.order.number), "success")
    return redirect(url_for(".wave", wave_id=wave.id))


# ----------------------------------------------------------------------------- packing
@bp.route("/pack", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def pack_start():
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        code = request.form.get("code", "")
        found = picking.member_from_code(org_id(), code)
        if found is None:
            flash(_("Aucune commande ni aucun bac pour « %(code)s ».", code=picking.clean_scan(code)), "error")
            return redirect(url_for(".pack_start"))
        try:
            member = found if isinstance(found, PickWaveOrder) else picking.wave_for_order(found,
                                                                                           user_id=current_user.id)
        except picking.PickingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".pack_start"))
        db.session.commit()
        return redirect(url_for(".pack", member_id=member.id))
    ready = list(db.session.scalars(
        select(PickWaveOrder).join(PickWave, PickWave.id == PickWaveOrder.wave_id)
        .where(PickWave.organization_id == org_id(), PickWave.status.in_(picking.ACTIVE_WAVE),
               PickWaveOrder.status.in_([PickWaveOrderStatus.PICKING, PickWaveOrderStatus.PACKED]))
        .order_by(PickWave.id, PickWaveOrder.slot).limit(100)))
    return render_template("picking/pack_start.html", form=form, ready=ready, tote_code=picking.tote_code)


@bp.route("/pack/<member_id>")
@roles_required(*EVERYONE)
def pack(member_id: str):
    member = _member(member_id)
    lines = [ln for ln in member.lines]
    shop = member.order.shop
    form = PackForm()
    form.carrier.choices = shipping.carrier_choices(shop)
    several = len(shipping.carrier_addons(shop)) > 1
    offered = {c for c, _t in form.carrier.choices}
    form.carrier.data = form.carrier.data or next(c for c in (shipping.BY_RULES, shipping.CHEAPEST if several else "",
                                                               shipping.default_carrier(shop)) if c in offered)
    content = [(ln.order_line, ln.quantity) for ln in lines]
    form.weight_grams.data = form.weight_grams.data or shipping.shipment_weight(content)
    quotes, best = [], None
    if several and member.status in (PickWaveOrderStatus.PICKING, PickWaveOrderStatus.PACKED) \
            and (member.shipment is None or member.shipment.status == ShipmentStatus.CANCELLED):
        quotes = shipping.quote_rates(shop, member.order, shipping.parcels_for(form.weight_grams.data))
        best = shipping.cheapest(quotes, str(member.order.service_level), member.order.currency)
        db.session.commit()  # a carrier that failed to quote is kept on the shop's sync log
    return render_template("picking/pack.html", member=member, order=member.order, lines=lines, form=form,
                           counts=_counts(lines, "pack"), tote_code=picking.tote_code,
                           scan_url=url_for(".pack_scan", member_id=member.id), quotes=quotes, best=best,
                           meets=shipping.meets)


@bp.route("/pack/<member_id>/scan", methods=["POST"])
@roles_required(*EVERYONE)
def pack_scan(member_id: str):
    member = _member(member_id)
    if member.status in (PickWaveOrderStatus.REMOVED, PickWaveOrderStatus.SHIPPED) \
            or member.order.status == OrderStatus.CANCELLED:
        return jsonify({"ok": False, "status": "error",
                        "message": _("Cette commande n'est plus à emballer.")}), 409
    return _scan_reply("pack", list(member.lines), member)


@bp.route("/pack/<member_id>/ship", methods=["POST"])
@roles_required(*EVERYONE)
def pack_ship(member_id: str):
    member = _member(member_id)
    form = PackForm()
    form.carrier.choices = shipping.carrier_choices(member.order.shop)
    if not form.validate_on_submit():
        flash(_("Poids ou transporteur invalide."), "error")
        return redirect(url_for(".pack", member_id=member.id))
    carrier = form.carrier.data if form.carrier.data in {c for c, _t in form.carrier.choices} else None
    service = None
    addon, _sep, method = request.form.get("rate", "").partition("|")
    if addon in {c for c, _t in shipping.carrier_addons(member.order.shop)}:  # a quote picked on the page
        carrier, service = addon, method.strip()[:120] or None
    try:
        outcome = picking.pack_and_ship(member, form.weight_grams.data, carrier=carrier, user_id=current_user.id,
                                        service=service)
    except (picking.PickingError, shipping.ShippingError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".pack", member_id=member.id))
    db.session.commit()
    flash(outcome.message, "success" if outcome.state == "shipped" else "warning")
    return redirect(url_for(".shipment", shipment_id=outcome.shipment.id,
                            print=1 if outcome.shipment.label else None))


# ----------------------------------------------------------------------------- shipments
@bp.route("/shipments/<shipment_id>")
@roles_required(*EVERYONE)
def shipment(shipment_id: str):
    shipment = _shipment(shipment_id)
    return render_template("picking/shipment.html", shipment=shipment, order=shipment.order,
                           tracking_form=TrackingForm(), action=ActionForm(), manual=shipping.MANUAL,
                           auto_print=request.args.get("print") == "1" and bool(shipment.label),
                           label_pending=shipping.label_pending(shipment))


@bp.route("/shipments/<shipment_id>/label.pdf")
@roles_required(*EVERYONE)
def shipment_label(shipment_id: str):
    shipment = _shipment(shipment_id)
    if not shipment.label:
        abort(404)
    return Response(shipment.label, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="etiquette-{shipment.id}.pdf"'})


def _shipment_action(shipment_id: str, form_cls: type[FlaskForm] = ActionForm):
    shipment = _shipment(shipment_id)
    form = form_cls()
    if not form.validate_on_submit():
        abort(400)
    return shipment, form


@bp.route("/shipments/<shipment_id>/tracking", methods=["POST"])
@roles_required(*EVERYONE)
def shipment_tracking(shipment_id: str):
    shipment = _shipment(shipment_id)
    form = TrackingForm()
    if not form.validate_on_submit():
        flash(_("Saisissez le numéro de suivi."), "error")
        return redirect(url_for(".shipment", shipment_id=shipment.id))
    try:
        shipping.set_tracking(shipment, form.tracking_number.data, tracking_url=form.tracking_url.data or "",
                              carrier_name=form.carrier_name.data or "", user_id=current_user.id)
    except shipping.ShippingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".shipment", shipment_id=shipment.id))
    db.session.commit()
    flash(_("Colis expédié : le suivi part vers la boutique."), "success")
    return redirect(url_for(".shipment", shipment_id=shipment.id))


@bp.route("/shipments/<shipment_id>/ship", methods=["POST"])
@roles_required(*EVERYONE)
def shipment_ship(shipment_id: str):
    shipment, _form = _shipment_action(shipment_id)
    if shipment.status != ShipmentStatus.LABEL_CREATED:
        flash(_("Ce colis n'a pas d'étiquette à expédier."), "error")
        return redirect(url_for(".shipment", shipment_id=shipment.id))
    try:
        shipping.mark_shipped(shipment, user_id=current_user.id)
    except (shipping.ShippingError, StockError, order_flow.TransitionError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".shipment", shipment_id=shipment.id))
    db.session.commit()
    flash(_("Colis expédié."), "success")
    return redirect(url_for(".shipment", shipment_id=shipment.id))


@bp.route("/shipments/<shipment_id>/retry", methods=["POST"])
@roles_required(*EVERYONE)
def shipment_retry(shipment_id: str):
    shipment, _form = _shipment_action(shipment_id)
    outcome = shipping.fetch_label(shipment.id, user_id=current_user.id)
    if outcome.state in ("label_ready", "shipped"):
        flash(_("Étiquette créée."), "success")
        return redirect(url_for(".shipment", shipment_id=outcome.shipment_id, print=1))
    flash(outcome.message or _("Le transporteur n'a pas fourni l'étiquette."), "warning")
    return redirect(url_for(".shipment", shipment_id=outcome.shipment_id))


@bp.route("/shipments/<shipment_id>/manual", methods=["POST"])
@roles_required(*EVERYONE)
def shipment_manual(shipment_id: str):
    shipment, _form = _shipment_action(shipment_id)
    try:
        shipping.switch_to_manual(shipment, user_id=current_user.id)
    except shipping.ShippingError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".shipment", shipment_id=shipment.id))
    db.session.commit()
    return redirect(url_for(".shipment", shipment_id=shipment.id))


@bp.route("/shipments/<shipment_id>/cancel", methods=["POST"])
@roles_required(*MANAGERS)
def shipment_cancel(shipment_id: str):
    shipment, _form = _shipment_action(shipment_id)
    try:
        done = shipping.cancel_shipment(shipment, user_id=current_user.id)
    except shipping.ShippingError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".shipment", shipment_id=shipment.id))
    db.session.commit()
    if done:
        flash(_("Colis annulé : la commande peut être emballée à nouveau."), "success")
    else:
        flash(_("Le transporteur a refusé l'annulation de l'étiquette."), "error")
    return redirect(url_for(".shipment", shipment_id=shipment.id))


# ----------------------------------------------------------------------------- bin locations
def _location_warehouse() -> Warehouse:
    warehouses = _warehouses()
    if not warehouses:
        abort(404)
    wanted = request.values.get("warehouse_id", type=parse_id)
    return next((w for w in warehouses if w.id == wanted), warehouses[0])


@bp.route("/locations")
@roles_required(*EVERYONE)
def locations():
    warehouses = _warehouses()
    if not warehouses:
        return render_template("picking/locations.html", warehouses=[], warehouse=None, rows=[], total=0, page=1,
                               per_page=LOCATIONS_PAGE, q="", bin_form=BinForm(), import_form=ImportForm(),
                               action=ActionForm())
    warehouse = _location_warehouse()
    q = (request.args.get("q") or "").strip()
    page = parse_page(request.args.get("page"))
    stmt = (select(Variant, StockLevel, BinLocation)
            .join(StockLevel, (StockLevel.variant_id == Variant.id) & (StockLevel.warehouse_id == warehouse.id))
            .outerjoin(BinLocation, BinLocation.id == StockLevel.bin_location_id)
            .where(Variant.organization_id == org_id()))
    if q:
        stmt = stmt.where(Variant.sku.ilike(f"%{q}%") | BinLocation.code.ilike(f"%{q}%"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(BinLocation.sort_key.is_(None), BinLocation.sort_key, Variant.sku)
                              .limit(LOCATIONS_PAGE).offset((page - 1) * LOCATIONS_PAGE)).all()
    return render_template("picking/locations.html", warehouses=warehouses, warehouse=warehouse, rows=rows,
                           total=total, page=page, per_page=LOCATIONS_PAGE, q=q, bin_form=BinForm(),
                           import_form=ImportForm(), action=ActionForm())


@bp.route("/locations/assign", methods=["POST"])
@roles_required(*MANAGERS)
def locations_assign():
    warehouse = _location_warehouse()
    form = BinForm()
    if not form.validate_on_submit():
        flash(_("SKU et emplacement sont obligatoires."), "error")
        return redirect(url_for(".locations", warehouse_id=warehouse.id))
    variant = db.session.scalar(scoped(Variant).where(Variant.sku == form.sku.data.strip()))
    if variant is None:
        flash(_("SKU inconnu : %(sku)s", sku=form.sku.data), "error")
        return redirect(url_for(".locations", warehouse_id=warehouse.id))
    location = picking.assign_bin(warehouse, variant, form.bin_code.data, form.sort_key.data or "")
    db.session.commit()
    flash(_("%(sku)s → %(bin)s", sku=variant.sku, bin=location.code), "success")
    return redirect(url_for(".locations", warehouse_id=warehouse.id, q=request.form.get("q") or None))


@bp.route("/locations/import", methods=["POST"])
@roles_required(*MANAGERS)
def locations_import():
    warehouse = _location_warehouse()
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Choisissez un fichier CSV."), "error")
        return redirect(url_for(".locations", warehouse_id=warehouse.id))
    try:
        text = read_text_file(form.file.data.read(UPLOAD_MAX_BYTES + 1))
    except InputError as exc:
        flash(_("Fichier refusé : %(reason)s", reason=exc), "error")
        return redirect(url_for(".locations", warehouse_id=warehouse.id))
    result = picking.import_bins(org_id(), warehouse, text)
    db.session.commit()
    flash(_("%(n)s SKU placé(s), %(c)s emplacement(s) créé(s).", n=result.assigned, c=result.created), "success")
    for error in result.errors[:20]:
        flash(error, "warning")
    return redirect(url_for(".locations", warehouse_id=warehouse.id))


@bp.route("/locations/serpentine", methods=["POST"])
@roles_required(*MANAGERS)
def locations_serpentine():
    warehouse = _location_warehouse()
    if not ActionForm().validate_on_submit():
        abort(400)
    count = 0
    for location in db.session.scalars(select(BinLocation).where(BinLocation.warehouse_id == warehouse.id)):
        location.sort_key = picking.serpentine_sort_key(location.code)
        count += 1
    db.session.commit()
    flash(_("Ordre de passage recalculé pour %(n)s emplacement(s) (allées en serpentin).", n=count), "success")
    return redirect(url_for(".locations", warehouse_id=warehouse.id))


@bp.route("/orders/<order_id>/pack", methods=["POST"])
@roles_required(*EVERYONE)
def order_pack(order_id: str):
    """« Emballer » from an order: straight to its packing screen (a wave of its own if needed)."""
    order = get_owned(Order, order_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        member = picking.wave_for_order(order, user_id=current_user.id)
    except picking.PickingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".pack_start"))
    db.session.commit()
    return redirect(url_for(".pack", member_id=member.id))
