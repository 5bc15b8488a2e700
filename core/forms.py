"""Form fields whose numbers fit the columns they go to.

WTForms' own ``IntegerField`` takes ``²`` or ``١٢`` (Python's ``int`` reads any Unicode digit)
and numbers beyond every integer column; its ``DecimalField`` takes ``1e400``, ``Infinity`` and
``NaN``. These fields refuse all of them with a French message, before any query. Core's
forms and the add-ons' forms import them in place of WTForms' (same names, same arguments).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import fields, validators

from .inputs import DATE_MAX, DATE_MIN, INT_MAX, in_date_range, parse_decimal, parse_id, parse_int

#: the largest amount a money, cost or rate column holds (Numeric(15, 2) and up)
DECIMAL_MAX = Decimal(10) ** 11


class IntegerField(fields.IntegerField):
    """An integer written with ASCII digits, within the INTEGER column range."""

    def __init__(self, *args: Any, minimum: int = -INT_MAX, maximum: int = INT_MAX, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or valuelist[0] in (None, ""):
            self.data = None
            return
        number = parse_int(valuelist[0], lo=self.minimum, hi=self.maximum)
        if number is None:
            self.data = None
            raise ValueError(_l("Nombre entier attendu, entre %(lo)s et %(hi)s.", lo=self.minimum,
                                hi=self.maximum))
        self.data = number


class DecimalField(fields.DecimalField):
    """A finite decimal (French comma accepted) that fits a money, cost or rate column."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or valuelist[0] in (None, ""):
            self.data = None
            return
        number = parse_decimal(valuelist[0], max_digits=15, places=4)
        if number is None or abs(number) >= DECIMAL_MAX:
            self.data = None
            raise ValueError(_l("Nombre attendu (par exemple 12,50)."))
        self.data = number


def coerce_id(value: Any) -> int:
    """``coerce=`` of a select of rows: a real id, else the choice is refused."""
    if value is None or value == "":
        raise ValueError(_l("Choix invalide."))
    number = parse_id(value)
    if number is None:
        raise ValueError(_l("Choix invalide."))
    return number


class DateField(fields.DateField):
    """A date of this era (2000-2100): beyond, the next day or a period's end would overflow."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not in_date_range(self.data):
            self.data = None
            raise ValueError(_l("Date attendue entre %(lo)s et %(hi)s.", lo=DATE_MIN.year, hi=DATE_MAX.year))


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


class ConditionsForm(FlaskForm):
    """The conditions of a shipping rule (``core.shipping_rules``), for core's carrier rules and
    a carrier add-on's own rule form alike: subclass it and add what the rule gives.
    ``channels.choices`` is set by the view (the channel add-ons)."""

    service_levels = fields.SelectMultipleField(
        _l("Niveaux de service"), validate_choice=False,
        choices=[("standard", _l("Standard")), ("express", _l("Express")), ("prime", _l("Prime"))])
    channels = fields.SelectMultipleField(_l("Canaux de vente"), validate_choice=False)
    destination = fields.SelectField(
        _l("Destination"), default="",
        choices=[("", _l("Toutes")), ("domestic", _l("Nationale (pays d'expédition)")),
                 ("eu", _l("Union européenne, hors national")), ("non_eu", _l("Hors Union européenne (douane)"))])
    countries = fields.StringField(_l("Pays (codes ISO séparés par des virgules)"),
                                   filters=[lambda v: v.strip() if isinstance(v, str) else v],
                                   validators=[validators.Optional(), validators.Length(max=500)],
                                   description=_l("Par exemple CH, GB, US."))
    min_weight_grams = IntegerField(_l("Poids minimum (g)"), validators=[validators.Optional(),
                                                                         validators.NumberRange(min=0)])
    max_weight_grams = IntegerField(_l("Poids maximum (g)"), validators=[validators.Optional(),
                                                                         validators.NumberRange(min=1)])
    min_value = DecimalField(_l("Valeur minimum de la commande"), places=2,
                             validators=[validators.Optional(), validators.NumberRange(min=0)])
    max_value = DecimalField(_l("Valeur maximum de la commande"), places=2,
                             validators=[validators.Optional(), validators.NumberRange(min=0)])
    sku_tag = fields.StringField(_l("Étiquette produit"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                                 validators=[validators.Optional(), validators.Length(max=64)],
                                 description=_l("Un article du colis porte cette étiquette (par exemple fragile)."))
