"""Dropshipping pages: suppliers and their products, purchase orders with their sends, stock
feed runs (merchant, signed in); the supplier's page reached by a signed link (no account);
the suppliers' API for tracking."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from core.connectors.guards import addon_required
from core.extensions import csrf, db
from core.jobs import enqueue
from core.models import Order, StockLevel, Variant
from core.inputs import QTY_MAX, InputError, checked_json, parse_id, parse_int, parse_page
from core.security import safe_next
from core.stock import set_sell_buffer
from core.tenancy import get_owned, org_id, scoped

from .feeds import apply_feed
from .forms import (
    CHANNEL_LABELS,
    ActionForm,
    SupplierForm,
    SupplierProductForm,
    TrackingForm,
    UploadForm,
)
from .jobs import FEED_JOB
from .links import MAX_AGE, LinkError, read_token, supplier_link
from .models import (
    DropshipFeedRun,
    DropshipPurchaseOrder,
    DropshipSend,
    DropshipSupplier,
    DropshipSupplierProduct,
)
from .models import PurchaseOrderStatus as PO
from .purchasing import SENDABLE, queue_send
from .suppliers import ensure_warehouse, new_api_key, new_webhook_secret, rename_warehouse, supplier_for_key
from .tracking import TRACKING_COLUMNS, CsvReport, TrackingError, apply_tracking, apply_tracking_csv, confirm, remaining

ADDON = "dropship"
PER_PAGE = 50
bp = Blueprint(ADDON, __name__, template_folder="templates", url_prefix="/apps/dropship")

STATUS_LABELS = {PO.PENDING: _l("en attente de l'envoi groupé"), PO.QUEUED: _l("envoi en cours"), PO.SENT: _l("envoyé"),
                 PO.FAILED: _l("échec d'envoi"), PO.CONFIRMED: _l("confirmé"), PO.PARTIALLY_SHIPPED: _l("expédié en partie"),
                 PO.SHIPPED: _l("expédié"), PO.CANCELLED: _l("annulé")}
STATUS_KINDS = {PO.PENDING: "muted", PO.QUEUED: "info", PO.SENT: "primary", PO.FAILED: "error",
                PO.CONFIRMED: "teal", PO.PARTIALLY_SHIPPED: "warning", PO.SHIPPED: "ok", PO.CANCELLED: "muted"}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"dropship_status_labels": STATUS_LABELS, "dropship_status_kinds": STATUS_KINDS}


#: the merchant's pages: managers, the add-on enabled on at least one shop of the organization
merchant = addon_required(ADDON, disabled_template="dropship/disabled.html")


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _report(report: CsvReport) -> None:
    if report.applied:
        flash(ngettext("%(num)s expédition enregistrée : %(refs)s.", "%(num)s expéditions enregistrées : %(refs)s.",
                       len(report.applied), refs=", ".join(report.applied)), "success")
    if report.unchanged:
        flash(ngettext("%(num)s numéro de suivi déjà connu : %(refs)s.", "%(num)s numéros de suivi déjà connus : "
                       "%(refs)s.", len(report.unchanged), refs=", ".join(report.unchanged)), "info")
    for error in report.errors:
        flash(_("Ligne %(line)s : %(reason)s", line=error["line"], reason=error["reason"]), "error")
    if not (report.applied or report.unchanged or report.errors):
        flash(_("Le fichier ne contient aucune ligne."), "warning")


# ----------------------------------------------------------------------------- suppliers
@bp.route("/")
@merchant
def index():
    return redirect(url_for(".suppliers"))


@bp.route("/suppliers")
@merchant
def suppliers():
    rows = db.session.scalars(scoped(DropshipSupplier).order_by(DropshipSupplier.name)).all()
    ids = [s.id for s in rows] or [0]
    products = dict(db.session.execute(select(DropshipSupplierProduct.supplier_id, func.count())
                                       .where(DropshipSupplierProduct.supplier_id.in_(ids))
                                       .group_by(DropshipSupplierProduct.supplier_id)).all())
    open_pos = dict(db.session.execute(select(DropshipPurchaseOrder.supplier_id, func.count())
                                       .where(DropshipPurchaseOrder.supplier_id.in_(ids),
                                              DropshipPurchaseOrder.status.in_(PO.OPEN))
                                       .group_by(DropshipPurchaseOrder.supplier_id)).all())
    return render_template("dropship/suppliers.html", suppliers=rows, products=products, open_pos=open_pos,
                           channels=CHANNEL_LABELS)


def _fill(supplier: DropshipSupplier, form: SupplierForm) -> None:
    supplier.name = form.name.data
    supplier.contact_name = form.contact_name.data or None
    supplier.email = form.email.data
    supplier.phone = form.phone.data or None
    supplier.order_channel = form.order_channel.data
    supplier.webhook_url = form.webhook_url.data or None
    supplier.lead_time_days = form.lead_time_days.data
    supplier.currency = form.currency.data
    supplier.batch_times = form.batch_times.data or None
    supplier.feed_url = form.feed_url.data or None
    supplier.feed_interval_minutes = form.feed_interval_minutes.data if form.feed_url.data else None
    supplier.active = bool(form.active.data)
    if form.webhook_secret.data:
        supplier.webhook_secret = form.webhook_secret.data


def _secret_if_missing(supplier: DropshipSupplier) -> str | None:
    """A supplier reached by webhook without a shared secret gets one, to show once."""
    if supplier.order_channel != "webhook" or supplier.webhook_secret:
        return None
    secret = new_webhook_secret()
    supplier.webhook_secret = secret
    return secret


def _name_taken(name: str, supplier_id: int | None = None) -> bool:
    stmt = scoped(DropshipSupplier).where(func.lower(DropshipSupplier.name) == name.lower())
    if supplier_id is not None:
        stmt = stmt.where(DropshipSupplier.id != supplier_id)
    return db.session.scalar(stmt.limit(1)) is not None


@bp.route("/suppliers/new", methods=["GET", "POST"])
@merchant
def supplier_new():
    form = SupplierForm()
    if form.validate_on_submit():
        if _name_taken(form.name.data):
            form.name.errors.append(_("Un fournisseur porte déjà ce nom."))
        else:
            supplier = DropshipSupplier(organization_id=org_id())
            _fill(supplier, form)
            generated_secret = _secret_if_missing(supplier)
            key = new_api_key(supplier)
            db.session.add(supplier)
            db.session.flush()
            set_sell_buffer(ensure_warehouse(supplier), form.stock_buffer.data or 0)
            db.session.commit()
            flash(_("Fournisseur « %(name)s » créé.", name=supplier.name), "success")
            return render_template("dropship/credentials.html", supplier=supplier, api_key=key,
                                   webhook_secret=generated_secret)
    elif form.is_submitted():
        flash(_("Vérifiez le formulaire."), "error")
    return render_template("dropship/supplier_form.html", form=form, supplier=None)


@bp.route("/suppliers/<supplier_id>", methods=["GET", "POST"])
@merchant
def supplier_edit(supplier_id: str):
    supplier = get_owned(DropshipSupplier, supplier_id)
    form = SupplierForm(obj=supplier) if request.method == "GET" else SupplierForm()
    if request.method == "GET":
        form.webhook_secret.data = ""
    if form.validate_on_submit():
        if _name_taken(form.name.data, supplier.id):
            form.name.errors.append(_("Un fournisseur porte déjà ce nom."))
        else:
            had_batches = bool(supplier.batch_times)
            _fill(supplier, form)
            generated_secret = _secret_if_missing(supplier)
            set_sell_buffer(ensure_warehouse(supplier), form.stock_buffer.data or 0)
            rename_warehouse(supplier)
            if had_batches and not supplier.batch_times:
                waiting = db.session.scalars(select(DropshipPurchaseOrder).where(
                    DropshipPurchaseOrder.supplier_id == supplier.id, DropshipPurchaseOrder.status == PO.PENDING)
                    .order_by(DropshipPurchaseOrder.id)).all()
                for po in waiting:
                    queue_send([po])
            db.session.commit()
            flash(_("Fournisseur enregistré."), "success")
            if generated_secret:
                return render_template("dropship/credentials.html", supplier=supplier, api_key=None,
                                       webhook_secret=generated_secret)
            return redirect(url_for(".supplier_edit", supplier_id=supplier.id))
    elif form.is_submitted():
        flash(_("Vérifiez le formulaire."), "error")
    return render_template("dropship/supplier_form.html", form=form, supplier=supplier, action=ActionForm(),
                           has_secret=bool(supplier.webhook_secret))


@bp.route("/suppliers/<supplier_id>/api-key", methods=["POST"])
@merchant
def supplier_key(supplier_id: str):
    supplier = get_owned(DropshipSupplier, supplier_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    key = new_api_key(supplier)
    db.session.commit()
    flash(_("Nouvelle clé d'API créée : l'ancienne ne fonctionne plus."), "success")
    return render_template("dropship/credentials.html", supplier=supplier, api_key=key, webhook_secret=None)


# ----------------------------------------------------------------------------- supplier products
@bp.route("/suppliers/<supplier_id>/products", methods=["GET", "POST"])
@merchant
def supplier_products(supplier_id: str):
    supplier = get_owned(DropshipSupplier, supplier_id)
    form = SupplierProductForm()
    if request.method == "GET":
        form.currency.data = supplier.currency
    if form.validate_on_submit():
        variant = db.session.scalar(scoped(Variant).where(Variant.sku == form.sku.data))
        clash = db.session.scalar(select(DropshipSupplierProduct).where(
            DropshipSupplierProduct.supplier_id == supplier.id,
            DropshipSupplierProduct.supplier_sku == form.supplier_sku.data,
            DropshipSupplierProduct.variant_id != (variant.id if variant else 0)))
        if variant is None:
            form.sku.errors.append(_("Aucun produit n'a ce SKU dans votre catalogue."))
        elif clash is not None:
            form.supplier_sku.errors.append(_("Cette référence fournisseur sert déjà à un autre produit."))
        else:
            link = db.session.scalar(select(DropshipSupplierProduct).where(
                DropshipSupplierProduct.supplier_id == supplier.id, DropshipSupplierProduct.variant_id == variant.id))
            created = link is None
            if link is None:
                link = DropshipSupplierProduct(supplier_id=supplier.id, variant_id=variant.id)
                db.session.add(link)
            link.supplier_sku = form.supplier_sku.data
            link.unit_cost = form.unit_cost.data
            link.currency = form.currency.data or supplier.currency
            link.priority = form.priority.data
            link.mode = form.mode.data
            link.dropship_only = bool(form.dropship_only.data)
            db.session.commit()
            flash(_("%(sku)s associé à %(supplier)s.", sku=variant.sku, supplier=supplier.name) if created
                  else _("%(sku)s mis à jour.", sku=variant.sku), "success")
            return redirect(url_for(".supplier_products", supplier_id=supplier.id))
    elif form.is_submitted():
        flash(_("Vérifiez le formulaire."), "error")
    links = db.session.execute(
        select(DropshipSupplierProduct, Variant).join(Variant, Variant.id == DropshipSupplierProduct.variant_id)
        .where(DropshipSupplierProduct.supplier_id == supplier.id).order_by(Variant.sku)).all()
    stock = {}
    if supplier.warehouse_id:
        stock = dict(db.session.execute(select(StockLevel.variant_id, StockLevel.on_hand - StockLevel.reserved).where(
            StockLevel.warehouse_id == supplier.warehouse_id)).all())
    return render_template("dropship/supplier_products.html", supplier=supplier, form=form, links=links,
                           stock=stock, action=ActionForm())


@bp.route("/suppliers/<supplier_id>/products/<link_id>/delete", methods=["POST"])
@merchant
def supplier_product_delete(supplier_id: str, link_id: str):
    supplier = get_owned(DropshipSupplier, supplier_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    link = db.session.get(DropshipSupplierProduct, parse_id(link_id)) if parse_id(link_id) else None
    if link is None or link.supplier_id != supplier.id:
        abort(404)
    sku = link.variant.sku
    db.session.delete(link)
    db.session.commit()
    flash(_("%(sku)s n'est plus associé à %(supplier)s.", sku=sku, supplier=supplier.name), "success")
    return redirect(url_for(".supplier_products", supplier_id=supplier.id))


# ----------------------------------------------------------------------------- stock feeds
@bp.route("/feeds")
@merchant
def feeds():
    supplier_list = db.session.scalars(scoped(DropshipSupplier).order_by(DropshipSupplier.name)).all()
    chosen = request.args.get("supplier", type=parse_id)
    stmt = (select(DropshipFeedRun).join(DropshipSupplier, DropshipSupplier.id == DropshipFeedRun.supplier_id)
            .where(DropshipSupplier.organization_id == org_id()))
    if chosen:
        stmt = stmt.where(DropshipFeedRun.supplier_id == chosen)
    runs = db.session.scalars(stmt.order_by(DropshipFeedRun.at.desc(), DropshipFeedRun.id.desc()).limit(100)).all()
    return render_template("dropship/feeds.html", suppliers=supplier_list, runs=runs, chosen=chosen,
                           upload=UploadForm(), action=ActionForm())


@bp.route("/suppliers/<supplier_id>/feed", methods=["POST"])
@merchant
def feed_upload(supplier_id: str):
    supplier = get_owned(DropshipSupplier, supplier_id)
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choisissez un fichier CSV."), "error")
        return redirect(url_for(".feeds", supplier=supplier.id))
    run = apply_feed(supplier, form.file.data.read(), source="upload")
    db.session.commit()
    if run.error:
        flash(_("Flux illisible : %(error)s", error=run.error), "error")
    else:
        flash(ngettext("%(num)s ligne appliquée", "%(num)s lignes appliquées", run.ok_rows)
              + (" · " + ngettext("%(num)s ligne en erreur", "%(num)s lignes en erreur", len(run.errors))
                 if run.errors else ""), "warning" if run.errors else "success")
    return redirect(url_for(".feeds", supplier=supplier.id))


@bp.route("/suppliers/<supplier_id>/feed/fetch", methods=["POST"])
@merchant
def feed_fetch(supplier_id: str):
    supplier = get_owned(DropshipSupplier, supplier_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not supplier.feed_url:
        flash(_("Ce fournisseur n'a pas d'adresse de flux."), "error")
    else:
        enqueue(FEED_JOB, supplier.id, job_id=f"dropship-feed-{supplier.id}", unique=True, retries=2,
                intervals=(120, 600))
        db.session.commit()
        flash(_("Lecture du flux de %(name)s lancée.", name=supplier.name), "success")
    return redirect(url_for(".feeds", supplier=supplier.id))


# ----------------------------------------------------------------------------- purchase orders
@bp.route("/purchase-orders")
@merchant
def purchase_orders():
    status = request.args.get("status", "")
    chosen = request.args.get("supplier", type=parse_id)
    page = parse_page(request.args.get("page"))
    stmt = scoped(DropshipPurchaseOrder)
    if status in PO.ALL:
        stmt = stmt.where(DropshipPurchaseOrder.status == status)
    if chosen:
        stmt = stmt.where(DropshipPurchaseOrder.supplier_id == chosen)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pos = db.session.scalars(stmt.order_by(DropshipPurchaseOrder.created_at.desc(), DropshipPurchaseOrder.id.desc())
                             .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    sends: dict[int, list[DropshipSend]] = {po.id: [] for po in pos}
    if pos:
        for send in db.session.scalars(select(DropshipSend).where(DropshipSend.purchase_order_id.in_(list(sends)))
                                       .order_by(DropshipSend.id)):
            sends[send.purchase_order_id].append(send)
    return render_template("dropship/purchase_orders.html", pos=pos, sends=sends, status=status, chosen=chosen,
                           suppliers=db.session.scalars(scoped(DropshipSupplier).order_by(DropshipSupplier.name)).all(),
                           page=page, per_page=PER_PAGE, total=total, upload=UploadForm(), action=ActionForm(),
                           columns=TRACKING_COLUMNS, sendable=SENDABLE)


@bp.route("/purchase-orders/<po_id>", methods=["GET", "POST"])
@merchant
def purchase_order(po_id: str):
    po = get_owned(DropshipPurchaseOrder, po_id)
    form = TrackingForm()
    if form.validate_on_submit():
        try:
            outcome = apply_tracking(po, carrier=form.carrier.data, tracking_number=form.tracking_number.data,
                                     tracking_url=form.tracking_url.data or "", source="merchant",
                                     user_id=_user_id())
        except TrackingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Expédition enregistrée.") if outcome.created else _("Ce numéro de suivi est déjà enregistré."),
                  "success" if outcome.created else "info")
            return redirect(url_for(".purchase_order", po_id=po.id))
    return render_template("dropship/purchase_order.html", po=po, form=form, action=ActionForm(),
                           left=remaining(po), link=supplier_link(po.id, po.supplier_id), sendable=SENDABLE,
                           max_age_days=MAX_AGE // 86400)


@bp.route("/purchase-orders/<po_id>/resend", methods=["POST"])
@merchant
def purchase_order_resend(po_id: str):
    po = get_owned(DropshipPurchaseOrder, po_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if po.status not in (*SENDABLE, PO.SENT, PO.CONFIRMED):
        flash(_("Ce bon de commande est %(status)s : il ne se renvoie plus.", status=STATUS_LABELS[po.status]),
              "error")
    else:
        queue_send([po])
        db.session.commit()
        flash(_("Envoi de %(ref)s à %(supplier)s relancé.", ref=po.reference, supplier=po.supplier.name), "success")
    return redirect(safe_next(url_for(".purchase_order", po_id=po.id)))


@bp.route("/purchase-orders/tracking", methods=["POST"])
@merchant
def tracking_upload():
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choisissez un fichier CSV."), "error")
        return redirect(url_for(".purchase_orders"))

    def find(reference: str) -> DropshipPurchaseOrder | None:
        return db.session.scalar(scoped(DropshipPurchaseOrder).where(DropshipPurchaseOrder.reference == reference))

    report = apply_tracking_csv(form.file.data.read(), find, source="csv", user_id=_user_id())
    db.session.commit()
    _report(report)
    return redirect(url_for(".purchase_orders"))


# ----------------------------------------------------------------------------- the supplier's page (signed link)
def _from_token(token: str) -> DropshipPurchaseOrder | tuple[str, int]:
    """The purchase order of a link, or the refusal page to answer (403 forged, 410 expired)."""
    try:
        po_id, supplier_id = read_token(token)
    except LinkError as exc:
        return (render_template("dropship/link_refused.html", expired=exc.expired, max_age_days=MAX_AGE // 86400),
                410 if exc.expired else 403)
    po = db.session.get(DropshipPurchaseOrder, po_id)
    if po is None or po.supplier_id != supplier_id:
        return render_template("dropship/link_refused.html", expired=False, max_age_days=MAX_AGE // 86400), 403
    return po


def _quantities(po: DropshipPurchaseOrder) -> dict[int, int] | None:
    """Per-line quantities typed on the supplier's page; None when none was typed."""
    found: dict[int, int] = {}
    for line in po.lines:
        raw = (request.form.get(f"qty-{line.id}") or "").strip()
        if raw:
            quantity = parse_int(raw, lo=0, hi=QTY_MAX)
            if quantity is None:
                raise TrackingError(_("%(supplier_sku)s : quantité invalide « %(raw)s ».",
                                      supplier_sku=line.supplier_sku, raw=raw))
            found[line.id] = quantity
    return found or None


