"""Stock operations: routing rules, stock pools, channel stock rules, and the exceptions view
(everything that waits for the merchant)."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import orders as order_flow
from ..addons import registry
from ..extensions import db
from ..forms import IntegerField, coerce_id
from ..intake import month_start
from ..jobs import enqueue
from ..models import (
    ChannelStockRule,
    ConnectionStatus,
    Order,
    OrderLine,
    OrderStatus,
    RoutingRule,
    ServiceLevel,
    Shop,
    StockPool,
    SyncLog,
    SyncStatus,
    Warehouse,
    utcnow,
)
from ..tenancy import MANAGERS, get_owned, org_id, roles_required, scoped
from .main import HOLD_CODES, local_next

bp = Blueprint("ops", __name__)

#: failed jobs count in the navigation badge for this long
FAILED_JOBS_WINDOW = timedelta(days=7)
_ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")


class MultiCheckboxField(SelectMultipleField):
    """A multi-select shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


class RuleForm(FlaskForm):
    name = StringField(_l("Nom de la règle"), validators=[DataRequired(), Length(max=120)])
    active = BooleanField(_l("Active"), default=True)
    warehouse_id = SelectField(_l("Expédier depuis l'entrepôt"), coerce=coerce_id, validators=[InputRequired()])
    countries = StringField(_l("Pays de livraison"), validators=[Optional(), Length(max=400)],
                            description=_l("Codes ISO séparés par des virgules, par exemple FR, BE. "
                                           "Vide : tous les pays."))
    channels = MultiCheckboxField(_l("Canaux de vente"), description=_l("Aucun coché : tous les canaux."))
    shop_ids = MultiCheckboxField(_l("Boutiques"), coerce=coerce_id, description=_l("Aucune cochée : toutes les boutiques."))
    service_levels = MultiCheckboxField(
        _l("Niveaux de service"), choices=[(level.value, level.value.capitalize()) for level in ServiceLevel],
        description=_l("Aucun coché : tous les niveaux."))
    sku_pattern = StringField(_l("Motif de SKU"), validators=[Optional(), Length(max=64)],
                              description=_l("Par exemple MUG-* ou TEE-?-BLEU. Vide : tous les SKU."))
    tag = StringField(_l("Étiquette de produit ou de commande"), validators=[Optional(), Length(max=64)])
    allow_split = BooleanField(_l("Autoriser l'expédition en plusieurs colis"), default=True,
                               description=_l("Décoché : la règle ne prend que les commandes que cet entrepôt "
                                              "peut servir en entier."))

    def validate_countries(self, field: StringField) -> None:
        bad = [c for c in parse_countries(field.data) if not _ISO_COUNTRY.match(c)]
        if bad:
            raise ValidationError(_("Codes pays invalides : %(codes)s (deux lettres, par exemple FR).",
                                    codes=", ".join(bad)))


class PoolForm(FlaskForm):
    name = StringField(_l("Nom du pool"), validators=[DataRequired(), Length(max=120)])
    warehouse_ids = MultiCheckboxField(_l("Entrepôts du pool"), coerce=coerce_id,
                                       description=_l("Les boutiques de ce pool vendent le stock de ces "
                                                      "entrepôts, et seulement celui-là."))

    def validate_warehouse_ids(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_("Choisissez au moins un entrepôt."))


class ChannelRuleForm(FlaskForm):
    target = SelectField(_l("S'applique à"), validators=[DataRequired()],
                         description=_l("La règle d'une boutique l'emporte sur celle de son canal."))
    buffer = IntegerField(_l("Stock de sécurité"), default=0, validators=[InputRequired(), NumberRange(min=0)],
                          description=_l("Unités jamais montrées à ce canal."))
    percentage = IntegerField(_l("Pourcentage montré"), default=100,
                              validators=[InputRequired(), NumberRange(min=0, max=100)])
    maximum = IntegerField(_l("Maximum montré"), validators=[Optional(), NumberRange(min=0)],
                           description=_l("Vide : pas de plafond."))


def parse_countries(text: str | None) -> list[str]:
    return [c.strip().upper() for c in (text or "").replace(";", ",").split(",") if c.strip()]


def _warehouses() -> list[Warehouse]:
    return list(db.session.scalars(scoped(Warehouse).order_by(Warehouse.priority, Warehouse.name)))


def _shops() -> list[Shop]:
    return list(db.session.scalars(scoped(Shop).order_by(Shop.name)))


def _channel_addons() -> list[tuple[str, str]]:
    return sorted(((a.name, a.title) for a in registry().loaded() if a.kind == "channel"), key=lambda c: c[1].lower())


