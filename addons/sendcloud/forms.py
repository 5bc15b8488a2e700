"""Settings of a Sendcloud account ("Configurer") and the shipping rule form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Email, Length, Optional, URL

from core.connectors.validators import RemoteAddress
from core.forms import ConditionsForm

from .client import DEFAULT_BASE_URL, REMOTE

#: departure countries Sendcloud ships from
SENDER_COUNTRIES = [
    ("FR", _l("France")), ("BE", _l("Belgique")), ("NL", _l("Pays-Bas")), ("DE", _l("Allemagne")),
    ("AT", _l("Autriche")), ("ES", _l("Espagne")), ("IT", _l("Italie")), ("GB", _l("Royaume-Uni")),
]
API_VERSIONS = [("v3", _l("API v3 : expéditions (recommandée)")),
                ("v2", _l("API v2 : colis (comptes créés avant le 13 avril 2026)"))]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    public_key = StringField(
        _l("Clé publique"), filters=[_strip], validators=[DataRequired(), Length(max=128)],
        description=_l("Sendcloud › Paramètres › Intégrations › Sendcloud API."))
    secret_key = PasswordField(
        _l("Clé secrète"), validators=[Optional(), Length(max=128)],
        description=_l("Laissez vide pour conserver la clé enregistrée. Elle signe aussi les webhooks."))
    api_version = SelectField(
        _l("Version de l'API"), choices=API_VERSIONS, default="v3",
        description=_l("Les comptes créés après le 13 avril 2026 doivent utiliser la v3."))
    from_country_code = SelectField(
        _l("Pays d'expédition"), choices=SENDER_COUNTRIES, default="FR",
        description=_l("Le pays d'où partent vos colis : le test liste les options d'expédition depuis ce pays."))
    default_method = StringField(
        _l("Méthode par défaut"), filters=[_strip], validators=[Optional(), Length(max=128)],
        description=_l("Utilisée quand aucune règle d'expédition ne s'applique : code d'option v3 "
                       "(colissimo:home) ou numéro de méthode v2."))
    sender_name = StringField(_l("Expéditeur : nom"), filters=[_strip], validators=[Optional(), Length(max=75)])
    sender_company = StringField(_l("Expéditeur : société"), filters=[_strip], validators=[Optional(), Length(max=50)])
    sender_address = StringField(_l("Expéditeur : adresse"), filters=[_strip], validators=[Optional(), Length(max=150)],
                                 description=_l("Sinon l'adresse de l'entrepôt qui expédie."))
    sender_postal_code = StringField(_l("Expéditeur : code postal"), filters=[_strip],
                                     validators=[Optional(), Length(max=12)])
    sender_city = StringField(_l("Expéditeur : ville"), filters=[_strip], validators=[Optional(), Length(max=30)])
    sender_phone = StringField(_l("Expéditeur : téléphone"), filters=[_strip], validators=[Optional(), Length(max=20)])
    sender_email = StringField(_l("Expéditeur : e-mail"), filters=[_strip],
                               validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    webhook_signature_key = PasswordField(
        _l("Clé de signature des webhooks (facultatif)"), validators=[Optional(), Length(max=128)],
        description=_l("Seulement si votre intégration Sendcloud en a une ; sinon la clé secrète signe les webhooks."))
    api_base_url = URLField(
        _l("Adresse de l'API (avancé)"), default=DEFAULT_BASE_URL,
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, DEFAULT_BASE_URL)],
        description=_l("https://panel.sendcloud.sc/api ; à modifier seulement pour l'émulateur de démonstration."))


class RuleForm(ConditionsForm):
    name = StringField(_l("Nom de la règle"), filters=[_strip], validators=[DataRequired(), Length(max=120)])
    method_id = SelectField(_l("Méthode d'expédition"), validate_choice=False, validators=[DataRequired()])
    active = BooleanField(_l("Active"), default=True)
