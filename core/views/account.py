"""The organization's own account pages: its plan and this month's usage, and its team.

Who may open each page is said in :mod:`core.access` (the plan and the team: the owner)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from .. import mail, team
from ..extensions import db
from ..forms import ActionForm
from ..models import Plan, Role, User
from ..plans import history, usage
from ..tenancy import MANAGERS, get_owned, roles_required

bp = Blueprint("account", __name__)


@bp.route("/plan")
@roles_required(*MANAGERS)
def plan():
    org = current_user.organization
    plans = db.session.scalars(select(Plan).order_by(Plan.monthly_price, Plan.code)).all()
    return render_template("account/plan.html", org=org, usage=usage(org), plans=plans, changes=history(org.id))


# ----------------------------------------------------------------------------- team
ROLE_LABELS = {Role.OWNER: _l("Propriétaire"), Role.STAFF: _l("Équipe"), Role.PICKER: _l("Préparateur")}
ROLE_HELP = {Role.OWNER: _l("tout, dont les boutiques, les identifiants, l'équipe et le forfait"),
             Role.STAFF: _l("commandes, produits, stock, préparation, retours et analyses"),
             Role.PICKER: _l("préparation et emballage seulement")}


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Nom"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Rôle"), choices=[(r.value, ROLE_LABELS[r]) for r in (Role.STAFF, Role.PICKER, Role.OWNER)],
                       default=Role.STAFF.value)


class RoleForm(FlaskForm):
    role = SelectField(_l("Rôle"), choices=[(r.value, ROLE_LABELS[r]) for r in (Role.OWNER, Role.STAFF, Role.PICKER)])


def _invitation_link(user: User) -> str:
    path = url_for("auth.invitation", token=team.invitation_token(user))
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return base.rstrip("/") + path


def _send_invitation(user: User) -> str | None:
    """E-mail the invitation; returns the link when it must be passed on by hand."""
    link = _invitation_link(user)
    org = current_user.organization
    subject = _("%(who)s vous invite à rejoindre %(org)s sur OMS", who=current_user.name or current_user.email,
                org=org.name)
    text = _("Bonjour %(name)s,\n\n%(who)s vous invite à rejoindre l'équipe %(org)s sur OMS (rôle : %(role)s).\n\n"
             "Choisissez votre mot de passe ici, dans les %(days)s jours :\n%(link)s\n\n"
             "Si vous ne vous attendiez pas à ce message, ignorez-le.",
             name=user.name or user.email, who=current_user.name or current_user.email, org=org.name,
             role=ROLE_LABELS[user.role], days=team.INVITATION_DAYS, link=link)
    try:
        if mail.send(user.email, subject, text):
            return None
    except mail.MailError as exc:
        flash(_("L'e-mail n'a pas pu partir (%(why)s) : transmettez le lien vous-même.", why=str(exc)), "warning")
    return link


@bp.route("/team")
@login_required
def team_page():
    org = current_user.organization
    return render_template("account/team.html", org=org, people=team.members(org), form=InviteForm(),
                           role_form=RoleForm, roles=ROLE_LABELS, role_help=ROLE_HELP,
                           link=session.pop("team_link", None), smtp=mail.configured(),
                           days=team.INVITATION_DAYS, action=ActionForm())


@bp.route("/team/invite", methods=["POST"])
@login_required
def team_invite():
    org = current_user.organization
    form = InviteForm()
    if not form.validate_on_submit():
        flash(_("Vérifiez l'invitation : %(errors)s", errors="; ".join(
            f"{form[k].label.text} : {', '.join(map(str, v))}" for k, v in form.errors.items())), "error")
        return redirect(url_for(".team_page"))
    try:
        user = team.invite(org, current_user, form.email.data, form.name.data or "", Role(form.role.data))
    except team.TeamError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".team_page"))
    db.session.commit()
    _after_invitation(user)
    return redirect(url_for(".team_page"))


def _after_invitation(user: User) -> None:
    link = _send_invitation(user)
    if link is None:
        flash(_("Invitation envoyée à %(email)s.", email=user.email), "success")
    else:
        session["team_link"] = {"email": user.email, "link": link}
        flash(_("Invitation créée pour %(email)s.", email=user.email), "success")


def _member(user_id: str) -> User:
    return get_owned(User, user_id)


@bp.route("/team/<user_id>/resend", methods=["POST"])
@login_required
def team_resend(user_id: str):
    user = _member(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        team.renew(user)
    except team.TeamError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".team_page"))
    db.session.commit()
    _after_invitation(user)
    return redirect(url_for(".team_page"))


@bp.route("/team/<user_id>/role", methods=["POST"])
@login_required
def team_role(user_id: str):
    user = _member(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        team.set_role(current_user.organization, current_user, user, Role(form.role.data))
    except team.TeamError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".team_page"))
    db.session.commit()
    flash(_("%(who)s est maintenant : %(role)s.", who=user.name or user.email, role=ROLE_LABELS[user.role]), "success")
    return redirect(url_for(".team_page"))


@bp.route("/team/<user_id>/remove", methods=["POST"])
@login_required
def team_remove(user_id: str):
    user = _member(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        team.remove(current_user.organization, current_user, user)
    except team.TeamError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".team_page"))
    db.session.commit()
    flash(_("%(who)s a été retiré de l'équipe et déconnecté.", who=user.name or user.email), "success")
    return redirect(url_for(".team_page"))
