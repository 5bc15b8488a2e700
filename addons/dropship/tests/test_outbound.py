"""Supplier addresses typed by the merchant never reach the server's own network: a feed or
webhook URL on a private, loopback, link-local or metadata address is refused before any
connection, a redirect towards one too, and the merchant reads why in plain French."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask, Response, redirect, request
from sqlalchemy import select

from addons.dropship import jobs, sandbox
from addons.dropship.models import DropshipFeedRun, DropshipPurchaseOrder
from core.extensions import db
from core.jobs import run_pending
from core.models import utcnow
from tests.pipeline_helpers import variant

from .conftest import link, place

INTERNAL = ("http://169.254.169.254/latest/meta-data/iam/", "http://127.0.0.1:6379/", "http://10.0.0.8/stock.csv",
            "http://[::1]:5432/", "http://[::ffff:192.168.1.1]/", "http://localhost:8080/stock.csv")


def supplier_server(state: dict) -> Flask:
    remote = Flask("supplier")

    @remote.get("/stock.csv")
    def stock_file():
        state["hits"] += 1
        return Response("supplier_sku,quantity\nDUP-LAMP-01,7\n", mimetype="text/csv")

    @remote.get("/moved")
    def moved():
        state["hits"] += 1
        return redirect(request.args["to"], 302)

    return remote


@pytest.fixture
def supplier_host(app, serve_wsgi):
    """A supplier's server, the only loopback address this installation allows."""
    state = {"hits": 0}
    base = serve_wsgi(supplier_server(state))
    app.config["OUTBOUND_ALLOW"] = [f"127.0.0.1:{urlsplit(base).port}"]
    return base, state


def last_run() -> DropshipFeedRun:
    return db.session.scalars(select(DropshipFeedRun).order_by(DropshipFeedRun.id.desc())).first()


@pytest.mark.parametrize("url", INTERNAL)
def test_a_feed_url_on_an_internal_address_is_refused(app, org, make_supplier, supplier_host, url):
    supplier, _ = make_supplier(feed_url=url, feed_interval_minutes=60)
    with pytest.raises(jobs.DropshipError) as caught:
        jobs.fetch_supplier_feed(supplier.id)
    assert "réseau interne du serveur" in str(caught.value) and not caught.value.retryable
    run = last_run()
    assert run.error == str(caught.value) and run.ok_rows == 0


@pytest.mark.parametrize("target", INTERNAL)
def test_a_feed_redirected_to_an_internal_address_is_refused(app, org, make_supplier, supplier_host, target):
    base, state = supplier_host
    supplier, _ = make_supplier(feed_url=f"{base}/moved?to={target}", feed_interval_minutes=60)
    with pytest.raises(jobs.DropshipError, match="réseau interne du serveur"):
        jobs.fetch_supplier_feed(supplier.id)
    assert state["hits"] == 1  # the supplier's redirect, then nothing
    # a redirect within the supplier's server is followed
    supplier.feed_url = f"{base}/moved?to=/stock.csv"
    link(supplier, variant(org.id, "LAMPE"), "DUP-LAMP-01")
    db.session.commit()
    assert "1 ligne(s) appliquée(s)" in jobs.fetch_supplier_feed(supplier.id)


@pytest.mark.parametrize("url", INTERNAL[:3])
def test_a_purchase_order_webhook_on_an_internal_address_is_refused(app, shop, org, make_supplier, supplier_host,
                                                                   url):
    supplier, _ = make_supplier("Système Martin", "api@martin.test",
                                **{**sandbox.supplier_settings("http://unused.example"), "webhook_url": url})
    link(supplier, variant(org.id, "LAMPE"), "MAR-LAMP", "7.25", dropship_only=True)
    order = place(shop, "7001", [("LAMPE", 1)])
    run_pending(now=utcnow() + timedelta(seconds=5))
    po = db.session.scalar(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.order_id == order.id))
    db.session.refresh(po)
    assert po.status == "failed" and "réseau interne du serveur" in po.last_error
    assert "169.254.169.254" not in po.last_error or "L'adresse 169.254.169.254" in po.last_error