@bp.route("/supplier/<token>", methods=["GET", "POST"])
@csrf.exempt  # the link is checked first (403/410); the forms still check their own CSRF token
def supplier_page(token: str):
    po = _from_token(token)
    if not isinstance(po, DropshipPurchaseOrder):
        return po
    form = TrackingForm()
    action = ActionForm()
    if request.method == "POST" and request.form.get("do") == "confirm":
        if not action.validate_on_submit():
            abort(400)
        try:
            changed = confirm(po)
        except TrackingError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash("Merci, la commande est confirmée." if changed else "Commande déjà confirmée.", "success")
        return redirect(url_for(".supplier_page", token=token))
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                outcome = apply_tracking(po, carrier=form.carrier.data, tracking_number=form.tracking_number.data,
                                         tracking_url=form.tracking_url.data or "", quantities=_quantities(po),
                                         source="link")
            except TrackingError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash("Merci, l'expédition est enregistrée : le client reçoit le suivi." if outcome.created
                      else "Ce numéro de suivi était déjà enregistré.", "success")
                return redirect(url_for(".supplier_page", token=token))
        else:
            flash("Vérifiez le transporteur et le numéro de suivi.", "error")
    page = render_template("dropship/supplier_page.html", po=po, token=token, form=form, action=action,
                           upload=UploadForm(), left=remaining(po), columns=TRACKING_COLUMNS)
    return page, 422 if request.method == "POST" else 200


