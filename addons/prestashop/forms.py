"""Settings of a PrestaShop shop ("Configurer")."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, URLField, ValidationError
from wtforms.validators import DataRequired, Length, Optional, Regexp

from core.connectors import OutboundRefused
from core.forms import IntegerField

from .client import shop_root


def _shop_address(form, field) -> None:
    try:
        field.data = shop_root(field.data)
    except OutboundRefused as exc:
        raise ValidationError(exc.for_locale(str(get_locale() or "fr"))) from None


class SettingsForm(FlaskForm):
    shop_url = URLField(_l("Adresse de la boutique PrestaShop"),
                        validators=[DataRequired(), Length(max=500), _shop_address],
                        description=_l("L'adresse publique de la boutique, par exemple https://www.ma-boutique.fr."))
    webservice_key = PasswordField(
        _l("Clé du webservice"),
        validators=[Optional(), Regexp(r"^[A-Z0-9]{32}$", message=_l("La clé du webservice compte 32 caractères "
                                                                     "(majuscules et chiffres)."))],
        description=_l("Paramètres avancés → Webservice → Ajouter une clé. Laissez vide pour conserver la clé "
                       "enregistrée."))
    id_shop = IntegerField(_l("Numéro de la boutique (multiboutique)"), default=1, minimum=1, maximum=10000,
                           validators=[Optional()],
                           description=_l("1 pour une boutique seule ; sinon l'identifiant de la boutique dans "
                                          "Paramètres avancés → Multiboutique."))
    timezone = SelectField(_l("Fuseau horaire de la boutique"), default="Europe/Paris",
                           choices=[("Europe/Paris", "Europe/Paris"), ("Europe/Brussels", "Europe/Brussels"),
                                    ("Europe/Zurich", "Europe/Zurich"), ("America/Montreal", "America/Montreal"),
                                    ("Indian/Reunion", "Indian/Reunion"), ("UTC", "UTC")],
                           description=_l("Celui de International → Localisation : les dates de PrestaShop y sont "
                                          "exprimées."))
    import_days = IntegerField(_l("Commandes à reprendre au premier import (jours)"), default=30, minimum=1,
                               maximum=365, validators=[Optional()])
