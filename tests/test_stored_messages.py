"""Texts a job writes for later (an order's history, its hold reason, the sync log's result and
error, a shop's last error) are stored as their msgid and parameters and read in the reader's
language; rows written as plain text, before, still show as they are."""
from __future__ import annotations

import json
import pickle

import pytest
from flask_babel import force_locale
from sqlalchemy import text

from core import i18n, orders as order_flow
from core.extensions import db
from core.jobs import run_job
from core.models import Order, OrderEvent, OrderLine, Product, Shop, SyncLog, Variant, Warehouse
from tests.fixtures import FAKE_ADDONS


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


def allocate_in_a_job(order_id: int):
    """A job that allocates one order (as intake's jobs do) and reports on the sync log."""
    order_flow.allocate(db.session.get(Order, order_id))
    return i18n._("%(total)s quantité(s) remise(s) au canal pour envoi", total=3)


class PushReport:
    """A job's result object that words itself (as a channel's stock push does)."""

    def __str__(self) -> str:
        return i18n._("%(total)s quantité(s) remise(s) au canal pour envoi", total=5)


def reporting_job():
    return PushReport()


def failing_job(order_id: int):
    order = db.session.get(Order, order_id)
    raise order_flow.TransitionError(i18n._("une commande %(old)s ne peut pas passer à « %(new)s »",
                                            old=order_flow.LABELS[order.status],
                                            new=order_flow.LABELS[order_flow.S.RETURNED]))


@pytest.fixture
def held_order(org, shop_factory) -> Order:
    """An order of two mugs with no stock anywhere, allocated in a job: held as a backorder."""
    shop = shop_factory("beta", "Boutique test")
    db.session.add(Warehouse(organization_id=org.id, code="MAIN", name="Entrepôt"))
    product = Product(organization_id=org.id, title="Mug bleu")
    db.session.add(product)
    db.session.flush()
    variant = Variant(organization_id=org.id, product_id=product.id, sku="MUG-BLEU", price=12)
    db.session.add(variant)
    db.session.flush()
    order = Order(organization_id=org.id, shop_id=shop.id, external_id="1001", number="#1001",
                  email="client@exemple.fr", total=24, shipping_address={"name": "Client", "country": "FR"})
    order.lines.append(OrderLine(sku="MUG-BLEU", variant_id=variant.id, quantity=2, unit_price=12))
    db.session.add(order)
    db.session.commit()
    run_job(f"{__name__}.allocate_in_a_job", [order.id], {}, shop_id=shop.id)
    db.session.expire_all()
    return db.session.get(Order, order.id)


def _page(client, user, url: str, lang: str) -> str:
    user.locale = lang
    db.session.commit()
    res = client.get(url)
    assert res.status_code == 200, (url, res.status_code)
    return res.get_data(as_text=True)


def test_what_a_job_wrote_is_stored_as_msgid_and_parameters(held_order):
    stored = db.session.execute(text("SELECT hold_reason FROM \"order\" WHERE id = :id"),
                                {"id": held_order.id}).scalar()
    data = json.loads(stored)
    assert data["msgid"] == "Rupture de stock : %(items)s"
    part = data["params"]["items"]["params"]["p0"]
    assert part == {"msgid": "%(sku)s (%(available)s disponible(s), %(missing)s demandé(s))",
                    "params": {"sku": "MUG-BLEU", "available": 0, "missing": 2}}
    # read back, it is still the French sentence for whoever compares or searches it
    assert held_order.hold_reason == "Rupture de stock : MUG-BLEU (0 disponible(s), 2 demandé(s))"
    assert isinstance(held_order.hold_reason, i18n.Deferred)
    result = db.session.scalars(db.select(SyncLog.result)).one()
    assert result == "3 quantité(s) remise(s) au canal pour envoi"


