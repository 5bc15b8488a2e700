"""Settings of a Cdiscount seller account on Octopia ("Configurer")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, URLField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress
from core.forms import IntegerField

from .client import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, REMOTE


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    seller_id = StringField(
        _l("Identifiant vendeur (SellerId)"), filters=[_strip],
        validators=[DataRequired(), Regexp(r"^[0-9A-Za-z-]{1,40}$", message=_l("Identifiant vendeur invalide."))],
        description=_l("Votre numéro de vendeur Cdiscount, affiché en haut de l'espace vendeur Octopia "
                       "(seller.octopia.com)."))
    client_id = StringField(
        _l("Identifiant client API (clientId)"), filters=[_strip], validators=[DataRequired(), Length(max=255)],
        description=_l("Espace vendeur Octopia › Paramètres › Gestion des identifiants API : créez un "
                       "identifiant, puis copiez son clientId."))
    client_secret = PasswordField(
        _l("Secret client API (clientSecret)"), validators=[Optional(), Length(max=512)],
        description=_l("Donné une seule fois à la création de l'identifiant. Enregistré chiffré, jamais "
                       "réaffiché : laissez vide pour conserver le secret enregistré."))
    refuse_after_hours = IntegerField(
        _l("Refus automatique d'une commande sans stock après (heures)"), default=4,
        validators=[Optional(), NumberRange(min=0, max=24)],
        description=_l("Une commande Cdiscount en attente d'acceptation dont le stock manque est refusée après "
                       "ce délai, avec son motif, bien avant l'échéance d'acceptation de Cdiscount (0 : refus "
                       "immédiat)."))
    import_days = IntegerField(
        _l("Historique importé à la connexion (jours)"), default=14, validators=[Optional(), NumberRange(min=1, max=90)],
        description=_l("Les commandes modifiées pendant ces derniers jours sont importées à la première "
                       "synchronisation."))
    api_base_url = URLField(
        _l("Adresse de l'API (avancé)"),
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, DEFAULT_BASE_URL)],
        description=_l("Laissez vide pour utiliser %(url)s.", url=DEFAULT_BASE_URL))
    token_url = URLField(
        _l("Adresse du serveur d'authentification (avancé)"),
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, DEFAULT_TOKEN_URL)],
        description=_l("Laissez vide pour utiliser %(url)s.", url=DEFAULT_TOKEN_URL))
