"""Merchant pages: dashboard, orders (filters, bulk actions, order actions), products, stock
(levels, what each shop may sell, adjustments, movements: ``core.views.stock``, on this
blueprint), preparation. Analytics live in ``core.views.analytics``; ``/analytics`` redirects
there."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from .. import documents
from .. import orders as order_flow
from .. import stock as stock_flow
from ..addons import call, registry
from ..catalog import format_dimensions
from ..extensions import db
from ..intake import map_sku
from ..models import (
    FulfillmentChannel,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Shipment,
    Shop,
    User,
    Variant,
    Warehouse,
    utcnow,
)
from ..inputs import parse_day, parse_id, parse_page
from ..security import safe_next
from ..tenancy import EVERYONE, MANAGERS, get_owned, org_id, roles_required, scoped
from .analytics import pages as analytics_pages

bp = Blueprint("main", __name__)
PAGE = 50
#: why a held order waits (Order.hold_code)
HOLD_CODES = ("unknown_sku", "backorder", "no_source", "manual")
#: at most this many refusals are flashed one by one after a bulk action
MAX_REFUSALS_SHOWN = 20


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


class CancelForm(FlaskForm):
    reason = StringField(_l("Raison de l'annulation"), validators=[DataRequired(), Length(max=500)])


class HoldForm(FlaskForm):
    reason = StringField(_l("Raison de la mise en attente"), validators=[DataRequired(), Length(max=500)])


class MapSkuForm(FlaskForm):
    sku = HiddenField(validators=[DataRequired(), Length(max=64)])
    variant_sku = StringField(_l("SKU de votre catalogue"), validators=[DataRequired(), Length(max=64)])


def _page() -> int:
    return parse_page(request.args.get("page"))


def local_next(default: str) -> str:
    """The local page a form came from (``next``), else ``default``."""
    return safe_next(default)


def _warehouses() -> list[Warehouse]:
    return list(db.session.scalars(scoped(Warehouse).order_by(Warehouse.priority, Warehouse.name)))


def _shops() -> list[Shop]:
    return list(db.session.scalars(scoped(Shop).order_by(Shop.name)))


def _channel_title(name: str) -> str:
    addon = registry().get(name)
    return addon.title if addon is not None and addon.manifest else name


def _form_errors(form: FlaskForm) -> str:
    return "; ".join(f"{getattr(form, k).label.text if hasattr(form, k) else k} : {', '.join(map(str, v))}"
                     for k, v in form.errors.items())


@bp.route("/")
@roles_required(*EVERYONE)
def dashboard():
    since = utcnow() - timedelta(days=30)
    counts = dict(db.session.execute(
        select(Order.status, func.count()).where(Order.organization_id == org_id())
        .group_by(Order.status)).all())
    recent = db.session.scalars(scoped(Order).order_by(Order.placed_at.desc()).limit(10)).all()
    month_orders = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.organization_id == org_id(), Order.placed_at >= since))
    shops = db.session.scalars(scoped(Shop).order_by(Shop.name)).all()
    return render_template("main/dashboard.html", counts=counts, recent=recent,
                           month_orders=month_orders, shops=shops, OrderStatus=OrderStatus)


# ----------------------------------------------------------------------------- orders
def _org_zone() -> timezone | ZoneInfo:
    try:
        return ZoneInfo(current_user.organization.timezone or "Europe/Paris")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _day(value: str | None) -> date | None:
    return parse_day(value)


def _order_filters() -> dict:
    args = request.args
    status = args.get("status", "")
    exception = args.get("exception", "")
    hold = args.get("hold", "")
    return {
        "q": args.get("q", "").strip(),
        "status": status if status in {s.value for s in OrderStatus} else "",
        "shop": args.get("shop", type=parse_id),
        "channel": args.get("channel", "").strip(),
        "date_from": _day(args.get("from")),
        "date_to": _day(args.get("to")),
        "exception": exception if exception in ("on_hold", "over_quota", "any") else "",
        "hold": hold if hold in HOLD_CODES else "",
    }


def _filtered_orders(f: dict):
    stmt = scoped(Order)
    if f["status"]:
        stmt = stmt.where(Order.status == OrderStatus(f["status"]))
    if f["shop"]:
        stmt = stmt.where(Order.shop_id == f["shop"])
    if f["channel"]:
        stmt = stmt.where(Order.shop_id.in_(select(Shop.id).where(Shop.organization_id == org_id(),
                                                                  Shop.addon == f["channel"])))
    zone = _org_zone()
    if f["date_from"]:
        stmt = stmt.where(Order.placed_at >= datetime.combine(f["date_from"], time.min, tzinfo=zone))
    if f["date_to"]:
        stmt = stmt.where(Order.placed_at < datetime.combine(f["date_to"] + timedelta(days=1), time.min,
                                                             tzinfo=zone))
    if f["exception"] == "on_hold" or f["hold"]:
        stmt = stmt.where(Order.status == OrderStatus.ON_HOLD)
    elif f["exception"] == "over_quota":
        stmt = stmt.where(Order.over_quota.is_(True))
    elif f["exception"] == "any":
        stmt = stmt.where((Order.status == OrderStatus.ON_HOLD) | Order.over_quota.is_(True))
    if f["hold"]:
        stmt = stmt.where(Order.hold_code == f["hold"])
    if f["q"]:
        like = f"%{f['q']}%"
        stmt = stmt.where(Order.number.ilike(like) | Order.email.ilike(like) | Order.external_id.ilike(like)
                          | Order.id.in_(select(OrderLine.order_id).join(Order, Order.id == OrderLine.order_id)
                                         .where(Order.organization_id == org_id(), OrderLine.sku.ilike(like))))
    return stmt


@bp.route("/orders")
@roles_required(*MANAGERS)
def orders():
    f = _order_filters()
    stmt = _filtered_orders(f)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Order.placed_at.desc(), Order.id.desc())
                              .options(selectinload(Order.lines))  # who ships each part, in one query
                              .limit(PAGE).offset((_page() - 1) * PAGE)).all()
    shops = _shops()
    channels = sorted({s.addon for s in shops})
    args = {"q": f["q"], "status": f["status"], "shop": f["shop"], "channel": f["channel"],
            "from": f["date_from"].isoformat() if f["date_from"] else "",
            "to": f["date_to"].isoformat() if f["date_to"] else "",
            "exception": f["exception"], "hold": f["hold"]}
    filtered = any(v for v in args.values())
    return render_template("main/orders.html", orders=rows, total=total, page=_page(), per_page=PAGE,
                           shops=shops, channels=[(c, _channel_title(c)) for c in channels],
                           OrderStatus=OrderStatus, f=f, args=args, filtered=filtered,
                           status=f["status"], shop_id=f["shop"], q=f["q"], action=ActionForm())


@bp.route("/orders/export.csv")
@roles_required(*MANAGERS)
def orders_export():
    """The filtered list, every order (not just this page), for the accountant's spreadsheet."""
    body = documents.orders_csv(_filtered_orders(_order_filters()), zone=_org_zone(),
                                currency=current_user.organization.currency or "EUR")
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="commandes.csv"'})


