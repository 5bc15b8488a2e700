"""Settings of a WooCommerce shop ("Configurer")."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, URLField, ValidationError
from wtforms.validators import DataRequired, Length, Optional, Regexp

from core.connectors import OutboundRefused
from core.forms import IntegerField

from .client import store_root


def _store_address(form, field) -> None:
    try:
        field.data = store_root(field.data)
    except OutboundRefused as exc:
        raise ValidationError(exc.for_locale(str(get_locale() or "fr"))) from None


class SettingsForm(FlaskForm):
    store_url = URLField(
        _l("Adresse de la boutique"), validators=[DataRequired(), Length(max=500), _store_address],
        description=_l("L'adresse publique du site WordPress, par exemple https://www.ma-boutique.fr."))
    consumer_key = PasswordField(
        _l("Clé client (consumer key)"),
        validators=[Optional(), Length(max=100), Regexp(r"^ck_[0-9a-f]{40}$", message=_l(
            "La clé client commence par ck_ suivi de 40 caractères."))],
        description=_l("WooCommerce → Réglages → Avancé → API REST → Ajouter une clé, droits « Lecture/Écriture ». "
                       "Laissez vide pour conserver la clé enregistrée."))
    consumer_secret = PasswordField(
        _l("Secret client (consumer secret)"),
        validators=[Optional(), Length(max=100), Regexp(r"^cs_[0-9a-f]{40}$", message=_l(
            "Le secret client commence par cs_ suivi de 40 caractères."))],
        description=_l("Affiché une seule fois par WooCommerce à la création de la clé. Laissez vide pour conserver "
                       "celui enregistré."))
    import_days = IntegerField(
        _l("Commandes à reprendre au premier import (jours)"), default=30, minimum=1, maximum=365,
        validators=[Optional()],
        description=_l("Les commandes modifiées pendant ces derniers jours sont importées à la connexion."))
