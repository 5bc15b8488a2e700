"""Shipping rules: which carrier a parcel gets, and the conditions every shipping rule reads.

Core's carrier rules (``carrier_rule``) are tried in ``position`` order when a shipment is
created without a carrier chosen by hand: the first active rule whose conditions all hold
gives the carrier add-on, or :data:`core.shipping.CHEAPEST` — the cheapest quote of the
enabled carriers that keeps the order's service level. Without a matching rule the shop's
default carrier applies. A carrier add-on's own rules (a method within the carrier) read the
same conditions through :class:`Parcel` and :func:`matches`.

Conditions, empty ones always true: the order's channel and service level, the destination
(national, EU, outside the EU, listed countries), the parcel's weight, the order's value, a
product tag of an item in the parcel.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from flask_babel import gettext as _
from sqlalchemy import select

from .addons import registry
from .extensions import db
from .models import CarrierRule, Order, OrderLine, Warehouse

#: member states of the European Union (customs-free destinations from an EU sender)
EU = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
                "LT", "LU", "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})
DESTINATIONS = ("", "domestic", "eu", "non_eu")


class Conditions(Protocol):
    """What a rule of any kind carries to be matched (core's and an add-on's rule tables)."""

    channels: list[str]
    service_levels: list[str]
    destination: str
    countries: list[str]
    min_weight_grams: int | None
    max_weight_grams: int | None
    min_value: Decimal | None
    max_value: Decimal | None
    sku_tag: str | None


@dataclass(frozen=True)
class Parcel:
    """What the rules look at."""

    channel: str
    service_level: str
    from_country: str
    to_country: str
    weight_grams: int | None
    value: Decimal
    tags: frozenset[str]


def needs_customs(from_country: str, to_country: str) -> bool:
    """True when the parcel leaves the EU customs territory (FR → CH, GB, US…)."""
    from_eu = from_country.upper() in EU
    to_eu = to_country.upper() in EU
    return from_country.upper() != to_country.upper() and not (from_eu and to_eu)


def parcel_facts(order: Order, lines: Iterable[tuple[OrderLine, int]], weight_grams: int | None,
                 from_country: str) -> Parcel:
    """The parcel of ``lines`` (order line, quantity) of ``order``, sent from ``from_country``."""
    tags: set[str] = {str(t).casefold() for t in order.tags or []}
    value = Decimal("0")
    for line, qty in lines:
        value += line.unit_price * qty
        if line.variant is not None:
            tags |= {str(t).casefold() for t in line.variant.product.tags or []}
    address = order.shipping_address or {}
    return Parcel(channel=order.shop.addon, service_level=str(order.service_level),
                  from_country=(from_country or "FR").upper(), to_country=str(address.get("country") or "").upper(),
                  weight_grams=weight_grams, value=value or order.total, tags=frozenset(tags))


def matches(rule: Conditions, parcel: Parcel) -> bool:
    """Do all the rule's conditions hold for the parcel?"""
    checks = (
        not rule.channels or parcel.channel in rule.channels,
        not rule.service_levels or parcel.service_level in rule.service_levels,
        rule.destination != "domestic" or parcel.to_country == parcel.from_country,
        rule.destination != "eu" or (parcel.to_country != parcel.from_country and parcel.to_country in EU),
        rule.destination != "non_eu" or needs_customs(parcel.from_country, parcel.to_country),
        not rule.countries or parcel.to_country in {c.upper() for c in rule.countries},
        rule.min_weight_grams is None or (parcel.weight_grams is not None
                                          and parcel.weight_grams >= rule.min_weight_grams),
        rule.max_weight_grams is None or (parcel.weight_grams is not None
                                          and parcel.weight_grams <= rule.max_weight_grams),
        rule.min_value is None or parcel.value >= rule.min_value,
        rule.max_value is None or parcel.value <= rule.max_value,
        not rule.sku_tag or rule.sku_tag.casefold() in parcel.tags,
    )
    return all(checks)


