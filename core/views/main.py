"""Merchant pages: dashboard, orders, products, stock, preparation, analytics."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Shop,
    StockLevel,
    Variant,
    Warehouse,
    utcnow,
)
from ..tenancy import EVERYONE, MANAGERS, get_owned, org_id, roles_required, scoped

bp = Blueprint("main", __name__)
PAGE = 50


def _page() -> int:
    return max(request.args.get("page", 1, type=int), 1)


@bp.route("/")
@roles_required(*EVERYONE)
def dashboard():
    since = utcnow() - timedelta(days=30)
    counts = dict(db.session.execute(
        select(Order.status, func.count()).where(Order.organization_id == org_id())
        .group_by(Order.status)).all())
    recent = db.session.scalars(scoped(Order).order_by(Order.placed_at.desc()).limit(10)).all()
    month_orders = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.organization_id == org_id(), Order.placed_at >= since))
    shops = db.session.scalars(scoped(Shop).order_by(Shop.name)).all()
    return render_template("main/dashboard.html", counts=counts, recent=recent,
                           month_orders=month_orders, shops=shops, OrderStatus=OrderStatus)


@bp.route("/orders")
@roles_required(*MANAGERS)
def orders():
    stmt = scoped(Order)
    status = request.args.get("status")
    shop_id = request.args.get("shop", type=int)
    q = request.args.get("q", "").strip()
    if status in {s.value for s in OrderStatus}:
        stmt = stmt.where(Order.status == OrderStatus(status))
    if shop_id:
        stmt = stmt.where(Order.shop_id == shop_id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Order.number.ilike(like) | Order.email.ilike(like) | Order.external_id.ilike(like))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Order.placed_at.desc(), Order.id.desc())
                              .limit(PAGE).offset((_page() - 1) * PAGE)).all()
    shops = db.session.scalars(scoped(Shop).order_by(Shop.name)).all()
    return render_template("main/orders.html", orders=rows, total=total, page=_page(), per_page=PAGE,
                           shops=shops, OrderStatus=OrderStatus, status=status, shop_id=shop_id, q=q)


@bp.route("/orders/<order_id>")
@roles_required(*MANAGERS)
def order(order_id: str):
    return render_template("main/order.html", order=get_owned(Order, order_id))


@bp.route("/products")
@roles_required(*MANAGERS)
def products():
    q = request.args.get("q", "").strip()
    stmt = scoped(Product)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Product.title.ilike(like) | Product.id.in_(
            select(Variant.product_id).where(Variant.organization_id == org_id(),
                                             Variant.sku.ilike(like) | Variant.barcode.ilike(like))))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Product.title).limit(PAGE).offset((_page() - 1) * PAGE)).all()
    return render_template("main/products.html", products=rows, total=total, page=_page(), per_page=PAGE, q=q)


@bp.route("/products/<product_id>")
@roles_required(*MANAGERS)
def product(product_id: str):
    return render_template("main/product.html", product=get_owned(Product, product_id))


@bp.route("/stock")
@roles_required(*MANAGERS)
def stock():
    q = request.args.get("q", "").strip()
    stmt = (select(StockLevel, Variant, Warehouse)
            .join(Variant, StockLevel.variant_id == Variant.id)
            .join(Warehouse, StockLevel.warehouse_id == Warehouse.id)
            .where(Variant.organization_id == org_id()))
    if q:
        stmt = stmt.where(Variant.sku.ilike(f"%{q}%"))
    rows = db.session.execute(stmt.order_by(Variant.sku, Warehouse.priority)
                              .limit(PAGE).offset((_page() - 1) * PAGE)).all()
    warehouses = db.session.scalars(scoped(Warehouse).order_by(Warehouse.priority)).all()
    return render_template("main/stock.html", rows=rows, warehouses=warehouses, q=q, page=_page())


@bp.route("/preparation")
@roles_required(*EVERYONE)
def preparation():
    rows = db.session.scalars(
        scoped(Order).where(Order.status.in_([OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED]))
        .order_by(Order.placed_at).limit(200)).all()
    return render_template("main/preparation.html", orders=rows)


@bp.route("/analytics")
@roles_required(*MANAGERS)
def analytics():
    since = utcnow() - timedelta(days=30)
    per_shop = db.session.execute(
        select(Shop.name, Shop.addon, Order.currency, func.count(Order.id), func.sum(Order.total))
        .join(Order, Order.shop_id == Shop.id)
        .where(Order.organization_id == org_id(), Order.placed_at >= since,
               Order.status != OrderStatus.CANCELLED)
        .group_by(Shop.name, Shop.addon, Order.currency).order_by(Shop.name)).all()
    units = db.session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0)).join(Order)
        .where(Order.organization_id == org_id(), Order.placed_at >= since)) or 0
    return render_template("main/analytics.html", per_shop=per_shop, units=units, since=since)
