"""Shipping rules: which Sendcloud method a parcel gets.

Rules are data (``sendcloud_shipping_rule``), tried in ``position`` order; the first active
rule whose conditions all hold gives the method. Conditions: the order's channel and service
level, the destination (national, EU, outside the EU, listed countries), the parcel's
weight, the order's value, a product tag of an item in the parcel. Without a matching rule
the account's default method applies.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.models import Order, Shipment, Shop

from .models import SendcloudShippingMethod, SendcloudShippingRule

#: member states of the European Union (customs-free destinations from an EU sender)
EU = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
                "LT", "LU", "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})


class NoMethod(ValueError):
    """No rule matches and no default method is set."""


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


def parcel_facts(shop: Shop, order: Order, shipment: Shipment, settings: dict[str, Any]) -> Parcel:
    tags: set[str] = {str(t).casefold() for t in order.tags or []}
    value = Decimal("0")
    for sl in shipment.lines:
        line = sl.order_line
        value += line.unit_price * sl.quantity
        if line.variant is not None:
            tags |= {str(t).casefold() for t in line.variant.product.tags or []}
    address = order.shipping_address or {}
    return Parcel(channel=shop.addon, service_level=str(order.service_level),
                  from_country=(settings.get("from_country_code") or "FR").upper(),
                  to_country=str(address.get("country") or "").upper(), weight_grams=shipment.weight_grams,
                  value=value or order.total, tags=frozenset(tags))


def matches(rule: SendcloudShippingRule, parcel: Parcel) -> bool:
    if rule.channels and parcel.channel not in rule.channels:
        return False
    if rule.service_levels and parcel.service_level not in rule.service_levels:
        return False
    if rule.destination == "domestic" and parcel.to_country != parcel.from_country:
        return False
    if rule.destination == "eu" and (parcel.to_country == parcel.from_country or parcel.to_country not in EU):
        return False
    if rule.destination == "non_eu" and not needs_customs(parcel.from_country, parcel.to_country):
        return False
    if rule.countries and parcel.to_country not in {c.upper() for c in rule.countries}:
        return False
    weight = parcel.weight_grams
    if rule.min_weight_grams is not None and (weight is None or weight < rule.min_weight_grams):
        return False
    if rule.max_weight_grams is not None and (weight is None or weight > rule.max_weight_grams):
        return False
    if rule.min_value is not None and parcel.value < rule.min_value:
        return False
    if rule.max_value is not None and parcel.value > rule.max_value:
        return False
    if rule.sku_tag and rule.sku_tag.casefold() not in parcel.tags:
        return False
    return True


def rules_of(org_id: int) -> list[SendcloudShippingRule]:
    return list(db.session.scalars(select(SendcloudShippingRule).where(
        SendcloudShippingRule.organization_id == org_id, SendcloudShippingRule.active.is_(True))
        .order_by(SendcloudShippingRule.position, SendcloudShippingRule.id)))


def choose(shop: Shop, order: Order, shipment: Shipment, settings: dict[str, Any]
           ) -> tuple[str, SendcloudShippingRule | None]:
    """(method id, the rule that chose it or None for the default)."""
    parcel = parcel_facts(shop, order, shipment, settings)
    for rule in rules_of(shop.organization_id):
        if matches(rule, parcel):
            return rule.method_id, rule
    default = (settings.get("default_method") or "").strip()
    if default:
        return default, None
    raise NoMethod("Aucune règle d'expédition Sendcloud ne s'applique à ce colis et aucune méthode par défaut "
                   "n'est réglée : ajoutez une règle (Intégrations › Sendcloud › Règles d'expédition).")


def method_name(shop_id: int, method_id: str) -> str:
    row = db.session.scalar(select(SendcloudShippingMethod).where(SendcloudShippingMethod.shop_id == shop_id,
                                                                   SendcloudShippingMethod.method_id == method_id))
    return row.name if row is not None else method_id
