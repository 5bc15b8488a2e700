"""Settings of a Shopify shop ("Configurer")."""
from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, PasswordField, StringField, URLField
from wtforms.validators import DataRequired, Length, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress

from .client import API_VERSION, DEFAULT_API_VERSION, SHOP_DOMAIN, normalize_domain, remote


def _remote(form):
    """Shopify as the shop of this form sees it: its own domain only."""
    return remote(normalize_domain(form.shop_domain.data or ""))


class InstallButton:
    """The "Installer sur Shopify" button of the configure page: it submits the settings
    form (CSRF token included) to the add-on's install route, which saves them and sends
    the merchant to Shopify's grant screen."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        shop_id = (request.view_args or {}).get("shop_id")
        if shop_id is None:
            return Markup("")
        install = url_for("shopify.install", shop_id=shop_id)
        dashboard = url_for("shopify.index")
        return Markup(
            f'<button type="submit" class="btn btn-secondary" id="{escape(field.id)}" formaction="{escape(install)}" '
            f'formmethod="post" name="then" value="install">{escape(_("Installer sur Shopify"))}</button> '
            f'<a class="btn btn-ghost" href="{escape(dashboard)}">{escape(_("Tableau de bord Shopify"))}</a>')


class InstallField(Field):
    """Renders the install button; holds no value."""

    widget = InstallButton()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None


class SettingsForm(FlaskForm):
    shop_domain = StringField(
        _l("Domaine myshopify.com de la boutique"),
        filters=[normalize_domain],
        validators=[DataRequired(), Length(max=255),
                    Regexp(SHOP_DOMAIN, message=_l("Indiquez le domaine en .myshopify.com, "
                                                   "par exemple ma-boutique.myshopify.com."))],
        description=_l("Le domaine d'origine de la boutique, même si elle utilise un nom de domaine "
                       "personnalisé."))
    api_key = PasswordField(
        _l("Identifiant client de l'application (client ID)"), validators=[Optional(), Length(max=255)],
        description=_l("Celui de votre application Shopify. Laissez vide pour utiliser l'application de l'OMS."))
    api_secret = PasswordField(
        _l("Secret client de l'application (client secret)"), validators=[Optional(), Length(max=255)],
        description=_l("Sert à vérifier les webhooks et le retour d'installation. Laissez vide pour conserver "
                       "la valeur enregistrée."))
    install = InstallField(
        _l("Connexion"),
        description=_l("Enregistre ces paramètres puis ouvre Shopify pour autoriser l'application ; vous revenez "
                       "ensuite sur le catalogue des intégrations."))
    api_version = StringField(
        _l("Version de l'API Admin"), default=DEFAULT_API_VERSION,
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(), Regexp(API_VERSION, message=_l("Format attendu : AAAA-MM."))],
        description=_l("Version trimestrielle de l'API (stable actuelle : %(version)s).",
                       version=DEFAULT_API_VERSION))
    access_token = PasswordField(
        _l("Jeton d'accès Admin API (application personnalisée, facultatif)"),
        validators=[Optional(), Length(max=255)],
        description=_l("Inutile après « Installer sur Shopify ». Laissez vide pour conserver le jeton enregistré."))
    api_base_url = URLField(
        _l("Adresse de l'API (avancé)"),
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(_remote, "")],
        description=_l("Laissez vide pour utiliser https://<domaine de la boutique>."))