@bp.route("/orders/<order_id>/packing-slip.pdf")
@roles_required(*EVERYONE)
def order_packing_slip(order_id: str):
    order = get_owned(Order, order_id)
    pdf = documents.packing_slips_pdf([order], title=f"Bon de livraison {order.number}")
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="bon-de-livraison-{order.id}.pdf"'})


def _owned_orders(raw_ids: list[str]) -> list[Order]:
    """The checked orders, all of this organization (any other id: 404)."""
    ids = sorted({parse_id(i) for i in raw_ids})
    if None in ids:
        abort(404)
    found = list(db.session.scalars(scoped(Order).where(Order.id.in_(ids))
                                    .order_by(Order.placed_at, Order.id))) if ids else []
    if len(found) != len(ids):
        abort(404)
    return found


def _report(done_label: str, done: list[Order], refused: list[tuple[Order, str]]) -> None:
    if done:
        flash(_("%(action)s : %(orders)s", action=done_label, orders=", ".join(o.number for o in done)), "success")
    for order, why in refused[:MAX_REFUSALS_SHOWN]:
        flash(_("%(order)s refusée : %(reason)s", order=order.number, reason=why), "error")
    if len(refused) > MAX_REFUSALS_SHOWN:
        flash(ngettext("… et %(num)s autre refus.", "… et %(num)s autres refus.",
                       len(refused) - MAX_REFUSALS_SHOWN), "error")


