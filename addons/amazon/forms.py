"""Settings of an Amazon seller account ("Configurer")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField, URLField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress
from core.forms import IntegerField

from .client import EU_MARKETPLACES, REGIONS, REMOTE, TOKEN_URL

REGION_LABELS = {
    "eu": _l("Europe (sellingpartnerapi-eu.amazon.com)"),
    "na": _l("Amérique du Nord (sellingpartnerapi-na.amazon.com)"),
    "fe": _l("Extrême-Orient (sellingpartnerapi-fe.amazon.com)"),
}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    region = SelectField(_l("Région de l'API"), choices=[(code, REGION_LABELS[code]) for code in REGIONS],
                         default="eu", validators=[DataRequired()])
    selling_partner_id = StringField(
        _l("Identifiant du vendeur (Selling Partner ID, ou Merchant Token)"), filters=[_strip, lambda v: v.upper() if v else v],
        validators=[DataRequired(), Regexp(r"^[A-Z0-9]{8,20}$", message=_l("Identifiant vendeur invalide."))],
        description=_l("Seller Central › Paramètres › Informations sur le compte › Vos identifiants de vendeur."))
    marketplaces = SelectMultipleField(
        _l("Marketplaces"), choices=[(m.id, f"{m.country} ({m.name})") for m in EU_MARKETPLACES],
        default=["A13V1IB3VIYZZH"], validators=[Optional()],
        description=_l("Les marketplaces européennes sur lesquelles vous vendez avec ce compte."))
    lwa_client_id = StringField(
        _l("Identifiant client LWA"), filters=[_strip],
        validators=[DataRequired(), Length(max=255),
                    Regexp(r"^amzn1\.application-oa2-client\.\w+$",
                           message=_l("L'identifiant client commence par amzn1.application-oa2-client."))])
    lwa_client_secret = PasswordField(
        _l("Secret client LWA"), validators=[Optional(), Length(max=255)],
        description=_l("Laissez vide pour conserver le secret enregistré."))
    refresh_token = PasswordField(
        _l("Refresh token"), validators=[Optional(), Length(max=2048)],
        description=_l("Commence par « Atzr| ». Laissez vide pour conserver le jeton enregistré."))
    api_base_url = URLField(
        _l("Adresse de l'API (avancé)"),
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, REGIONS["eu"])],
        description=_l("Laissez vide pour utiliser l'adresse de la région."))
    token_url = URLField(
        _l("Adresse du service de jetons LWA (avancé)"),
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, TOKEN_URL)],
        description=_l("Laissez vide pour utiliser %(url)s.", url=TOKEN_URL))
    import_days = IntegerField(
        _l("Historique importé à la connexion (jours)"), default=30,
        validators=[Optional(), NumberRange(min=1, max=730)],
        description=_l("Les commandes modifiées pendant ces derniers jours sont importées à la première "
                       "synchronisation (Amazon garde deux ans d'historique)."))
    notification_queue_arn = StringField(
        _l("File Amazon SQS des notifications (facultatif)"), filters=[_strip],
        validators=[Optional(), Length(max=1000),
                    Regexp(r"^arn:aws:sqs:\S+:\S+:\S+$", message=_l("L'ARN commence par arn:aws:sqs:"))],
        description=_l("Pour le mode « Temps réel » : la file SQS où Amazon dépose les notifications "
                       "ORDER_CHANGE. Voir la page Amazon de la boutique pour l'abonnement."))
