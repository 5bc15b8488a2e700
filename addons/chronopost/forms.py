"""Settings of a Chronopost account ("Configurer") and its product rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress

from .client import DEFAULT_BASE_URL, REMOTE

DOMESTIC = [("01", _l("Chrono 13 (01)")), ("02", _l("Chrono 10 (02)")), ("16", _l("Chrono 18 (16)"))]
INTERNATIONAL = [("17", _l("Chrono Express international (17)")), ("37", _l("Chrono Premium international (37)")),
                 ("44", _l("Chrono Classic international (44)"))]
MODES = [("PDF", _l("PDF A4")), ("PPR", _l("PDF 10 × 15 cm")), ("Z2D", _l("ZPL (imprimante thermique)"))]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    account_number = StringField(
        _l("Numéro de compte"), filters=[_strip], validators=[DataRequired(), Regexp(r"^\d{8}$")],
        description=_l("Les 8 chiffres de votre contrat Chronopost, sur votre espace client chronopost.fr."))
    password = PasswordField(
        _l("Mot de passe des web services"), validators=[Optional(), Length(max=64)],
        description=_l("Donné par votre commercial Chronopost avec le numéro de compte. Laissez vide pour "
                       "conserver le mot de passe enregistré."))
    sub_account = StringField(_l("Sous-compte (facultatif)"), filters=[_strip], validators=[Optional(), Length(max=3)])
    default_product = SelectField(_l("Produit des commandes standard"), choices=DOMESTIC, default="01")
    express_product = SelectField(_l("Produit des commandes express"), choices=DOMESTIC, default="01",
                                  description=_l("Les commandes « prime » partent toujours en Chrono 10."))
    international_product = SelectField(_l("Produit hors de France"), choices=INTERNATIONAL, default="17",
                                        description=_l("Hors Union européenne, la valeur déclarée en douane est "
                                                       "envoyée ; chaque article doit avoir son code SH."))
    label_mode = SelectField(_l("Format d'étiquette"), choices=MODES, default="PDF")
    sender_name = StringField(_l("Expéditeur : nom"), filters=[_strip], validators=[DataRequired(), Length(max=35)])
    sender_company = StringField(_l("Expéditeur : société"), filters=[_strip], validators=[Optional(), Length(max=35)])
    sender_street = StringField(_l("Expéditeur : adresse"), filters=[_strip], validators=[DataRequired(), Length(max=38)])
    sender_postal_code = StringField(_l("Expéditeur : code postal"), filters=[_strip],
                                     validators=[DataRequired(), Length(max=9)])
    sender_city = StringField(_l("Expéditeur : ville"), filters=[_strip], validators=[DataRequired(), Length(max=30)])
    sender_country = StringField(_l("Expéditeur : pays (code ISO)"), filters=[_strip], default="FR",
                                 validators=[DataRequired(), Length(min=2, max=2)])
    sender_phone = StringField(_l("Expéditeur : téléphone"), filters=[_strip], validators=[Optional(), Length(max=17)])
    sender_email = StringField(_l("Expéditeur : e-mail"), filters=[_strip],
                               validators=[Optional(), Email(check_deliverability=False), Length(max=80)])
    api_base_url = URLField(
        _l("Adresse des web services (avancé)"), default=DEFAULT_BASE_URL,
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, DEFAULT_BASE_URL)],
        description=_l("https://ws.chronopost.fr ; à modifier seulement pour l'émulateur de démonstration."))