@bp.route("/orders/bulk", methods=["POST"])
@roles_required(*MANAGERS)
def orders_bulk():
    back = local_next(url_for(".orders"))
    chosen = _owned_orders(request.form.getlist("ids"))
    action = request.form.get("action", "")
    if action not in ("cancel", "rerun", "picking"):
        flash(_("Choisissez une action."), "error")
        return redirect(back)
    if not chosen:
        flash(_("Cochez au moins une commande."), "error")
        return redirect(back)
    done: list[Order] = []
    refused: list[tuple[Order, str]] = []
    if action == "cancel":
        reason = request.form.get("reason", "").strip()[:500]
        if not reason:
            flash(_("Indiquez la raison de l'annulation."), "error")
            return redirect(back)
        for order in chosen:
            if order.status == OrderStatus.CANCELLED:
                refused.append((order, _("déjà annulée")))
                continue
            try:
                order_flow.cancel(order, source="user", user_id=current_user.id, reason=reason)
            except order_flow.TransitionError as exc:
                refused.append((order, str(exc)))
            else:
                done.append(order)
        db.session.commit()
        _report(_("Annulées"), done, refused)
    elif action == "rerun":
        held = [o for o in chosen if o.status == OrderStatus.ON_HOLD and o.hold_code != "manual"]
        for order in chosen:
            if order.status != OrderStatus.ON_HOLD:
                refused.append((order, _("elle n'est pas en attente")))
            elif order.hold_code == "manual":
                refused.append((order, _("mise en attente manuellement : reprenez-la depuis sa page")))
        if held:  # never an empty list: rerun_rules would then take every held order
            order_flow.rerun_rules(org_id(), [o.id for o in held])
        db.session.commit()
        for order in held:
            if order.status == OrderStatus.ON_HOLD:
                refused.append((order, _("toujours en attente : %(reason)s", reason=order.hold_reason or "")))
            else:
                done.append(order)
        _report(_("Reprises"), done, refused)
    else:
        for order in chosen:
            if order.fulfillment_channel == FulfillmentChannel.MARKETPLACE:
                refused.append((order, _("expédiée par la marketplace : rien à préparer")))
            elif order.status != OrderStatus.ALLOCATED:
                refused.append((order, _("seules les commandes allouées passent en préparation (statut : %(status)s)",
                                         status=order_flow.LABELS[order.status])))
            else:
                try:
                    order_flow.transition(order, OrderStatus.PICKING, source="user", user_id=current_user.id)
                except order_flow.TransitionError as exc:
                    refused.append((order, str(exc)))
                else:
                    done.append(order)
        db.session.commit()
        _report(_("En préparation"), done, refused)
    return redirect(back)


#: where each status sits in an order's life, to sort the transition buttons
_STEP = {OrderStatus.NEW: 0, OrderStatus.ON_HOLD: 0.5, OrderStatus.ALLOCATED: 1, OrderStatus.PICKING: 2,
         OrderStatus.PACKED: 3, OrderStatus.SHIPPED: 4, OrderStatus.DELIVERED: 5, OrderStatus.RETURNED: 6,
         OrderStatus.CANCELLED: 7}


def _next_statuses(order: Order) -> list[OrderStatus]:
    """The transition buttons of an order page (cancelling and holding have their own forms)."""
    allowed = order_flow.TRANSITIONS[order.status] - {OrderStatus.CANCELLED, OrderStatus.ON_HOLD, order.status}
    if order.fulfillment_channel == FulfillmentChannel.MARKETPLACE:
        allowed -= {OrderStatus.PICKING, OrderStatus.PACKED}  # the marketplace ships it: no picking
    # forward steps first, in life-cycle order (the first one is the main button), then steps back
    here = _STEP[order.status]
    return sorted(allowed, key=lambda s: (_STEP[s] < here, _STEP[s]))


