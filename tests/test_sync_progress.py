"""The progress of long imports (core.syncs.Progress): written by the running job in its own
transaction, read by the shop's pages (JSON poll) while the job runs."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.jobs import enqueue, run_pending
from core.models import SyncLog, SyncStatus
from core.syncs import Progress, latest_progress
from tests.fixtures import FAKE_ADDONS

JOB = "tests.test_sync_progress.import_catalogue"
#: what the test reads while the job runs (set by each test)
PROBE: dict[str, Callable[[], Any]] = {}
SEEN: list[Any] = []
NO_PRICE = _l("Prix manquant : renseignez-le puis relancez l'import.")


def import_catalogue(shop_id: int, fail: bool = False) -> str:
    progress = Progress.for_job("products")
    progress.start(3)
    progress.advance(1, [("MUG-01", NO_PRICE)])
    SEEN.append(PROBE["read"]())
    if fail:
        raise RuntimeError("remote down")
    progress.advance(2)
    return "3 produits"


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture(autouse=True)
def _clear():
    SEEN.clear()
    PROBE.clear()


def test_progress_is_seen_from_another_session_while_the_job_runs(app, client, login, shop_factory):
    login(client)
    shop = shop_factory("beta")
    PROBE["read"] = lambda: client.get(f"/integrations/shops/{shop.id}/progress").get_json()
    enqueue(JOB, shop.id, shop_id=shop.id)
    db.session.commit()

    assert run_pending() == 1

    [mid] = SEEN
    assert (mid["done"], mid["total"], mid["running"], mid["percent"]) == (1, 3, True, 33)
    assert mid["text"] == "1 / 3 produits importés" and mid["state"] == "En cours"
    assert mid["errors"] == [{"ref": "MUG-01", "message": "Prix manquant : renseignez-le puis relancez l'import."}]
    end = client.get(f"/integrations/shops/{shop.id}/progress").get_json()
    assert (end["done"], end["total"], end["running"], end["percent"]) == (3, 3, False, 100)
    assert end["state"] == "Terminé, 1 refus" and end["title"] == "Import des produits"
    entry = db.session.scalars(select(SyncLog).where(SyncLog.shop_id == shop.id)).one()
    assert entry.status == SyncStatus.OK and entry.progress_unit == "products"


def test_an_interrupted_import_says_so_and_keeps_what_it_counted(app, client, login, shop_factory):
    login(client)
    shop = shop_factory("beta")
    PROBE["read"] = lambda: None
    enqueue(JOB, shop.id, True, shop_id=shop.id, retries=0)
    db.session.commit()
    run_pending()
    db.session.expire_all()
    view = client.get(f"/integrations/shops/{shop.id}/progress").get_json()
    assert (view["done"], view["total"], view["running"]) == (1, 3, False)
    assert view["state"].startswith("Interrompu")
    assert client.get(f"/integrations/shops/{shop.id}/progress?unit=orders").get_json() == {}
    assert client.get(f"/integrations/shops/{shop.id}/progress?unit=nope").status_code == 404


def test_progress_outside_a_job_records_nothing_and_units_are_checked(app, shop_factory):
    shop = shop_factory("beta")
    progress = Progress.for_job("orders")
    progress.start(5)
    progress.advance(5)
    assert progress.entry_id is None and latest_progress(shop.id) is None
    with pytest.raises(ValueError):
        Progress(None, "parcels")


def test_another_organizations_shop_progress_is_not_found(app, client, login, shop_factory, make_org):
    login(client)
    other = shop_factory("beta", organization=make_org("Autre"))
    assert client.get(f"/integrations/shops/{other.id}/progress").status_code == 404
