"""A partner's add-on ships its own English catalogue (a ``.po`` beside its manifest), and
core's wording still wins over it."""
from __future__ import annotations

import os

import pytest
from flask_babel import force_locale, gettext

from core import create_app
from core.i18n import compiled_directory
from tests.fixtures import FAKE_ADDONS


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


def test_addon_strings_in_english_and_core_wording_kept(app, client, login, shop_factory):
    from core.extensions import db
    from core.services import set_enabled

    shop = shop_factory("beta")  # a channel; alpha is enabled on it like a partner's carrier
    set_enabled(shop, "alpha", True)
    db.session.commit()
    login(client)
    page = client.get(f"/integrations/alpha/shops/{shop.id}/configure?lang=en").get_data(as_text=True)
    assert "API key" in page and "Clé API" not in page
    french = client.get(f"/integrations/alpha/shops/{shop.id}/configure?lang=fr").get_data(as_text=True)
    assert "Clé API" in french
    with app.test_request_context(), force_locale("en"):
        assert gettext("Paramètres enregistrés.") == "Settings saved."  # core's, not alpha's


def test_apps_without_the_addon_do_not_see_its_catalogue(database_url):
    """Catalogues are cached per app: an app without alpha does not translate alpha's strings
    from another app's cache in the same process."""
    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
              "ADDON_MODULES": FAKE_ADDONS, "JOBS_MODE": "manual", "REDIS_URL": None}
    with_alpha = create_app({**config, "ADDONS": ["alpha"]})
    without = create_app({**config, "ADDONS": ["beta"]})
    for app, expected in ((with_alpha, "API key"), (without, "Clé API"), (with_alpha, "API key")):
        with app.test_request_context(), force_locale("en"):
            assert gettext("Clé API") == expected


def test_a_changed_catalogue_is_compiled_again_and_a_broken_one_ignored(tmp_path):
    po = tmp_path / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "Bonjour"\nmsgstr "Hello"\n', encoding="utf-8")
    first = compiled_directory("partner", tmp_path / "translations")
    mo = first / "en" / "LC_MESSAGES" / "messages.mo"
    assert b"Hello" in mo.read_bytes()
    po.write_text(po.read_text(encoding="utf-8").replace("Hello", "Hi there"), encoding="utf-8")
    os.utime(po, (po.stat().st_atime, po.stat().st_mtime + 5))
    compiled_directory("partner", tmp_path / "translations")
    assert b"Hi there" in mo.read_bytes()
    assert compiled_directory("empty", tmp_path / "nothing") is None
