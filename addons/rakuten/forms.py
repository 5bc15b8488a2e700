"""Settings of a Rakuten France seller account ("Configurer")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, URLField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, URL

from core.connectors.validators import RemoteAddress
from core.forms import IntegerField

from .client import DEFAULT_BASE_URL, REMOTE


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    login = StringField(
        _l("Identifiant vendeur Rakuten (pseudo)"), filters=[_strip],
        validators=[DataRequired(), Length(max=120),
                    Regexp(r"^[^\s&=?#]+$", message=_l("L'identifiant ne contient ni espace ni & = ? #."))],
        description=_l("Le pseudo de votre compte vendeur professionnel, celui avec lequel vous vous connectez "
                       "à https://fr.shopping.rakuten.com."))
    token = PasswordField(
        _l("Jeton web-service (token)"), validators=[Optional(), Length(max=255)],
        description=_l("Mon compte › Mes informations développeur › jeton (page "
                       "https://fr.shopping.rakuten.com/usersecure?action=usrwstokenaccess). Ce n'est pas votre mot "
                       "de passe. Laissez vide pour conserver le jeton enregistré."))
    api_base_url = URLField(
        _l("Adresse des web-services (avancé)"),
        validators=[Optional(), URL(require_tld=False), Length(max=500), RemoteAddress(REMOTE, DEFAULT_BASE_URL)],
        description=_l("Laissez vide pour utiliser %(url)s. La plateforme de test de Rakuten est "
                       "https://sandbox.fr.shopping.rakuten.com.", url=DEFAULT_BASE_URL))
    import_days = IntegerField(
        _l("Historique importé à la connexion (jours)"), default=30,
        validators=[Optional(), NumberRange(min=1, max=90)],
        description=_l("Les ventes en cours passées pendant ces derniers jours sont importées à la première "
                       "synchronisation."))