def fill_conditions(rule: Conditions, data: dict[str, Any]) -> None:
    """Set a rule's conditions from a rule form's data (the fields of ``ConditionsForm``)."""
    rule.service_levels = [s for s in data.get("service_levels") or [] if s in ("standard", "express", "prime")]
    rule.channels = list(data.get("channels") or [])
    rule.destination = data.get("destination") if data.get("destination") in DESTINATIONS else ""
    rule.countries = sorted({c.strip().upper() for c in (data.get("countries") or "").replace(";", ",").split(",")
                             if len(c.strip()) == 2})
    rule.min_weight_grams = data.get("min_weight_grams")
    rule.max_weight_grams = data.get("max_weight_grams")
    rule.min_value = Decimal(data["min_value"]) if data.get("min_value") is not None else None
    rule.max_value = Decimal(data["max_value"]) if data.get("max_value") is not None else None
    rule.sku_tag = (data.get("sku_tag") or "").strip() or None


def conditions_data(rule: Conditions) -> dict[str, Any]:
    """A rule's conditions as a rule form's data (the reverse of :func:`fill_conditions`)."""
    return {"service_levels": list(rule.service_levels or []), "channels": list(rule.channels or []),
            "destination": rule.destination or "", "countries": ", ".join(rule.countries or []),
            "min_weight_grams": rule.min_weight_grams, "max_weight_grams": rule.max_weight_grams,
            "min_value": rule.min_value, "max_value": rule.max_value, "sku_tag": rule.sku_tag or ""}


def describe(rule: Conditions, channel_titles: dict[str, str]) -> list[str]:
    """A rule's conditions in words; empty when it takes every parcel."""
    levels = {"standard": _("Standard"), "express": _("Express"), "prime": _("Prime")}
    places = {"domestic": _("nationale"), "eu": _("Union européenne, hors national"),
              "non_eu": _("hors Union européenne")}
    out = []
    if rule.channels:
        out.append(_("canaux : %(list)s", list=", ".join(channel_titles.get(c, c) for c in rule.channels)))
    if rule.service_levels:
        out.append(_("service : %(list)s", list=", ".join(levels.get(s, s) for s in rule.service_levels)))
    if rule.destination:
        out.append(_("destination : %(place)s", place=places.get(rule.destination, rule.destination)))
    if rule.countries:
        out.append(_("pays : %(list)s", list=", ".join(rule.countries)))
    if rule.min_weight_grams is not None or rule.max_weight_grams is not None:
        out.append(_("poids : %(low)s à %(high)s g", low=rule.min_weight_grams or 0,
                     high=rule.max_weight_grams if rule.max_weight_grams is not None else "∞"))
    if rule.min_value is not None or rule.max_value is not None:
        out.append(_("valeur : %(low)s à %(high)s", low=rule.min_value or 0,
                     high=rule.max_value if rule.max_value is not None else "∞"))
    if rule.sku_tag:
        out.append(_("étiquette : %(tag)s", tag=rule.sku_tag))
    return out


def channel_choices() -> list[tuple[str, str]]:
    """(name, title) of the channel add-ons, for a rule form's ``channels``."""
    found = ((a.name, a.title) for a in registry().loaded() if a.kind == "channel")
    return sorted(found, key=lambda pair: pair[1].lower())


# ----------------------------------------------------------------------------- core's carrier rules
def carrier_rules(org_id: int) -> list[CarrierRule]:
    """The organization's active carrier rules, in the order they are tried."""
    return list(db.session.scalars(select(CarrierRule).where(
        CarrierRule.organization_id == org_id, CarrierRule.active.is_(True))
        .order_by(CarrierRule.position, CarrierRule.id)))


def sender_country(warehouse_id: int | None) -> str:
    """Where the parcel leaves from: its warehouse's country, else France."""
    warehouse = db.session.get(Warehouse, warehouse_id) if warehouse_id else None
    country = (getattr(warehouse, "country", None) or "") if warehouse is not None else ""
    return country.upper() or "FR"


def choose_carrier(order: Order, lines: Iterable[tuple[OrderLine, int]], weight_grams: int | None,
                   warehouse_id: int | None, enabled: set[str]) -> CarrierRule | None:
    """The first carrier rule that holds for the parcel and names an enabled carrier (or the
    cheapest); None when no rule applies."""
    rules = carrier_rules(order.organization_id)
    if not rules:
        return None
    parcel = parcel_facts(order, list(lines), weight_grams, sender_country(warehouse_id))
    for rule in rules:
        if rule.carrier in enabled and matches(rule, parcel):
            return rule
    return None
