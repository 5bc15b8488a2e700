"""Shopify's mandatory compliance webhooks, for the orders and customers of one shop.

* ``customers/data_request``: what the OMS holds about the customer (orders of this shop
  with their contact details and addresses, customer records) is recorded for the merchant
  to send (Shopify gives 30 days);
* ``customers/redact``: the customer's personal data in this shop's orders is erased (name,
  email, phone, street address; the country stays for statistics), their customer record
  too once no other order refers to it, and the raw deliveries holding it are deleted;
* ``shop/redact`` (48 h after uninstall): the same for every order of the shop, plus the
  stored tokens, deliveries and data-request reports.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select

from core.extensions import db
from core.models import Customer, Order, OrderEvent, Shop, utcnow

from .models import ShopifyPrivacyRequest, ShopifyWebhookInbox

KEPT_ADDRESS_FIELDS = ("country",)


def _orders(shop: Shop, email: str | None, external_ids: set[str]) -> list[Order]:
    conditions = []
    if external_ids:
        conditions.append(Order.external_id.in_(sorted(external_ids)))
    if email:
        conditions.append(func.lower(Order.email) == email.lower())
    if not conditions:
        return []
    return list(db.session.scalars(select(Order).where(Order.shop_id == shop.id, or_(*conditions))
                                   .order_by(Order.placed_at)))


def _ids(values: Any) -> set[str]:
    return {str(v).rsplit("/", 1)[-1] for v in values or []}


def data_request(shop: Shop, payload: dict[str, Any]) -> ShopifyPrivacyRequest:
    customer = payload.get("customer") or {}
    email = customer.get("email")
    orders = _orders(shop, email, _ids(payload.get("orders_requested")))
    customers = list(db.session.scalars(select(Customer).where(
        Customer.organization_id == shop.organization_id, func.lower(Customer.email) == (email or "").lower()))) \
        if email else []
    report = {
        "shop": shop.name,
        "customer": {"email": email, "phone": customer.get("phone")},
        "orders": [{"number": o.number, "placed_at": o.placed_at.isoformat(), "email": o.email, "phone": o.phone,
                    "shipping_address": o.shipping_address, "billing_address": o.billing_address,
                    "lines": [{"sku": ln.sku, "title": ln.title, "quantity": ln.quantity} for ln in o.lines]}
                   for o in orders],
        "customer_records": [{"name": c.name, "email": c.email, "phone": c.phone} for c in customers],
    }
    entry = ShopifyPrivacyRequest(shop_id=shop.id, topic="customers/data_request",
                                  request_id=str((payload.get("data_request") or {}).get("id") or "") or None,
                                  customer_email=email, report=report, received_at=utcnow())
    db.session.add(entry)
    return entry


def _anonymise(order: Order, reason: str) -> None:
    order.email = None
    order.phone = None
    order.shipping_address = {k: v for k, v in (order.shipping_address or {}).items() if k in KEPT_ADDRESS_FIELDS}
    order.billing_address = {k: v for k, v in (order.billing_address or {}).items() if k in KEPT_ADDRESS_FIELDS}
    order.customer_id = None
    order.events.append(OrderEvent(kind="redacted", source="shopify", at=utcnow(),
                                   message=f"données personnelles effacées ({reason})"))


def _purge_deliveries(shop: Shop, order_ids: list[str] | None) -> int:
    stmt = delete(ShopifyWebhookInbox).where(ShopifyWebhookInbox.shop_id == shop.id,
                                             ShopifyWebhookInbox.processed_at.is_not(None))
    if order_ids is not None:
        stmt = stmt.where(ShopifyWebhookInbox.topic.like("orders/%"), ShopifyWebhookInbox.resource_id.in_(order_ids))
    return int(db.session.execute(stmt).rowcount or 0)


def _release_customers(customer_ids: set[int]) -> int:
    """Customer records no order refers to any more are erased too."""
    erased = 0
    for customer in db.session.scalars(select(Customer).where(Customer.id.in_(customer_ids))):
        still_used = db.session.scalar(select(func.count()).select_from(Order).where(Order.customer_id == customer.id))
        if not still_used:
            customer.name, customer.email, customer.phone = "", None, None
            erased += 1
    return erased


def customer_redact(shop: Shop, payload: dict[str, Any]) -> ShopifyPrivacyRequest:
    customer = payload.get("customer") or {}
    orders = _orders(shop, customer.get("email"), _ids(payload.get("orders_to_redact")))
    customer_ids = {o.customer_id for o in orders if o.customer_id}
    for order in orders:
        _anonymise(order, "demande du client via Shopify")
    db.session.flush()
    customers = _release_customers(customer_ids)
    deliveries = _purge_deliveries(shop, [o.external_id for o in orders])
    entry = ShopifyPrivacyRequest(shop_id=shop.id, topic="customers/redact", received_at=utcnow(),
                                  report={"orders": len(orders), "customers": customers, "deliveries": deliveries})
    db.session.add(entry)
    return entry


def shop_redact(shop: Shop, payload: dict[str, Any]) -> ShopifyPrivacyRequest:
    orders = list(db.session.scalars(select(Order).where(Order.shop_id == shop.id)))
    customer_ids = {o.customer_id for o in orders if o.customer_id}
    for order in orders:
        _anonymise(order, "boutique Shopify effacée")
    db.session.flush()
    customers = _release_customers(customer_ids)
    deliveries = _purge_deliveries(shop, None)
    reports = db.session.execute(delete(ShopifyPrivacyRequest).where(
        ShopifyPrivacyRequest.shop_id == shop.id, ShopifyPrivacyRequest.topic == "customers/data_request")).rowcount
    shop.credentials = {}
    entry = ShopifyPrivacyRequest(shop_id=shop.id, topic="shop/redact", received_at=utcnow(),
                                  report={"orders": len(orders), "customers": customers, "deliveries": deliveries,
                                          "data_requests": int(reports or 0)})
    db.session.add(entry)
    return entry
