"""Settings of a Mirakl shop ("Configurer"): the operator's instance, the shop's API key."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, TextAreaField, URLField
from wtforms.validators import Length, NumberRange, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress
from core.forms import IntegerField

from .client import ANY_INSTANCE, REMOTE


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    instance_url = URLField(
        _l("Adresse de l'instance Mirakl de l'opérateur"), filters=[_strip],
        validators=[Optional(), URL(require_tld=False), Length(max=255), RemoteAddress(REMOTE, ANY_INSTANCE)],
        description=_l("Par exemple https://carrefourfr-prod.mirakl.net : l'adresse de votre espace vendeur, "
                       "donnée par l'opérateur à l'ouverture de votre boutique. Laissez vide pour celle du catalogue."))
    api_key = PasswordField(
        _l("Clé API de la boutique"), validators=[Optional(), Length(max=255)],
        description=_l("Dans votre espace vendeur Mirakl : menu de votre compte (en haut à droite) › Clé API › "
                       "Générer. Laissez vide pour conserver la clé enregistrée."))
    shop_id = StringField(
        _l("Identifiant de la boutique (shop_id)"), filters=[_strip],
        validators=[Optional(), Regexp(r"^\d{1,12}$", message=_l("L'identifiant de boutique est un nombre."))],
        description=_l("Seulement si votre clé donne accès à plusieurs boutiques : Paramètres › Boutique."))
    import_days = IntegerField(
        _l("Historique importé à la connexion (jours)"), default=30, validators=[Optional(), NumberRange(min=1, max=90)])
    carrier_map = TextAreaField(
        _l("Correspondance des transporteurs (facultatif)"), validators=[Optional(), Length(max=2000)],
        description=_l("Une ligne par transporteur : transporteur OMS = code Mirakl (par exemple "
                       "« colissimo = COLISSIMO »). Sans correspondance, le nom du transporteur et l'adresse de "
                       "suivi sont envoyés."))
    auto_accept_returns = BooleanField(
        _l("Accepter automatiquement les demandes de retour"), default=False,
        description=_l("Chez les opérateurs qui gèrent les retours : chaque demande d'un client est acceptée dès "
                       "qu'elle est lue. Sinon, vous l'acceptez ou la refusez depuis la page de la boutique."))
