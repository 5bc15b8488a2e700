"""Settings of a Shopify shop ("Configurer")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, URLField
from wtforms.validators import DataRequired, Length, Optional, Regexp, URL

from .client import API_VERSION, DEFAULT_API_VERSION, SHOP_DOMAIN, normalize_domain


class SettingsForm(FlaskForm):
    shop_domain = StringField(
        _l("Domaine myshopify.com de la boutique"),
        filters=[normalize_domain],
        validators=[DataRequired(), Length(max=255),
                    Regexp(SHOP_DOMAIN, message=_l("Indiquez le domaine en .myshopify.com, "
                                                   "par exemple ma-boutique.myshopify.com."))],
        description=_l("Le domaine d'origine de la boutique, même si elle utilise un nom de domaine "
                       "personnalisé."))
    api_version = StringField(
        _l("Version de l'API Admin"), default=DEFAULT_API_VERSION,
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(), Regexp(API_VERSION, message=_l("Format attendu : AAAA-MM."))],
        description=_l("Version trimestrielle de l'API (stable actuelle : %(version)s).",
                       version=DEFAULT_API_VERSION))
    access_token = PasswordField(
        _l("Jeton d'accès Admin API"), validators=[Optional(), Length(max=255)],
        description=_l("Laissez vide pour conserver le jeton enregistré."))
    api_base_url = URLField(
        _l("Adresse de l'API (avancé)"), validators=[Optional(), URL(require_tld=False), Length(max=500)],
        description=_l("Laissez vide pour utiliser https://<domaine de la boutique>."))
