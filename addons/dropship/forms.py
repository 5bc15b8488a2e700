"""Settings of the dropshipping add-on ("Configurer"): how purchase orders are sent."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import Email, Length, NumberRange, Optional


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    smtp_host = StringField(_l("Serveur SMTP"), filters=[_strip], validators=[Optional(), Length(max=255)],
                            description=_l("Le serveur d'envoi de votre messagerie, par exemple smtp.example.com."))
    smtp_port = IntegerField(_l("Port"), default=587, validators=[Optional(), NumberRange(min=1, max=65535)],
                             description=_l("587 avec STARTTLS (recommandé), 465 pour une connexion chiffrée "
                                            "d'emblée."))
    smtp_username = StringField(_l("Utilisateur SMTP"), filters=[_strip], validators=[Optional(), Length(max=255)])
    smtp_password = PasswordField(_l("Mot de passe SMTP"), validators=[Optional(), Length(max=255)],
                                  description=_l("Laissez vide pour conserver le mot de passe enregistré."))
    smtp_starttls = BooleanField(_l("Chiffrer la connexion (STARTTLS)"), default=True)
    from_address = EmailField(_l("Adresse d'expédition des bons de commande"), filters=[_strip],
                              validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    webhook_secret = PasswordField(
        _l("Secret de signature des webhooks"), validators=[Optional(), Length(min=16, max=255)],
        description=_l("Partagé avec les fournisseurs reliés par webhook : chaque bon de commande porte "
                       "l'en-tête X-OMS-Signature (HMAC-SHA256 du corps). Laissez vide pour conserver le secret "
                       "enregistré."))
