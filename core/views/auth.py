from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..extensions import db
from ..models import User
from ..security import safe_next

bp = Blueprint("auth", __name__)

#: failed sign-ins allowed per account and per address within the window (seconds)
LOGIN_LIMITS = {"LOGIN_FAILURES_PER_ACCOUNT": 5, "LOGIN_FAILURES_PER_ADDRESS": 30,
                "LOGIN_THROTTLE_WINDOW": 900}


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Se souvenir de moi"))


def _limit(name: str) -> int:
    return int(current_app.config.get(name, LOGIN_LIMITS[name]))


def _keys(email: str) -> tuple[str, str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login:account:{account}", f"login:address:{request.remote_addr or '-'}"


def _dummy_hash() -> str:
    """A hash made like a real one, checked for an unknown e-mail so that both answers take
    the same time (no probing which e-mails have an account)."""
    cache = current_app.extensions.setdefault("oms_dummy_hash", {})
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in cache:
        cache[method] = generate_password_hash("not a password of anyone", method=method)
    return cache[method]


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        throttle = current_app.extensions["oms_throttle"]
        account_key, address_key = _keys(form.email.data)
        if (throttle.count(account_key) >= _limit("LOGIN_FAILURES_PER_ACCOUNT")
                or throttle.count(address_key) >= _limit("LOGIN_FAILURES_PER_ADDRESS")):
            flash(_("Trop de tentatives de connexion. Réessayez dans quelques minutes."), "error")
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(select(User).where(func.lower(User.email) == form.email.data.lower()))
        if user is None:
            check_password_hash(_dummy_hash(), form.password.data)
        elif user.active and user.check_password(form.password.data):
            throttle.reset(account_key)
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(url_for("main.dashboard"), request.args.get("next")))
        window = _limit("LOGIN_THROTTLE_WINDOW")
        throttle.hit(account_key, window)
        throttle.hit(address_key, window)
        flash(_("E-mail ou mot de passe incorrect."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # a new session token: this browser's remember-me cookie, and any copy of it, is dead
    current_user.revoke_sessions()
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


class InvitationForm(FlaskForm):
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(min=10, max=1024)],
                             description=_l("Au moins 10 caractères."))
    confirm = PasswordField(_l("Le même, une seconde fois"),
                            validators=[DataRequired(), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))])


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """The link of an invitation: the invited person chooses a password and is signed in."""
    from .. import team

    try:
        user = team.invited_user(token[:512])
    except team.TeamError as exc:
        return render_template("auth/invitation.html", error=str(exc), form=None, user=None), 410
    form = InvitationForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            logout_user()
        team.accept(user, form.password.data)
        db.session.commit()
        login_user(user)
        flash(_("Bienvenue dans l'équipe %(org)s !", org=user.organization.name), "success")
        return redirect(url_for("main.dashboard"))
    return render_template("auth/invitation.html", form=form, user=user, error=None)
