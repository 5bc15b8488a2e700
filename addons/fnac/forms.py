"""Settings of a Fnac Darty shop ("Configurer")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, URLField
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, Regexp

from core.connectors.validators import RemoteAddress
from core.forms import IntegerField

from .client import DEFAULT_BASE_URL, REMOTE

UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _strip(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    brand = SelectField(_l("Enseigne"), choices=[("fnac", "Fnac"), ("darty", "Darty")], default="fnac",
                        description=_l("Une boutique Fnac et une boutique Darty se connectent séparément, "
                                       "chacune avec son identifiant de boutique et sa clé."))
    partner_id = StringField(
        _l("Identifiant partenaire (partner id)"), filters=[_strip],
        validators=[DataRequired(), Regexp(UUID, message=_l("L'identifiant partenaire a la forme "
                                                            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx."))],
        description=_l("Le même pour vos boutiques Fnac et Darty ; Fnac Darty le communique avec l'accès API "
                       "(demande à marketplace.api@fnacdarty.com)."))
    shop_id = StringField(
        _l("Identifiant de la boutique (shop id)"), filters=[_strip],
        validators=[DataRequired(), Regexp(UUID, message=_l("L'identifiant de boutique a la forme "
                                                            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx."))],
        description=_l("Propre à chaque boutique (Fnac ou Darty), communiqué avec sa clé."))
    key = PasswordField(
        _l("Clé de la boutique (key)"), validators=[Optional(), Length(max=255)],
        description=_l("Enregistrée chiffrée, jamais réaffichée. Laissez vide pour conserver la clé enregistrée."))
    push_prices = BooleanField(_l("Envoyer aussi les prix des produits"), default=False,
                               description=_l("Sinon seules les quantités sont envoyées ; les prix restent ceux du "
                                              "back-office Fnac Darty."))
    accept_hours = IntegerField(
        _l("Refus automatique des commandes sans stock après (heures)"), default=36,
        validators=[Optional(), NumberRange(min=1, max=72)],
        description=_l("Une commande en attente de stock est refusée sur Fnac Darty avant la fin du délai "
                       "d'acceptation."))
    import_days = IntegerField(
        _l("Historique importé à la connexion (jours)"), default=30, validators=[Optional(), NumberRange(min=1, max=90)])
    api_base_url = URLField(
        _l("Adresse de l'API (avancé)"), default=DEFAULT_BASE_URL,
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, DEFAULT_BASE_URL)],
        description=_l("Laissez l'adresse de production %(url)s.", url=DEFAULT_BASE_URL))
