"""Settings of a Colissimo contract ("Configurer")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import Email, Length, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress

from .client import POINTS_BASE_URL, REMOTE, SLS_BASE_URL, TRACKING_BASE_URL, TRACKING_REMOTE


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    api_key = PasswordField(
        _l("Clé API Colissimo"), validators=[Optional(), Length(max=128)],
        description=_l("Colissimo Box › Applications › Clé d'API web services. Laissez vide pour conserver "
                       "celle enregistrée."))
    contract_number = StringField(
        _l("Numéro de contrat Colissimo"), filters=[_strip], validators=[Optional(), Regexp(r"^\d{6,10}$")],
        description=_l("Votre numéro client (6 chiffres) : il sert aussi à la recherche des points retrait."))
    password = PasswordField(
        _l("Mot de passe des web services (ancien mode)"), validators=[Optional(), Length(max=64)],
        description=_l("Seulement sans clé API : le mot de passe web services, pas celui de la Colissimo Box."))
    product_code = SelectField(_l("Livraison à domicile"), default="DOM", choices=[
        ("DOM", _l("Colissimo Domicile sans signature (DOM)")), ("DOS", _l("Colissimo Domicile avec signature (DOS)"))])
    output_format = SelectField(_l("Format d'étiquette"), default="PDF_10x15_300dpi", choices=[
        ("PDF_10x15_300dpi", _l("PDF 10×15 (imprimante d'étiquettes)")), ("PDF_A4_300dpi", _l("PDF A4"))])
    sender_company = StringField(_l("Expéditeur : raison sociale"), filters=[_strip],
                                 validators=[Optional(), Length(max=35)])
    sender_line = StringField(_l("Expéditeur : adresse"), filters=[_strip], validators=[Optional(), Length(max=35)],
                              description=_l("Sinon l'adresse de l'entrepôt qui expédie ; aussi l'adresse des retours."))
    sender_zip = StringField(_l("Expéditeur : code postal"), filters=[_strip], validators=[Optional(), Regexp(r"^\d{5}$")])
    sender_city = StringField(_l("Expéditeur : ville"), filters=[_strip], validators=[Optional(), Length(max=35)])
    sender_phone = StringField(_l("Expéditeur : téléphone"), filters=[_strip], validators=[Optional(), Length(max=15)])
    sender_email = StringField(_l("Expéditeur : e-mail"), filters=[_strip],
                               validators=[Optional(), Email(check_deliverability=False), Length(max=80)])
    tariffs = TextAreaField(_l("Vos tarifs domicile"), validators=[Optional(), Length(max=2000)], description=_l(
        "Colissimo ne publie pas d'API de tarifs : une ligne par tranche, poids maximal en grammes, deux-points, "
        "prix en euros (ex. 1000:7.49)."))
    relay_tariffs = TextAreaField(_l("Vos tarifs point retrait"), validators=[Optional(), Length(max=2000)],
                                  description=_l("Même format ; vide si vous ne proposez pas le point retrait."))
    okapi_key = PasswordField(_l("Clé API La Poste (Suivi v2)"), validators=[Optional(), Length(max=128)],
                              description=_l("developer.laposte.fr › Mes applications › clé « Suivi v2 »."))
    api_base_url = URLField(_l("Adresse des web services d'affranchissement (avancé)"), default=SLS_BASE_URL,
                            validators=[Optional(), URL(require_tld=False), RemoteAddress(REMOTE, SLS_BASE_URL)])
    points_base_url = URLField(_l("Adresse du service des points retrait (avancé)"), default=POINTS_BASE_URL,
                               validators=[Optional(), URL(require_tld=False), RemoteAddress(REMOTE, POINTS_BASE_URL)])
    tracking_base_url = URLField(_l("Adresse de l'API de suivi (avancé)"), default=TRACKING_BASE_URL,
                                 validators=[Optional(), URL(require_tld=False),
                                             RemoteAddress(TRACKING_REMOTE, TRACKING_BASE_URL)])
