"""Forms of the dropshipping add-on: its settings ("Configurer"), suppliers, the products
they serve, uploads, and the supplier's tracking form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    URLField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp, URL

from core.connectors.validators import PublicAddress
from core.forms import DecimalField, IntegerField

from .models import ORDER_CHANNELS
from .suppliers import parse_batch_times


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


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
    dropship_when_short = BooleanField(
        _l("Faire expédier par le fournisseur quand votre stock ne suffit pas"), default=False,
        description=_l("Sinon, seuls les produits « en dropshipping seul » partent chez le fournisseur ; les "
                       "autres attendent votre réassort."))


def _batch_times(form: FlaskForm, field: StringField) -> None:
    try:
        parse_batch_times(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


CHANNEL_LABELS = {"email": _l("E-mail (bon de commande en CSV et PDF)"),
                  "webhook": _l("Webhook signé vers le système du fournisseur")}


class SupplierForm(FlaskForm):
    name = StringField(_l("Nom du fournisseur"), filters=[_strip], validators=[DataRequired(), Length(max=120)])
    contact_name = StringField(_l("Contact"), filters=[_strip], validators=[Optional(), Length(max=120)])
    email = EmailField(_l("E-mail"), filters=[_strip],
                       validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
                       description=_l("Reçoit les bons de commande envoyés par e-mail."))
    phone = StringField(_l("Téléphone"), filters=[_strip], validators=[Optional(), Length(max=40)])
    order_channel = SelectField(_l("Envoi des bons de commande"),
                                choices=[(c, CHANNEL_LABELS[c]) for c in ORDER_CHANNELS], default="email")
    webhook_url = URLField(_l("Adresse du webhook"), filters=[_strip],
                           validators=[Optional(), URL(require_tld=False), Length(max=500), PublicAddress()],
                           description=_l("Fournie par le système du fournisseur."))
    webhook_secret = PasswordField(
        _l("Secret de signature du webhook"), validators=[Optional(), Length(min=16, max=255)],
        description=_l("Partagé avec le fournisseur. Laissez vide pour conserver le secret enregistré (ou pour en "
                       "générer un à la création)."))
    lead_time_days = IntegerField(_l("Délai de préparation (jours)"), default=2,
                                  validators=[InputRequired(), NumberRange(min=0, max=365)])
    currency = StringField(_l("Devise des prix d'achat"), default="EUR", filters=[_upper],
                           validators=[DataRequired(), Regexp(r"^[A-Z]{3}$", message=_l("Code ISO à 3 lettres."))])
    batch_times = StringField(_l("Envoi groupé aux heures"), filters=[_strip],
                              validators=[Optional(), Length(max=100), _batch_times],
                              description=_l("Par exemple 08:00, 14:00 (heure de Paris). Vide : chaque bon de "
                                             "commande part dès que la commande est allouée."))
    feed_url = URLField(_l("Adresse du flux de stock (CSV)"), filters=[_strip],
                        validators=[Optional(), URL(require_tld=False), Length(max=500), PublicAddress()])
    feed_interval_minutes = IntegerField(_l("Lire le flux toutes les (minutes)"),
                                         validators=[Optional(), NumberRange(min=5, max=7 * 24 * 60)])
    stock_buffer = IntegerField(_l("Réserve de sécurité (unités par article)"), default=0,
                                validators=[Optional(), NumberRange(min=0, max=100_000)],
                                description=_l("Retenues sur le stock publié par le fournisseur avant de le proposer "
                                               "sur vos canaux : son flux n'est jamais tout à fait à jour."))
    active = BooleanField(_l("Actif"), default=True,
                          description=_l("Un fournisseur inactif ne reçoit plus de nouvelles lignes."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.order_channel.data == "webhook" and not self.webhook_url.data and not self.webhook_url.errors:
            self.webhook_url.errors = [*self.webhook_url.errors, _l("Indiquez l'adresse du webhook du fournisseur.")]
            ok = False
        if self.feed_url.data and not self.feed_interval_minutes.data and not self.feed_interval_minutes.errors:
            self.feed_interval_minutes.errors = [*self.feed_interval_minutes.errors,
                                                 _l("Indiquez tous les combien de minutes lire le flux.")]
            ok = False
        return ok


class SupplierProductForm(FlaskForm):
    sku = StringField(_l("Votre SKU"), filters=[_strip], validators=[DataRequired(), Length(max=64)])
    supplier_sku = StringField(_l("Référence chez le fournisseur"), filters=[_strip],
                               validators=[DataRequired(), Length(max=64)])
    unit_cost = DecimalField(_l("Prix d'achat unitaire"), places=4,
                             validators=[Optional(), NumberRange(min=0)])
    currency = StringField(_l("Devise"), filters=[_upper], validators=[
        Optional(), Regexp(r"^[A-Z]{3}$", message=_l("Code ISO à 3 lettres."))],
        description=_l("Vide : la devise du fournisseur."))
    priority = IntegerField(_l("Priorité"), default=10, validators=[InputRequired(), NumberRange(min=0, max=1000)],
                            description=_l("Le fournisseur de plus petite priorité est sollicité en premier."))
    mode = SelectField(_l("Rôle"), choices=[("dropship", _l("Expédie au client (dropshipping)")),
                                            ("restock", _l("Réapprovisionne votre stock"))], default="dropship")
    dropship_only = BooleanField(_l("En dropshipping seul"), default=False,
                                 description=_l("Jamais servi depuis votre stock : toujours expédié par un "
                                                "fournisseur."))

    def validate_dropship_only(self, field: BooleanField) -> None:
        if field.data and self.mode.data != "dropship":
            raise ValidationError(_l("Un produit en dropshipping seul doit être expédié par le fournisseur."))


class UploadForm(FlaskForm):
    file = FileField(_l("Fichier CSV"), validators=[FileRequired(_l("Choisissez un fichier."))])


class TrackingForm(FlaskForm):
    carrier = StringField(_l("Transporteur"), filters=[_strip], validators=[DataRequired(), Length(max=120)])
    tracking_number = StringField(_l("Numéro de suivi"), filters=[_strip], validators=[DataRequired(), Length(max=128)])
    tracking_url = URLField(_l("Lien de suivi"), filters=[_strip], validators=[Optional(), URL(require_tld=False),
                                                                              Length(max=500)])


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""
