"""Settings of the Colissimo add-on for one shop."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional, Regexp, URL


class SettingsForm(FlaskForm):
    contract_number = StringField(_l("Numéro de contrat Colissimo"), validators=[DataRequired(), Length(max=16)])
    password = PasswordField(_l("Mot de passe des web services"),
                             description=_l("Celui de votre Colissimo Box. Enregistré chiffré, jamais réaffiché."))
    product_code = SelectField(_l("Produit"), default="DOM", choices=[
        ("DOM", _l("Colissimo Domicile sans signature")), ("DOS", _l("Colissimo Domicile avec signature")),
        ("COLI", _l("Colissimo Expert International"))])
    sender_company = StringField(_l("Expéditeur : raison sociale"), validators=[DataRequired(), Length(max=35)])
    sender_line = StringField(_l("Expéditeur : adresse"), validators=[DataRequired(), Length(max=35)])
    sender_zip = StringField(_l("Expéditeur : code postal"), validators=[DataRequired(), Regexp(r"^\d{5}$")])
    sender_city = StringField(_l("Expéditeur : ville"), validators=[DataRequired(), Length(max=35)])
    tariffs = TextAreaField(_l("Vos tarifs contractuels"), validators=[Optional()], description=_l(
        "Une ligne par tranche : poids maximal en grammes, deux-points, prix TTC en euros (ex. 1000:7.49)."))
    okapi_key = PasswordField(_l("Clé API La Poste (suivi)"), validators=[Optional()],
                              description=_l("Clé « Suivi v2 » de developer.laposte.fr, pour suivre les colis."))
    api_base_url = URLField(_l("Adresse des web services d'affranchissement"), validators=[DataRequired(),
                            URL(require_tld=False)], default="https://ws.colissimo.fr/sls-ws/SlsServiceWSRest/2.0")
    tracking_base_url = URLField(_l("Adresse de l'API de suivi"), validators=[DataRequired(), URL(require_tld=False)],
                                 default="https://api.laposte.fr/suivi/v2")