@bp.route("/orders/<order_id>")
@roles_required(*MANAGERS)
def order(order_id: str):
    order = get_owned(Order, order_id)
    unmapped = sorted({ln.sku for ln in order.lines if ln.variant_id is None})
    users = {}
    user_ids = {e.user_id for e in order.events if e.user_id}
    if user_ids:
        users = {u.id: u for u in db.session.scalars(select(User).where(
            User.id.in_(user_ids), User.organization_id == org_id()))}
    return render_template(
        "main/order.html", order=order, next_statuses=_next_statuses(order),
        can_hold=OrderStatus.ON_HOLD in order_flow.TRANSITIONS[order.status] and order.status != OrderStatus.ON_HOLD,
        can_cancel=OrderStatus.CANCELLED in order_flow.TRANSITIONS[order.status],
        unmapped=unmapped if order.status == OrderStatus.ON_HOLD and order.hold_code == "unknown_sku" else [],
        users=users, action=ActionForm(), cancel_form=CancelForm(formdata=None),
        hold_form=HoldForm(formdata=None),
        catalogue_skus=db.session.scalars(select(Variant.sku).where(Variant.organization_id == org_id())
                                          .order_by(Variant.sku).limit(500)).all() if unmapped else [],
        **_pickup_search(order))


def _pickup_search(order: Order) -> dict:
    """The pick-up point card of the order page: the point, and the search the merchant ran."""
    from .. import pickup

    context = {"pickup": pickup.point_of(order), "pickup_network_name": pickup.network_name,
               "pickup_results": None, "pickup_problems": [], "pickup_form": ActionForm(),
               "pickup_query": {"postal_code": request.args.get("pickup_postal_code", "").strip(),
                                "city": request.args.get("pickup_city", "").strip()}}
    if not context["pickup_query"]["postal_code"]:
        return context
    current = context["pickup"]
    try:
        found, problems = pickup.search(order, context["pickup_query"]["postal_code"],
                                        context["pickup_query"]["city"],
                                        network=current.network if current else "")
    except pickup.PickupError as exc:
        found, problems = [], [str(exc)]
    context.update(pickup_results=found, pickup_problems=problems,
                   pickup_payloads=[json.dumps(pickup.to_dict(p)) for p in found])
    return context


@bp.route("/orders/<order_id>/pickup-point", methods=["POST"])
@roles_required(*MANAGERS)
def order_pickup_point(order_id: str):
    """The merchant sends the parcel to another relay point (one from the search above)."""
    from .. import pickup

    order = get_owned(Order, order_id)
    form = ActionForm()
    point = None
    if form.validate_on_submit():
        try:
            raw = json.loads(request.form.get("point", "")[:4000])
            address = pickup.NormalizedAddress(**{k: str(v or "")[:200] for k, v in (raw.get("address") or {}).items()
                                                  if k in pickup.NormalizedAddress.__dataclass_fields__})
            point = pickup.NormalizedPickupPoint(
                id=str(raw["id"])[:64], network=str(raw.get("network") or "")[:32], name=str(raw.get("name") or "")[:120],
                address=address, opening_hours=[str(h)[:120] for h in (raw.get("opening_hours") or [])][:7])
        except (ValueError, KeyError, TypeError, AttributeError):
            point = None
    if point is None or not point.id:
        flash(_("Choisissez un point de retrait dans la liste."), "error")
        return redirect(url_for(".order", order_id=order.id))
    try:
        pickup.choose(order, point, user_id=current_user.id)
    except pickup.PickupError as exc:
        db.session.rollback()
        flash(_("Refusé : %(reason)s", reason=str(exc)), "error")
    else:
        db.session.commit()
        flash(_("Point de retrait changé : %(name)s.", name=point.name or point.id), "success")
    return redirect(url_for(".order", order_id=order.id))


