"""Records every hook call, so tests see which add-ons ran for which shop."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from core import hookimpl
from core.types import ConnectionResult

CALLS: list[tuple[str, str, int]] = []


class SettingsForm(FlaskForm):
    url = StringField("URL", validators=[DataRequired()])
    api_key = PasswordField(_l("Clé API"))  # translated by the add-on's own catalogue


@hookimpl
def stock_available_changed(shop, changes):
    CALLS.append(("alpha", "stock_available_changed", shop.id))


@hookimpl
def register_settings_form():
    return SettingsForm


@hookimpl
def connection_test(settings):
    if settings.get("api_key") == "good-key":
        return ConnectionResult(True, "connecté à " + settings.get("url", ""), ["compte démo"])
    return ConnectionResult(False, "clé API refusée")
