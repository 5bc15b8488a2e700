"""Shipping rules: which Sendcloud method a parcel gets.

Rules are data (``sendcloud_shipping_rule``), tried in ``position`` order; the first active
rule whose conditions all hold gives the method. The conditions are core's
(``core.shipping_rules``): the order's channel and service level, the destination, the
parcel's weight, the order's value, a product tag. Without a matching rule the account's
default method applies.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core import shipping_rules
from core.extensions import db
from core.shipping_rules import Parcel, matches, needs_customs  # noqa: F401 - used by the labels and tests
from core.models import Order, Shipment, Shop

from .models import SendcloudShippingMethod, SendcloudShippingRule
from core.i18n import _

class NoMethod(ValueError):
    """No rule matches and no default method is set."""


def parcel_facts(shop: Shop, order: Order, shipment: Shipment, settings: dict[str, Any]) -> Parcel:
    """The parcel as the rules see it, sent from the account's departure country."""
    return shipping_rules.parcel_facts(order, [(sl.order_line, sl.quantity) for sl in shipment.lines],
                                       shipment.weight_grams, settings.get("from_country_code") or "FR")


def rules_of(org_id: int) -> list[SendcloudShippingRule]:
    return list(db.session.scalars(select(SendcloudShippingRule).where(
        SendcloudShippingRule.organization_id == org_id, SendcloudShippingRule.active.is_(True))
        .order_by(SendcloudShippingRule.position, SendcloudShippingRule.id)))


def choose(shop: Shop, order: Order, shipment: Shipment, settings: dict[str, Any]
           ) -> tuple[str, SendcloudShippingRule | None]:
    """(method id, the rule that chose it or None for the default). The parcel's facts (its
    items, their products) are read only when the organization has rules to try."""
    rules = rules_of(shop.organization_id)
    parcel = parcel_facts(shop, order, shipment, settings) if rules else None
    for rule in rules:
        if matches(rule, parcel):
            return rule.method_id, rule
    default = (settings.get("default_method") or "").strip()
    if default:
        return default, None
    raise NoMethod(_("Aucune règle d'expédition Sendcloud ne s'applique à ce colis et aucune méthode par défaut "
                     "n'est réglée : ajoutez une règle (Intégrations › Sendcloud › Règles d'expédition)."))


def method_name(shop_id: int, method_id: str) -> str:
    row = db.session.scalar(select(SendcloudShippingMethod).where(SendcloudShippingMethod.shop_id == shop_id,
                                                                   SendcloudShippingMethod.method_id == method_id))
    return row.name if row is not None else method_id