@bp.route("/orders/<order_id>/cancel", methods=["POST"])
@roles_required(*MANAGERS)
def order_cancel(order_id: str):
    order = get_owned(Order, order_id)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(_("Indiquez la raison de l'annulation."), "error")
        return redirect(url_for(".order", order_id=order.id))
    if order.status == OrderStatus.CANCELLED:
        flash(_("Cette commande est déjà annulée."), "info")
        return redirect(url_for(".order", order_id=order.id))
    try:
        order_flow.cancel(order, source="user", user_id=current_user.id, reason=form.reason.data.strip())
    except order_flow.TransitionError as exc:
        db.session.rollback()
        flash(_("Refusé : %(reason)s", reason=str(exc)), "error")
    else:
        db.session.commit()
        flash(_("Commande %(number)s annulée : son stock réservé est libéré.", number=order.number), "success")
    return redirect(url_for(".order", order_id=order.id))


@bp.route("/orders/<order_id>/hold", methods=["POST"])
@roles_required(*MANAGERS)
def order_hold(order_id: str):
    order = get_owned(Order, order_id)
    form = HoldForm()
    if not form.validate_on_submit():
        flash(_("Indiquez la raison de la mise en attente."), "error")
        return redirect(url_for(".order", order_id=order.id))
    reason = form.reason.data.strip()
    try:
        order_flow.transition(order, OrderStatus.ON_HOLD, source="user", user_id=current_user.id, reason=reason)
    except order_flow.TransitionError as exc:
        db.session.rollback()
        flash(_("Refusé : %(reason)s", reason=str(exc)), "error")
    else:
        order.hold_code, order.hold_reason = "manual", reason
        db.session.commit()
        flash(_("Commande %(number)s mise en attente.", number=order.number), "success")
    return redirect(url_for(".order", order_id=order.id))