@bp.route("/supplier/<token>/tracking", methods=["POST"])
@csrf.exempt  # the link is checked first (403/410); the upload form still checks its CSRF token
def supplier_csv(token: str):
    po = _from_token(token)
    if not isinstance(po, DropshipPurchaseOrder):
        return po
    form = UploadForm()
    if not form.validate_on_submit():
        flash("Choisissez un fichier CSV.", "error")
        return redirect(url_for(".supplier_page", token=token))
    supplier_id = po.supplier_id

    def find(reference: str) -> DropshipPurchaseOrder | None:
        return db.session.scalar(select(DropshipPurchaseOrder).where(
            DropshipPurchaseOrder.reference == reference, DropshipPurchaseOrder.supplier_id == supplier_id))

    report = apply_tracking_csv(form.file.data.read(), find, source="csv")
    db.session.commit()
    _report(report)
    return redirect(url_for(".supplier_page", token=token))


# ----------------------------------------------------------------------------- the suppliers' API
def _api_error(status: int, error: str, message: str):
    response = jsonify({"error": error, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="dropship"'
    return response


@bp.route("/api/purchase-orders/<reference>/shipments", methods=["POST"])
@csrf.exempt
def api_shipments(reference: str):
    """A supplier's system reports a parcel: ``Authorization: Bearer <key>``, JSON
    ``{"carrier", "tracking_number", "tracking_url", "lines": [{"supplier_sku", "quantity"}]}``
    (``lines`` optional: every unit not shipped yet)."""
    scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
    supplier = supplier_for_key(key.strip()) if scheme.lower() == "bearer" and key.strip() else None
    if supplier is None:
        return _api_error(401, "unauthorized", "Clé d'API absente ou invalide.")
    po = db.session.scalar(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.reference == reference,
                                                               DropshipPurchaseOrder.supplier_id == supplier.id))
    if po is None:
        return _api_error(404, "not_found", f"Bon de commande {reference} inconnu.")
    try:
        data = checked_json(request.get_data())
    except (InputError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        return _api_error(400, "invalid_body", "Un objet JSON est attendu.")
    quantities: dict[int, int] | None = None
    if data.get("lines"):
        if not isinstance(data["lines"], list):
            return _api_error(422, "invalid_lines", "« lines » doit être une liste.")
        by_sku = {ln.supplier_sku: ln.id for ln in po.lines} | {ln.sku: ln.id for ln in po.lines}
        quantities = {}
        for item in data["lines"]:
            item = item if isinstance(item, dict) else {}
            sku = str(item.get("supplier_sku") or item.get("sku") or "")
            qty = item.get("quantity")
            if sku not in by_sku:
                return _api_error(422, "unknown_line", f"Référence « {sku} » absente du bon de commande.")
            if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
                return _api_error(422, "invalid_quantity", f"{sku} : quantité entière positive attendue.")
            quantities[by_sku[sku]] = quantities.get(by_sku[sku], 0) + qty
    try:
        outcome = apply_tracking(po, carrier=str(data.get("carrier") or ""),
                                 tracking_number=str(data.get("tracking_number") or ""),
                                 tracking_url=str(data.get("tracking_url") or ""), quantities=quantities, source="api")
    except TrackingError as exc:
        db.session.rollback()
        return _api_error(422, "refused", str(exc))
    db.session.commit()
    order = db.session.get(Order, po.order_id)
    body = {"reference": po.reference, "tracking_number": outcome.tracking.tracking_number,
            "shipment_id": outcome.tracking.shipment_id, "purchase_order_status": po.status,
            "order_status": order.status.value if order else None, "created": outcome.created}
    return jsonify(body), 201 if outcome.created else 200
