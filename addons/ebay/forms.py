"""Settings of an eBay seller account ("Configurer")."""
from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, PasswordField, SelectField, SelectMultipleField, StringField, URLField
from wtforms.validators import DataRequired, Length, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress

from .client import API, REMOTE
from .mapping import MARKETPLACES


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class InstallButton:
    """"Installer sur eBay": saves the form, then opens eBay's consent page."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        shop_id = (request.view_args or {}).get("shop_id")
        if shop_id is None:
            return Markup("")
        install = url_for("ebay.install", shop_id=shop_id)
        return Markup(f'<button type="submit" class="btn btn-secondary" id="{escape(field.id)}" '
                      f'formaction="{escape(install)}" formmethod="post">{escape(_("Installer sur eBay"))}</button>')


class InstallField(Field):
    widget = InstallButton()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None


MARKETPLACE_CHOICES = [(mid, f"{site} ({mid})") for mid, site, _cur in MARKETPLACES]


class SettingsForm(FlaskForm):
    username = StringField(
        _l("Pseudo eBay du vendeur"), filters=[_strip],
        validators=[DataRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9._\-*]{1,64}$",
                                                           message=_l("Pseudo eBay invalide."))],
        description=_l("Le pseudo affiché sur vos annonces (Mon eBay › Compte › Informations personnelles)."))
    marketplace = SelectField(_l("Site eBay principal"), choices=MARKETPLACE_CHOICES, default="EBAY_FR",
                              validators=[DataRequired()])
    marketplaces = SelectMultipleField(
        _l("Autres sites eBay vendus"), choices=MARKETPLACE_CHOICES, default=[], validators=[Optional()],
        description=_l("Les sites dont les commandes arrivent aussi par ce compte (eBay.de, eBay.it…)."))
    client_id = StringField(
        _l("App ID (Client ID)"), filters=[_strip], validators=[DataRequired(), Length(max=128)],
        description=_l("developer.ebay.com › Mon compte › Application Keys, jeu « Production »."))
    client_secret = PasswordField(
        _l("Cert ID (Client Secret)"), validators=[Optional(), Length(max=128)],
        description=_l("Même page. Laissez vide pour conserver le secret enregistré."))
    ru_name = StringField(
        _l("RuName (nom de redirection eBay)"), filters=[_strip], validators=[DataRequired(), Length(max=128)],
        description=_l("developer.ebay.com › User Tokens › « Get a Token from eBay via Your Application » : "
                       "le RuName dont l'adresse « Auth accepted URL » est celle indiquée sur la page eBay de "
                       "la boutique."))
    verification_token = PasswordField(
        _l("Jeton de vérification des notifications"), validators=[
            Optional(), Length(min=32, max=80),
            Regexp(r"^[A-Za-z0-9_\-]*$", message=_l("Lettres, chiffres, _ et - seulement."))],
        description=_l("32 à 80 caractères (lettres, chiffres, _ et -), à saisir aussi sur developer.ebay.com › "
                       "Alerts & Notifications. Laissez vide pour conserver la valeur enregistrée."))
    install = InstallField(
        _l("Connexion"),
        description=_l("Enregistre ces paramètres puis ouvre eBay pour autoriser l'application ; vous revenez "
                       "ensuite sur le catalogue des intégrations."))
    api_base_url = URLField(
        _l("Adresse de l'API (avancé)"),
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, API)],
        description=_l("Laissez vide pour utiliser %(url)s.", url=API))
