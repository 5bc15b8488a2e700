"""The merchant's fee schedule (commission and payment fees per channel and category) and the
exchange rates the figures convert with."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ... import analytics as an
from ... import fx
from ...extensions import db
from ...forms import DateField
from ...models import AnalyticsFeeRule, FxRate, Order
from ...tenancy import MANAGERS, get_owned, org_id, roles_required, scoped
from .base import ActionForm, CommaDecimalField, _channel_title, _org, bp


# ============================================================================ fee schedule
class FeeRuleForm(FlaskForm):
    channel = SelectField(_l("Canal"), validators=[DataRequired()])
    category = StringField(_l("Catégorie"), default=an.ANY_CATEGORY, validators=[DataRequired(), Length(max=64)],
                           description=_l("Une étiquette de produit (par exemple livres), ou * pour tous les produits."))
    commission_pct = CommaDecimalField(_l("Commission (%)"), default=Decimal("0"),
                                       validators=[InputRequired(), NumberRange(min=0, max=100)])
    payment_pct = CommaDecimalField(_l("Frais de paiement (%)"), default=Decimal("0"),
                                    validators=[InputRequired(), NumberRange(min=0, max=100)])
    fixed_per_order = CommaDecimalField(_l("Frais fixes par commande"), default=Decimal("0"),
                                        validators=[InputRequired(), NumberRange(min=0)],
                                        description=_l("Lus sur la règle « * » du canal."))
    payment_fixed = CommaDecimalField(_l("Frais de paiement fixes par commande"), default=Decimal("0"),
                                      validators=[InputRequired(), NumberRange(min=0)],
                                      description=_l("Lus sur la règle « * » du canal."))
    currency = StringField(_l("Devise des frais fixes"), default="EUR",
                           validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message=_l("Trois lettres, par exemple EUR."))])
    source = TextAreaField(_l("Source ou remarque"), validators=[Optional(), Length(max=1000)])


def _fee_form(rule: AnalyticsFeeRule | None = None) -> FeeRuleForm:
    org = _org()
    data = None
    if rule is not None and request.method != "POST":
        data = {"channel": rule.channel, "category": rule.category, "commission_pct": rule.commission_pct,
                "payment_pct": rule.payment_pct, "fixed_per_order": rule.fixed_per_order,
                "payment_fixed": rule.payment_fixed, "currency": rule.currency, "source": rule.source}
    elif request.method != "POST":
        data = {"currency": org.currency, "channel": request.args.get("channel", "")}
    form = FeeRuleForm(data=data) if data else FeeRuleForm()
    names = set(an.channels_in_use(org.id)) | {name for name in an.fee_defaults() if name != an.ANY_CATEGORY}
    names |= set(db.session.scalars(select(AnalyticsFeeRule.channel).where(AnalyticsFeeRule.organization_id == org.id)))
    if rule is not None:
        names.add(rule.channel)
    form.channel.choices = sorted(((n, _channel_title(n)) for n in names), key=lambda c: c[1].lower())
    return form


@bp.route("/analytics/fees")
@roles_required(*MANAGERS)
def fees():
    org = _org()
    if an.ensure_default_fees(org.id):
        db.session.commit()
    rules = list(db.session.scalars(scoped(AnalyticsFeeRule).order_by(AnalyticsFeeRule.channel,
                                                                       AnalyticsFeeRule.category != an.ANY_CATEGORY,
                                                                       AnalyticsFeeRule.category)))
    in_use = set(an.channels_in_use(org.id))
    return render_template("analytics/fees.html", rules=rules, in_use=in_use, channel_title=_channel_title,
                           action=ActionForm(), defaults=an.fee_defaults())


def _save_rule(rule: AnalyticsFeeRule, form: FeeRuleForm) -> None:
    rule.channel = form.channel.data
    rule.category = form.category.data.strip()
    rule.commission_pct = form.commission_pct.data
    rule.payment_pct = form.payment_pct.data
    rule.fixed_per_order = form.fixed_per_order.data
    rule.payment_fixed = form.payment_fixed.data
    rule.currency = form.currency.data.strip().upper()
    rule.source = (form.source.data or "").strip()
    rule.is_default = False


def _duplicate_rule(form: FeeRuleForm, rule: AnalyticsFeeRule | None) -> bool:
    other = db.session.scalar(scoped(AnalyticsFeeRule).where(AnalyticsFeeRule.channel == form.channel.data,
                                                             AnalyticsFeeRule.category == form.category.data.strip()))
    return other is not None and (rule is None or other.id != rule.id)


@bp.route("/analytics/fees/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def fee_new():
    form = _fee_form()
    if form.validate_on_submit():
        if _duplicate_rule(form, None):
            form.category.errors.append(_("Une règle existe déjà pour ce canal et cette catégorie."))
        else:
            rule = AnalyticsFeeRule(organization_id=org_id())
            _save_rule(rule, form)
            db.session.add(rule)
            an.queue_rebuild(org_id())
            db.session.commit()
            flash(_("Règle de frais enregistrée : vos marges sont recalculées."), "success")
            return redirect(url_for(".fees"))
    return render_template("analytics/form.html", form=form, title=_("Nouvelle règle de frais"),
                           back=url_for(".fees"), back_label=_("Frais des canaux"))


@bp.route("/analytics/fees/<rule_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def fee_edit(rule_id: str):
    rule = get_owned(AnalyticsFeeRule, rule_id)
    form = _fee_form(rule)
    if form.validate_on_submit():
        if _duplicate_rule(form, rule):
            form.category.errors.append(_("Une règle existe déjà pour ce canal et cette catégorie."))
        else:
            _save_rule(rule, form)
            an.queue_rebuild(org_id())
            db.session.commit()
            flash(_("Règle de frais enregistrée : vos marges sont recalculées."), "success")
            return redirect(url_for(".fees"))
    return render_template("analytics/form.html", form=form, title=_("Règle de frais"), back=url_for(".fees"),
                           back_label=_("Frais des canaux"), intro=rule.source if rule.is_default else "")


@bp.route("/analytics/fees/<rule_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def fee_delete(rule_id: str):
    rule = get_owned(AnalyticsFeeRule, rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db.session.delete(rule)
    an.queue_rebuild(org_id())
    db.session.commit()
    flash(_("Règle supprimée : vos marges sont recalculées."), "success")
    return redirect(url_for(".fees"))


# ============================================================================ exchange rates
class RateForm(FlaskForm):
    currency = StringField(_l("Devise"), validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$",
                                                                            message=_l("Trois lettres, par exemple GBP."))])
    day = DateField(_l("Date"), validators=[DataRequired()])
    rate = CommaDecimalField(_l("Taux : 1 EUR ="), places=6, validators=[InputRequired(), NumberRange(min=Decimal("0.000001"))],
                             description=_l("Unités de la devise pour un euro, comme les publie la BCE."))
    source = StringField(_l("Source"), default=fx.SOURCE_ECB, validators=[Optional(), Length(max=200)])

    def validate_currency(self, field: StringField) -> None:
        from wtforms import ValidationError

        if field.data.strip().upper() == fx.BASE:
            raise ValidationError(_("L'euro est la devise de référence : 1 EUR = 1 EUR."))


@bp.route("/analytics/rates")
@roles_required(*MANAGERS)
def rates():
    org = _org()
    if fx.ensure_seed(org.id):
        db.session.commit()
    rows = list(db.session.scalars(scoped(FxRate).order_by(FxRate.currency, FxRate.day.desc())))
    used = sorted(set(db.session.scalars(select(Order.currency).where(Order.organization_id == org.id).distinct())))
    latest = fx.latest_rates(org.id)
    missing = [c for c in used if c != fx.BASE and c not in latest]
    return render_template("analytics/rates.html", rows=rows, latest=latest, used=used, missing=missing,
                           action=ActionForm(), org_currency=org.currency, seed_source=fx.SEED_SOURCE)


def _save_rate(row: FxRate, form: RateForm) -> None:
    row.currency = form.currency.data.strip().upper()
    row.day = form.day.data
    row.rate = form.rate.data
    row.source = (form.source.data or "").strip()


def _duplicate_rate(form: RateForm, row: FxRate | None) -> bool:
    other = db.session.scalar(scoped(FxRate).where(FxRate.currency == form.currency.data.strip().upper(),
                                                   FxRate.day == form.day.data))
    return other is not None and (row is None or other.id != row.id)


@bp.route("/analytics/rates/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def rate_new():
    form = RateForm() if request.method == "POST" else RateForm(
        data={"currency": request.args.get("currency", ""), "day": date.today(), "source": fx.SOURCE_ECB})
    if form.validate_on_submit():
        if _duplicate_rate(form, None):
            form.day.errors.append(_("Un taux existe déjà pour cette devise à cette date."))
        else:
            row = FxRate(organization_id=org_id())
            _save_rate(row, form)
            db.session.add(row)
            an.queue_rebuild(org_id())
            db.session.commit()
            flash(_("Taux enregistré : vos chiffres sont recalculés."), "success")
            return redirect(url_for(".rates"))
    return render_template("analytics/form.html", form=form, title=_("Nouveau taux de change"), back=url_for(".rates"),
                           back_label=_("Taux de change"))


@bp.route("/analytics/rates/<rate_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def rate_edit(rate_id: str):
    row = get_owned(FxRate, rate_id)
    form = RateForm() if request.method == "POST" else RateForm(
        data={"currency": row.currency, "day": row.day, "rate": row.rate, "source": row.source})
    if form.validate_on_submit():
        if _duplicate_rate(form, row):
            form.day.errors.append(_("Un taux existe déjà pour cette devise à cette date."))
        else:
            _save_rate(row, form)
            an.queue_rebuild(org_id())
            db.session.commit()
            flash(_("Taux enregistré : vos chiffres sont recalculés."), "success")
            return redirect(url_for(".rates"))
    return render_template("analytics/form.html", form=form, title=_("Taux de change"), back=url_for(".rates"),
                           back_label=_("Taux de change"))


@bp.route("/analytics/rates/<rate_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def rate_delete(rate_id: str):
    row = get_owned(FxRate, rate_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db.session.delete(row)
    an.queue_rebuild(org_id())
    db.session.commit()
    flash(_("Taux supprimé : vos chiffres sont recalculés."), "success")
    return redirect(url_for(".rates"))
