"""Settings of a Mondial Relay account ("Configurer"): the two credential sets, the sender
and how parcels are handed over."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress

from .client import API1_URL, API2_URL, REMOTE

COLLECTION_MODES = [("CCC", _l("Enlèvement chez vous (CCC)")), ("REL", _l("Dépôt en point relais (REL)"))]
HOME_MODES = [("HOM", _l("Domicile (HOM)")), ("LCC", _l("Domicile, livraison standard (LCC)")),
              ("", _l("Pas de livraison à domicile : seulement en point relais"))]
FORMATS = [("10x15", _l("10 × 15 cm (imprimante d'étiquettes)")), ("A4", _l("A4")), ("A5", _l("A5"))]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    enseigne = StringField(
        _l("API 1 : code enseigne"), filters=[_strip], validators=[DataRequired(), Length(max=8)],
        description=_l("Recherche de points relais et suivi. Espace client Mondial Relay › Paramètres › "
                       "Web services (8 caractères, par exemple BDTEST13)."))
    private_key = PasswordField(
        _l("API 1 : clé privée"), validators=[Optional(), Length(max=64)],
        description=_l("Elle signe chaque appel de l'API 1. Laissez vide pour conserver la clé enregistrée."))
    api2_login = StringField(
        _l("API 2 (Connect) : identifiant"), filters=[_strip], validators=[DataRequired(), Length(max=64)],
        description=_l("Création des étiquettes. Ce n'est pas le code enseigne : l'identifiant de l'API Connect, "
                       "sur la même page de l'espace client."))
    api2_password = PasswordField(
        _l("API 2 (Connect) : mot de passe"), validators=[Optional(), Length(max=64)],
        description=_l("Laissez vide pour conserver le mot de passe enregistré."))
    api2_customer_id = StringField(
        _l("API 2 (Connect) : code client"), filters=[_strip],
        validators=[DataRequired(), Length(min=2, max=8), Regexp(r"^[A-Za-z0-9]+$")],
        description=_l("2 à 8 caractères, donné avec l'identifiant Connect."))
    collection_mode = SelectField(_l("Remise des colis"), choices=COLLECTION_MODES, default="REL")
    collection_relay = StringField(
        _l("Point relais de dépôt (mode REL)"), filters=[_strip], validators=[Optional(), Length(max=12)],
        description=_l("Par exemple FR-066974 : le point relais où vous déposez vos colis."))
    home_mode = SelectField(_l("Commandes sans point relais"), choices=HOME_MODES, default="HOM")
    label_format = SelectField(_l("Format d'étiquette"), choices=FORMATS, default="10x15")
    sender_name = StringField(_l("Expéditeur : nom ou société"), filters=[_strip],
                              validators=[DataRequired(), Length(max=30)])
    sender_street = StringField(_l("Expéditeur : rue"), filters=[_strip], validators=[DataRequired(), Length(max=30)])
    sender_postal_code = StringField(_l("Expéditeur : code postal"), filters=[_strip],
                                     validators=[DataRequired(), Length(max=10)])
    sender_city = StringField(_l("Expéditeur : ville"), filters=[_strip], validators=[DataRequired(), Length(max=30)])
    sender_country = StringField(_l("Expéditeur : pays (code ISO)"), filters=[_strip], default="FR",
                                 validators=[DataRequired(), Length(min=2, max=2)])
    sender_phone = StringField(_l("Expéditeur : téléphone"), filters=[_strip], validators=[Optional(), Length(max=20)])
    sender_email = StringField(_l("Expéditeur : e-mail"), filters=[_strip],
                               validators=[Optional(), Email(check_deliverability=False), Length(max=70)])
    api1_url = URLField(
        _l("Adresse de l'API 1 (avancé)"), default=API1_URL,
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, API1_URL)],
        description=_l("À modifier seulement pour l'émulateur de démonstration."))
    api2_url = URLField(
        _l("Adresse de l'API 2 (avancé)"), default=API2_URL,
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, API2_URL)],
        description=_l("https://connect-api.mondialrelay.com/api/shipment ; l'adresse de test de Connect est "
                       "https://connect-api-sandbox.mondialrelay.com/api/shipment."))
    price_relay = StringField(_l("Prix de votre contrat : point relais (€)"), filters=[_strip], default="4.50",
                              validators=[Optional(), Regexp(r"^\d{1,4}([.,]\d{1,2})?$")],
                               description=_l("Mondial Relay ne publie pas de tarifs par API : ce prix sert à comparer "
                                              "les transporteurs sur la page d'emballage."))
    price_home = StringField(_l("Prix de votre contrat : domicile (€)"), filters=[_strip], default="7.90",
                             validators=[Optional(), Regexp(r"^\d{1,4}([.,]\d{1,2})?$")])