def test_order_page_reads_history_and_hold_reason_in_the_readers_language(client, login, held_order):
    user = login(client)
    url = f"/orders/{held_order.id}"
    english = _page(client, user, url, "en")
    assert "Out of stock: MUG-BLEU (0 available, 2 requested)" in english
    assert "MUG-BLEU × 2 → no stock available" in english  # the routing reason, a word, translated too
    assert "new → on hold: Out of stock" in english  # the status labels inside the history line
    assert "Rupture de stock" not in english and "aucun stock disponible" not in english
    french = _page(client, user, url, "fr")
    assert "Rupture de stock : MUG-BLEU (0 disponible(s), 2 demandé(s))" in french
    assert "MUG-BLEU × 2 → aucun stock disponible" in french
    assert "Out of stock" not in french


def test_sync_log_reads_result_and_error_in_the_readers_language(client, login, held_order):
    user = login(client)
    shop_id = held_order.shop_id
    with pytest.raises(order_flow.TransitionError):
        run_job(f"{__name__}.failing_job", [held_order.id], {}, shop_id=shop_id)
    url = f"/integrations/shops/{shop_id}/log"
    english = _page(client, user, url, "en")
    assert "3 quantity(ies) handed to the channel for sending" in english
    assert "an order that is on hold cannot move to &#34;returned&#34;" in english
    assert "TransitionError" not in english.split("<details")[0]  # the class name only in the detail
    assert "quantité(s) remise(s)" not in english
    french = _page(client, user, url, "fr")
    assert "3 quantité(s) remise(s) au canal pour envoi" in french
    assert "une commande en attente ne peut pas passer à « retournée »" in french
    # the shop's last error, written by the job layer, follows the reader too
    shop = db.session.get(Shop, shop_id)
    assert shop.last_error == "une commande en attente ne peut pas passer à « retournée »"
    with force_locale("en"):
        assert str(shop.last_error) == 'an order that is on hold cannot move to "returned"'


def test_rows_written_as_plain_text_still_show_as_they_are(client, login, held_order):
    user = login(client)
    db.session.add(OrderEvent(order_id=held_order.id, kind="note", message="ancienne note : colis déposé au relais"))
    db.session.execute(text("UPDATE sync_log SET result = :r"), {"r": "12 commande(s) lue(s)"})
    db.session.commit()
    english = _page(client, user, f"/orders/{held_order.id}", "en")
    assert "ancienne note : colis déposé au relais" in english
    log = _page(client, user, f"/integrations/shops/{held_order.shop_id}/log", "en")
    assert "12 commande(s) lue(s)" in log
    stored = db.session.scalars(db.select(OrderEvent.message).where(OrderEvent.kind == "note")).one()
    assert type(stored) is str


def test_a_deferred_message_survives_what_jobs_do_with_it(app):
    message = i18n._("retour %(rma)s ouvert : %(units)s unité(s), motif « %(reason)s »", rma="R-1", units=2,
                     reason=i18n._("défaut"))
    assert pickle.loads(pickle.dumps(message)).stored() == message.stored()  # RQ pickles results
    assert i18n.load(i18n.dump(message)).stored() == message.stored()
    assert message.stored()["params"]["reason"] == {"msgid": "défaut"}
    assert str(message) == "retour R-1 ouvert : 2 unité(s), motif « défaut »"  # no reader (a job): French
    with force_locale("en"):
        assert str(message) == 'return R-1 opened: 2 unit(s), reason "defect"'
        assert f"{message}" == str(message) and "%s" % message == str(message)
        assert message[:9] == "return R-" and message.capitalize().startswith("Return")  # |truncate, |capitalize
    worded = i18n._("Impossible de joindre %(what)s (%(host)s).", what=i18n.worded("l'API de suivi", "tracking API"),
                    host="api.example.com")
    restored = i18n.load(i18n.dump(worded))
    with force_locale("en"):
        assert str(restored) == "Could not reach tracking API (api.example.com)."


def test_a_result_object_that_words_itself_is_stored_translatable(app, shop_factory):
    shop = shop_factory("beta", "Boutique test")
    run_job(f"{__name__}.reporting_job", [], {}, shop_id=shop.id)
    stored = db.session.execute(text("SELECT result FROM sync_log")).scalar()
    assert json.loads(stored) == {"msgid": "%(total)s quantité(s) remise(s) au canal pour envoi", "params": {"total": 5}}
    with force_locale("en"):
        assert str(db.session.scalars(db.select(SyncLog.result)).one()) == "5 quantity(ies) handed to the channel for sending"