@bp.route("/orders/<order_id>/status", methods=["POST"])
@roles_required(*MANAGERS)
def order_transition(order_id: str):
    order = get_owned(Order, order_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    back = url_for(".order", order_id=order.id)
    try:
        target = OrderStatus(request.form.get("status", ""))
    except ValueError:
        flash(_("Statut inconnu."), "error")
        return redirect(back)
    if target in (OrderStatus.CANCELLED, OrderStatus.ON_HOLD):
        flash(_("Utilisez le formulaire dédié, avec une raison."), "error")
        return redirect(back)
    if target == order.status:
        flash(_("La commande est déjà dans ce statut."), "info")
        return redirect(back)
    if order.fulfillment_channel == FulfillmentChannel.MARKETPLACE and target in (OrderStatus.PICKING,
                                                                                  OrderStatus.PACKED):
        flash(_("Refusé : la marketplace prépare et expédie cette commande."), "error")
        return redirect(back)
    try:
        if target not in order_flow.TRANSITIONS[order.status]:
            order_flow.transition(order, target)  # raises the merchant-facing refusal
        if target == OrderStatus.ALLOCATED and order.status in (OrderStatus.NEW, OrderStatus.ON_HOLD):
            # allocating means routing and reserving: never a bare status change
            if not order_flow.allocate(order):
                db.session.commit()
                flash(_("Allocation impossible : %(reason)s", reason=order.hold_reason or ""), "warning")
                return redirect(back)
        elif (target == OrderStatus.SHIPPED and order.fulfillment_channel == FulfillmentChannel.MERCHANT
              and any(ln.reserved_quantity for ln in order.lines)):
            # the reserved units leave the warehouse with a manual shipment
            warehouse_id = next((ln.warehouse_id for ln in order.lines if ln.warehouse_id), None)
            order_flow.ship(order, Shipment(carrier="manual", warehouse_id=warehouse_id), user_id=current_user.id)
        else:
            order_flow.transition(order, target, source="user", user_id=current_user.id)
    except (order_flow.TransitionError, stock_flow.StockError) as exc:
        db.session.rollback()
        flash(_("Refusé : %(reason)s", reason=str(exc)), "error")
        return redirect(back)
    db.session.commit()
    flash(_("Commande %(number)s : %(status)s.", number=order.number, status=order_flow.LABELS[order.status]),
          "success")
    return redirect(back)


@bp.route("/orders/<order_id>/map-sku", methods=["POST"])
@roles_required(*MANAGERS)
def order_map_sku(order_id: str):
    order = get_owned(Order, order_id)
    back = url_for(".order", order_id=order.id)
    form = MapSkuForm()
    if not form.validate_on_submit():
        flash(_("Indiquez le SKU de votre catalogue à associer."), "error")
        return redirect(back)
    sku = form.sku.data.strip()
    if sku not in {ln.sku for ln in order.lines if ln.variant_id is None}:
        flash(_("Le SKU « %(sku)s » n'est pas à associer sur cette commande.", sku=sku), "error")
        return redirect(back)
    target = form.variant_sku.data.strip()
    variant = db.session.scalar(scoped(Variant).where(Variant.sku == target))
    if variant is None:
        flash(_("Aucun produit de votre catalogue n'a le SKU « %(sku)s ».", sku=target), "error")
        return redirect(back)
    resumed = map_sku(org_id(), sku, variant)
    db.session.commit()
    flash(_("SKU « %(sku)s » associé à « %(variant)s ».", sku=sku, variant=variant.sku) + " "
          + ngettext("%(num)s commande reprise.", "%(num)s commandes reprises.", resumed), "success")
    return redirect(back)


@bp.route("/orders/<order_id>/rerun", methods=["POST"])
@roles_required(*MANAGERS)
def order_rerun(order_id: str):
    order = get_owned(Order, order_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    back = url_for(".order", order_id=order.id)
    if order.status != OrderStatus.ON_HOLD:
        flash(_("Cette commande n'est pas en attente."), "info")
        return redirect(back)
    if order.hold_code == "manual":
        flash(_("Mise en attente manuellement : allouez-la pour la reprendre."), "info")
        return redirect(back)
    order_flow.rerun_rules(org_id(), [order.id])
    db.session.commit()
    if order.status == OrderStatus.ON_HOLD:
        flash(_("Toujours en attente : %(reason)s", reason=order.hold_reason or ""), "warning")
    else:
        flash(_("Commande %(number)s reprise : %(status)s.", number=order.number,
                status=order_flow.LABELS[order.status]), "success")
    return redirect(back)


# ----------------------------------------------------------------------------- products
@bp.route("/products")
@roles_required(*MANAGERS)
def products():
    q = request.args.get("q", "").strip()
    stmt = scoped(Product)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Product.title.ilike(like) | Product.id.in_(
            select(Variant.product_id).where(Variant.organization_id == org_id(),
                                             Variant.sku.ilike(like) | Variant.barcode.ilike(like))))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Product.title).limit(PAGE).offset((_page() - 1) * PAGE)).all()
    return render_template("main/products.html", products=rows, total=total, page=_page(), per_page=PAGE, q=q)


@bp.route("/products/<product_id>")
@roles_required(*MANAGERS)
def product(product_id: str):
    item = get_owned(Product, product_id)
    channels = []
    for shop in _shops():
        actions = [a for found in (call(shop, "product_channel_actions", product=item) or []) for a in (found or [])]
        if actions:
            channels.append((shop, actions))
    return render_template("main/product.html", product=item, channels=channels, action=ActionForm(),
                           format_dimensions=format_dimensions)


# ----------------------------------------------------------------------------- preparation
@bp.route("/preparation")
@roles_required(*EVERYONE)
def preparation():
    rows = db.session.scalars(
        scoped(Order).where(Order.status.in_([OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED]),
                            Order.fulfillment_channel != FulfillmentChannel.MARKETPLACE)  # shipped by the marketplace
        .order_by(Order.placed_at).limit(200)).all()
    return render_template("main/preparation.html", orders=rows)


@bp.route("/analytics")
@roles_required(*MANAGERS)
def analytics():
    """The menu's "Analyses" entry: the analytics dashboard (``core.views.analytics``)."""
    return analytics_pages.dashboard()
