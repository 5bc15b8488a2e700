"""Settings of a DHL Express account ("Configurer")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress
from core.forms import IntegerField

from .client import MYDHL_BASE_URL, REMOTE, TRACKING_BASE_URL, TRACKING_REMOTE

PRODUCTS = [("P", _l("DHL Express Worldwide (P)")), ("U", _l("DHL Express Worldwide, Union européenne (U)")),
            ("N", _l("DHL Express Domestic, France (N)")), ("T", _l("DHL Express 12:00 (T)")),
            ("K", _l("DHL Express 9:00 (K)")), ("W", _l("DHL Economy Select (W)"))]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    api_key = StringField(
        _l("Clé API MyDHL"), filters=[_strip], validators=[DataRequired(), Length(max=64)],
        description=_l("developer.dhl.com › My Apps › votre application › API Key (le nom d'utilisateur)."))
    api_secret = PasswordField(
        _l("Secret API MyDHL"), validators=[Optional(), Length(max=64)],
        description=_l("Le « API Secret » de la même application. Laissez vide pour conserver celui enregistré."))
    account_number = StringField(
        _l("Numéro de compte DHL Express"), filters=[_strip],
        validators=[DataRequired(), Regexp(r"^\d{9,10}$", message=_l("9 ou 10 chiffres"))],
        description=_l("Votre compte expéditeur (9 chiffres), sur vos factures DHL Express ou dans MyDHL+."))
    default_product = SelectField(_l("Produit par défaut"), choices=PRODUCTS, default="P",
                                  description=_l("Utilisé quand aucun tarif n'a été choisi à l'emballage."))
    paperless_trade = BooleanField(
        _l("Paperless Trade (facture envoyée électroniquement hors UE)"), default=True,
        description=_l("Le service doit être activé sur votre compte DHL Express."))
    tracking_api_key = PasswordField(
        _l("Clé API Shipment Tracking – Unified"), validators=[Optional(), Length(max=64)],
        description=_l("developer.dhl.com › My Apps : une application avec l'API « Shipment Tracking - Unified ». "
                       "Votre propre clé : son quota est le vôtre."))
    tracking_daily_quota = IntegerField(
        _l("Quota quotidien de la clé de suivi"), default=250, validators=[Optional(), NumberRange(min=1, max=100000)],
        description=_l("250 appels par jour au départ ; indiquez le quota accordé par DHL après une augmentation."))
    sender_company = StringField(_l("Expéditeur : société"), filters=[_strip], validators=[Optional(), Length(max=100)])
    sender_name = StringField(_l("Expéditeur : contact"), filters=[_strip], validators=[Optional(), Length(max=255)])
    sender_address = StringField(_l("Expéditeur : adresse"), filters=[_strip], validators=[Optional(), Length(max=45)],
                                 description=_l("Sinon l'adresse de l'entrepôt qui expédie."))
    sender_postal_code = StringField(_l("Expéditeur : code postal"), filters=[_strip],
                                     validators=[Optional(), Length(max=12)])
    sender_city = StringField(_l("Expéditeur : ville"), filters=[_strip], validators=[Optional(), Length(max=45)])
    sender_country = SelectField(_l("Expéditeur : pays"), default="FR",
                                 choices=[("FR", _l("France")), ("BE", _l("Belgique")), ("DE", _l("Allemagne"))])
    sender_phone = StringField(_l("Expéditeur : téléphone"), filters=[_strip], validators=[Optional(), Length(max=70)])
    sender_email = StringField(_l("Expéditeur : e-mail"), filters=[_strip],
                               validators=[Optional(), Email(check_deliverability=False), Length(max=70)])
    api_base_url = URLField(
        _l("Adresse de MyDHL API (avancé)"), default=MYDHL_BASE_URL,
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, MYDHL_BASE_URL)],
        description=_l("https://express.api.dhl.com/mydhlapi ; …/mydhlapi/test pour les identifiants de test."))
    tracking_base_url = URLField(
        _l("Adresse de l'API de suivi (avancé)"), default=TRACKING_BASE_URL,
        validators=[Optional(), URL(require_tld=False), Length(max=500),
                    RemoteAddress(TRACKING_REMOTE, TRACKING_BASE_URL)],
        description=_l("https://api-eu.dhl.com/track ; à modifier seulement pour l'émulateur de démonstration."))