def _rules() -> list[RoutingRule]:
    return list(db.session.scalars(scoped(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def _push_all() -> None:
    """What channels may sell changed: send every figure again (coalesced)."""
    enqueue("core.stock.reconcile", org_id(), job_id=f"stock-reconcile-{org_id()}", unique=True)


def reorder(rules: list[Any], rule: Any, direction: str) -> None:
    """Move ``rule`` one place up or down among ``rules`` (renumbered first: ties and gaps go)."""
    for position, r in enumerate(rules, start=1):
        r.position = position
    i = rules.index(rule)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(rules):
        rules[i].position, rules[j].position = rules[j].position, rules[i].position


def _invalid(form: FlaskForm) -> None:
    if form.is_submitted() and form.errors:
        flash(_("Vérifiez le formulaire."), "error")


# ----------------------------------------------------------------------------- overview
@bp.route("/stock/routing")
@roles_required(*MANAGERS)
def routing():
    shops = _shops()
    pools = list(db.session.scalars(scoped(StockPool).order_by(StockPool.name)))
    channel_rules = list(db.session.scalars(scoped(ChannelStockRule).order_by(ChannelStockRule.id)))
    held = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.organization_id == org_id(), Order.status == OrderStatus.ON_HOLD,
        (Order.hold_code.is_(None)) | (Order.hold_code != "manual")))
    channels = dict(_channel_addons())
    rules = _rules()
    names = {s.id: s.name for s in shops}
    return render_template("ops/routing.html", rules=rules, shops={s.id: s for s in shops}, shop_list=shops,
                           conditions={r.id: _conditions(r, names, channels) for r in rules},
                           pools=pools, channel_rules=channel_rules, channels=channels,
                           warehouses=_warehouses(), held=held, action=ActionForm())


_LEVELS = {ServiceLevel.STANDARD.value: _l("Standard"), ServiceLevel.EXPRESS.value: _l("Express"),
           ServiceLevel.PRIME.value: _l("Prime")}


def _conditions(rule: RoutingRule, shop_names: dict[int, str], channels: dict[str, str]) -> list[str]:
    """A rule's conditions in words; empty when it takes every order."""
    out = []
    if rule.countries:
        out.append(_("pays : %(list)s", list=", ".join(rule.countries)))
    if rule.channels:
        out.append(_("canaux : %(list)s", list=", ".join(channels.get(c, c) for c in rule.channels)))
    if rule.shop_ids:
        out.append(_("boutiques : %(list)s", list=", ".join(shop_names.get(i, f"#{i}") for i in rule.shop_ids)))
    if rule.service_levels:
        out.append(_("service : %(list)s", list=", ".join(str(_LEVELS.get(lv, lv)) for lv in rule.service_levels)))
    if rule.sku_pattern:
        out.append(_("SKU : %(pattern)s", pattern=rule.sku_pattern))
    if rule.tag:
        out.append(_("étiquette : %(tag)s", tag=rule.tag))
    return out


# ----------------------------------------------------------------------------- routing rules
def _rule_form(rule: RoutingRule | None = None) -> RuleForm:
    data: dict[str, Any] | None = None
    if rule is not None and request.method != "POST":
        data = {"name": rule.name, "active": rule.active, "warehouse_id": rule.warehouse_id,
                "countries": ", ".join(rule.countries or []), "channels": list(rule.channels or []),
                "shop_ids": list(rule.shop_ids or []), "service_levels": list(rule.service_levels or []),
                "sku_pattern": rule.sku_pattern or "", "tag": rule.tag or "", "allow_split": rule.allow_split}
    form = RuleForm(data=data) if data else RuleForm()
    form.warehouse_id.choices = [(w.id, w.name) for w in _warehouses()]
    channels = _channel_addons()
    known = {c for c, _t in channels}
    extra = [(c, c) for c in (rule.channels if rule else []) if c not in known]  # add-on since removed
    form.channels.choices = channels + extra
    form.shop_ids.choices = [(s.id, s.name) for s in _shops()]
    return form


def _save_rule(rule: RoutingRule, form: RuleForm) -> None:
    rule.name = form.name.data.strip()
    rule.active = bool(form.active.data)
    rule.warehouse_id = form.warehouse_id.data
    rule.countries = parse_countries(form.countries.data)
    rule.channels = list(form.channels.data or [])
    rule.shop_ids = [int(i) for i in form.shop_ids.data or []]
    rule.service_levels = list(form.service_levels.data or [])
    rule.sku_pattern = (form.sku_pattern.data or "").strip() or None
    rule.tag = (form.tag.data or "").strip() or None
    rule.allow_split = bool(form.allow_split.data)


@bp.route("/stock/routing/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def rule_new():
    form = _rule_form()
    if not form.warehouse_id.choices:
        flash(_("Créez d'abord un entrepôt : une règle envoie les commandes vers l'un d'eux."), "info")
    if form.validate_on_submit():
        last = db.session.scalar(select(func.max(RoutingRule.position)).where(
            RoutingRule.organization_id == org_id())) or 0
        rule = RoutingRule(organization_id=org_id(), position=last + 1)
        _save_rule(rule, form)
        db.session.add(rule)
        db.session.commit()
        flash(_("Règle « %(name)s » créée. Les commandes en attente ne sont reprises que si vous relancez "
                "les règles.", name=rule.name), "success")
        return redirect(url_for(".routing"))
    _invalid(form)
    return render_template("ops/form.html", form=form, title=_("Nouvelle règle de routage"),
                           intro=_("Les règles s'appliquent dans l'ordre : la première qui correspond et dont "
                                   "l'entrepôt a le stock choisit d'où part chaque article."),
                           submit=_("Créer la règle"))


@bp.route("/stock/routing/<rule_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def rule_edit(rule_id: str):
    rule = get_owned(RoutingRule, rule_id)
    form = _rule_form(rule)
    if form.validate_on_submit():
        _save_rule(rule, form)
        db.session.commit()
        flash(_("Règle « %(name)s » enregistrée.", name=rule.name), "success")
        return redirect(url_for(".routing"))
    _invalid(form)
    return render_template("ops/form.html", form=form, title=_("Règle « %(name)s »", name=rule.name),
                           submit=_("Enregistrer"))


@bp.route("/stock/routing/<rule_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def rule_delete(rule_id: str):
    rule = get_owned(RoutingRule, rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = rule.name
    db.session.delete(rule)
    db.session.commit()
    flash(_("Règle « %(name)s » supprimée.", name=name), "success")
    return redirect(url_for(".routing"))


@bp.route("/stock/routing/<rule_id>/<any(up, down):direction>", methods=["POST"])
@roles_required(*MANAGERS)
def rule_move(rule_id: str, direction: str):
    rule = get_owned(RoutingRule, rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    reorder(_rules(), rule, direction)
    db.session.commit()
    return redirect(url_for(".routing") + "#rules")


@bp.route("/stock/routing/rerun", methods=["POST"])
@roles_required(*MANAGERS)
def rerun():
    if not ActionForm().validate_on_submit():
        abort(400)
    resumed = order_flow.rerun_rules(org_id())
    db.session.commit()
    still = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.organization_id == org_id(), Order.status == OrderStatus.ON_HOLD))
    message = ngettext("%(num)s commande reprise.", "%(num)s commandes reprises.", resumed)
    if still:
        message += " " + ngettext("%(num)s toujours en attente.", "%(num)s toujours en attente.", still)
    flash(message, "success" if resumed else "info")
    return redirect(local_next(url_for(".routing")))


# ----------------------------------------------------------------------------- stock pools
def _pool_form(pool: StockPool | None = None) -> PoolForm:
    data = None
    if pool is not None and request.method != "POST":
        data = {"name": pool.name, "warehouse_ids": [w.id for w in pool.warehouses]}
    form = PoolForm(data=data) if data else PoolForm()
    form.warehouse_ids.choices = [(w.id, w.name) for w in _warehouses()]
    return form


def _name_taken(name: str, pool: StockPool | None) -> bool:
    stmt = select(StockPool.id).where(StockPool.organization_id == org_id(), StockPool.name == name)
    if pool is not None:
        stmt = stmt.where(StockPool.id != pool.id)
    return db.session.scalar(stmt) is not None


def _save_pool(pool: StockPool | None, form: PoolForm):
    name = form.name.data.strip()
    if _name_taken(name, pool):
        form.name.errors.append(_("Un pool porte déjà ce nom."))
        return None
    if pool is None:
        pool = StockPool(organization_id=org_id(), name=name)
        db.session.add(pool)
    pool.name = name
    pool.warehouses = list(db.session.scalars(scoped(Warehouse).where(Warehouse.id.in_(form.warehouse_ids.data))))
    _push_all()
    db.session.commit()
    return pool


@bp.route("/stock/pools/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def pool_new():
    form = _pool_form()
    if form.validate_on_submit():
        pool = _save_pool(None, form)
        if pool is not None:
            flash(_("Pool « %(name)s » créé : rattachez-y des boutiques.", name=pool.name), "success")
            return redirect(url_for(".routing") + "#pools")
    _invalid(form)
    return render_template("ops/form.html", form=form, title=_("Nouveau pool de stock"),
                           intro=_("Sans pool, une boutique vend le stock partagé : tous vos entrepôts "
                                   "actifs. Un pool réserve à ses boutiques le stock de quelques entrepôts."),
                           submit=_("Créer le pool"))


@bp.route("/stock/pools/<pool_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def pool_edit(pool_id: str):
    pool = get_owned(StockPool, pool_id)
    form = _pool_form(pool)
    if form.validate_on_submit():
        if _save_pool(pool, form) is not None:
            flash(_("Pool « %(name)s » enregistré.", name=pool.name), "success")
            return redirect(url_for(".routing") + "#pools")
    _invalid(form)
    return render_template("ops/form.html", form=form, title=_("Pool « %(name)s »", name=pool.name),
                           submit=_("Enregistrer"))


@bp.route("/stock/pools/<pool_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def pool_delete(pool_id: str):
    pool = get_owned(StockPool, pool_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    for shop in db.session.scalars(scoped(Shop).where(Shop.stock_pool_id == pool.id)):
        shop.stock_pool_id = None  # back to the shared stock
    name = pool.name
    db.session.delete(pool)
    _push_all()
    db.session.commit()
    flash(_("Pool « %(name)s » supprimé : ses boutiques vendent à nouveau le stock partagé.", name=name), "success")
    return redirect(url_for(".routing") + "#pools")


@bp.route("/stock/shops/<shop_id>/pool", methods=["POST"])
@roles_required(*MANAGERS)
def shop_pool(shop_id: str):
    shop = get_owned(Shop, shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = request.form.get("pool_id", "")
    pool = get_owned(StockPool, raw) if raw else None
    shop.stock_pool_id = pool.id if pool else None
    _push_all()
    db.session.commit()
    if pool:
        flash(_("%(shop)s vend désormais le stock du pool « %(pool)s ».", shop=shop.name, pool=pool.name), "success")
    else:
        flash(_("%(shop)s vend désormais le stock partagé.", shop=shop.name), "success")
    return redirect(url_for(".routing") + "#pools")


# ----------------------------------------------------------------------------- channel stock rules
def _channel_rule_form(rule: ChannelStockRule | None = None) -> ChannelRuleForm:
    data = None
    if rule is not None and request.method != "POST":
        data = {"target": f"shop:{rule.shop_id}" if rule.shop_id else f"addon:{rule.addon}",
                "buffer": rule.buffer, "percentage": rule.percentage, "maximum": rule.maximum}
    form = ChannelRuleForm(data=data) if data else ChannelRuleForm()
    choices = [(f"addon:{name}", _("Canal : %(name)s", name=title)) for name, title in _channel_addons()]
    choices += [(f"shop:{s.id}", _("Boutique : %(name)s", name=s.name)) for s in _shops()]
    if rule is not None and rule.shop_id is None and f"addon:{rule.addon}" not in dict(choices):
        choices.append((f"addon:{rule.addon}", _("Canal : %(name)s", name=rule.addon)))
    form.target.choices = choices
    return form


def _save_channel_rule(rule: ChannelStockRule | None, form: ChannelRuleForm) -> ChannelStockRule | None:
    kind, _sep, value = form.target.data.partition(":")
    shop_id, addon = (int(value), None) if kind == "shop" else (None, value)
    clash = select(ChannelStockRule.id).where(ChannelStockRule.organization_id == org_id())
    clash = clash.where(ChannelStockRule.shop_id == shop_id) if shop_id else \
        clash.where(ChannelStockRule.shop_id.is_(None), ChannelStockRule.addon == addon)
    if rule is not None:
        clash = clash.where(ChannelStockRule.id != rule.id)
    if db.session.scalar(clash) is not None:
        form.target.errors.append(_("Une règle existe déjà pour cette cible : modifiez-la."))
        return None
    if rule is None:
        rule = ChannelStockRule(organization_id=org_id())
        db.session.add(rule)
    rule.shop_id, rule.addon = (get_owned(Shop, shop_id).id, None) if shop_id else (None, addon)
    rule.buffer = form.buffer.data
    rule.percentage = form.percentage.data
    rule.maximum = form.maximum.data
    _push_all()
    db.session.commit()
    return rule


_CHANNEL_RULE_INTRO = _l("Ce que voit un canal : (disponible − stock de sécurité) × pourcentage, plafonné au "
                         "maximum. Jamais moins de zéro.")


@bp.route("/stock/channel-rules/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def channel_rule_new():
    form = _channel_rule_form()
    if form.validate_on_submit() and _save_channel_rule(None, form) is not None:
        flash(_("Règle de canal créée."), "success")
        return redirect(url_for(".routing") + "#channel-rules")
    _invalid(form)
    return render_template("ops/form.html", form=form, title=_("Nouvelle règle de canal"),
                           intro=_CHANNEL_RULE_INTRO, submit=_("Créer la règle"))


@bp.route("/stock/channel-rules/<rule_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def channel_rule_edit(rule_id: str):
    rule = get_owned(ChannelStockRule, rule_id)
    form = _channel_rule_form(rule)
    if form.validate_on_submit() and _save_channel_rule(rule, form) is not None:
        flash(_("Règle de canal enregistrée."), "success")
        return redirect(url_for(".routing") + "#channel-rules")
    _invalid(form)
    return render_template("ops/form.html", form=form, title=_("Règle de canal"), intro=_CHANNEL_RULE_INTRO,
                           submit=_("Enregistrer"))


@bp.route("/stock/channel-rules/<rule_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def channel_rule_delete(rule_id: str):
    rule = get_owned(ChannelStockRule, rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db.session.delete(rule)
    _push_all()
    db.session.commit()
    flash(_("Règle de canal supprimée."), "success")
    return redirect(url_for(".routing") + "#channel-rules")


# ----------------------------------------------------------------------------- exceptions
def _failed_jobs_stmt(oid: int):
    return select(SyncLog).where(
        SyncLog.status == SyncStatus.FAILED,
        (SyncLog.organization_id == oid) | SyncLog.shop_id.in_(select(Shop.id).where(Shop.organization_id == oid)))


def exception_count(oid: int) -> int:
    """What the "Exceptions" badge shows: held orders, shops in error, jobs failed lately."""
    held = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.organization_id == oid, Order.status == OrderStatus.ON_HOLD)) or 0
    shops = db.session.scalar(select(func.count()).select_from(Shop).where(
        Shop.organization_id == oid, Shop.status == ConnectionStatus.ERROR)) or 0
    failed = db.session.scalar(select(func.count()).select_from(
        _failed_jobs_stmt(oid).where(SyncLog.started_at >= utcnow() - FAILED_JOBS_WINDOW).subquery())) or 0
    return held + shops + failed


@bp.route("/exceptions")
@roles_required(*MANAGERS)
def exceptions():
    oid = org_id()
    counts = dict(db.session.execute(
        select(Order.hold_code, func.count()).where(Order.organization_id == oid,
                                                    Order.status == OrderStatus.ON_HOLD)
        .group_by(Order.hold_code)).all())
    held: dict[str, list[Order]] = {}
    for code in HOLD_CODES + ("other",):
        stmt = scoped(Order).where(Order.status == OrderStatus.ON_HOLD)
        stmt = stmt.where(Order.hold_code == code) if code != "other" else \
            stmt.where(Order.hold_code.is_(None) | Order.hold_code.not_in(HOLD_CODES))
        rows = list(db.session.scalars(stmt.order_by(Order.placed_at, Order.id).limit(50)))
        if rows:
            held[code] = rows
    other_count = sum(n for c, n in counts.items() if c not in HOLD_CODES)
    unknown_skus = db.session.execute(
        select(OrderLine.sku, func.count(func.distinct(OrderLine.order_id)))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.organization_id == oid, Order.status == OrderStatus.ON_HOLD,
               Order.hold_code == "unknown_sku", OrderLine.variant_id.is_(None))
        .group_by(OrderLine.sku).order_by(OrderLine.sku).limit(100)).all()
    shops_in_error = list(db.session.scalars(scoped(Shop).where(Shop.status == ConnectionStatus.ERROR)
                                             .order_by(Shop.name)))
    failed_jobs = list(db.session.scalars(_failed_jobs_stmt(oid).order_by(SyncLog.started_at.desc(),
                                                                          SyncLog.id.desc()).limit(50)))
    shop_names = {s.id: s.name for s in _shops()}
    over_stmt = scoped(Order).where(Order.over_quota.is_(True), Order.created_at >= month_start())
    over_count = db.session.scalar(select(func.count()).select_from(over_stmt.subquery())) or 0
    over_quota = list(db.session.scalars(over_stmt.order_by(Order.created_at.desc(), Order.id.desc()).limit(50)))
    return render_template("ops/exceptions.html", held=held, counts=counts, other_count=other_count,
                           unknown_skus=unknown_skus, shops_in_error=shops_in_error, failed_jobs=failed_jobs,
                           shop_names=shop_names, over_quota=over_quota, over_count=over_count,
                           held_total=sum(counts.values()), action=ActionForm())
