"""Settings of a Sendcloud account ("Configurer")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Length, Optional, URL

from .client import DEFAULT_BASE_URL

#: departure countries Sendcloud ships from
SENDER_COUNTRIES = [
    ("FR", _l("France")), ("BE", _l("Belgique")), ("NL", _l("Pays-Bas")), ("DE", _l("Allemagne")),
    ("AT", _l("Autriche")), ("ES", _l("Espagne")), ("IT", _l("Italie")), ("GB", _l("Royaume-Uni")),
]


class SettingsForm(FlaskForm):
    public_key = StringField(
        _l("Clé publique"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(), Length(max=128)],
        description=_l("Sendcloud › Paramètres › Intégrations › Sendcloud API."))
    secret_key = PasswordField(
        _l("Clé secrète"), validators=[Optional(), Length(max=128)],
        description=_l("Laissez vide pour conserver la clé enregistrée."))
    from_country_code = SelectField(
        _l("Pays d'expédition"), choices=SENDER_COUNTRIES, default="FR",
        description=_l("Le pays d'où partent vos colis : le test liste les options d'expédition depuis ce pays."))
    api_base_url = URLField(
        _l("Adresse de l'API (avancé)"), default=DEFAULT_BASE_URL,
        validators=[Optional(), URL(require_tld=False), Length(max=500)],
        description=_l("API v3 de Sendcloud ; à modifier seulement pour l'émulateur de démonstration."))
