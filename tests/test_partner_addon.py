"""A partner can write, package and ship an add-on without touching this repository:
the example Colissimo add-on, pip-installed as its own distribution, is found through the
``oms.addons`` entry point, enabled from the catalog and exercised on its emulator; the
scaffold writes packages whose own tests pass."""
from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from core.addons import discover, registry
from core.extensions import db
from core.models import ConnectionStatus, Order, Shipment, Shop
from core.scaffold import ScaffoldError, new_addon

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "oms-addon-colissimo"
IN_CI = os.environ.get("CI") == "true"


def _installed() -> bool:
    try:
        distribution("oms-addon-colissimo")
    except PackageNotFoundError:
        if IN_CI:
            pytest.fail("examples/oms-addon-colissimo is not installed: `make test` installs it")
        return False
    return True


@pytest.fixture
def addons():
    if not _installed():
        pytest.skip("install it with: pip install ./examples/oms-addon-colissimo")
    return ["colissimo_partner"]  # no ADDON_MODULES: found through its entry point like any partner's


@pytest.fixture
def app_config():
    return {"CATALOG_SHOW_EXAMPLES": True}  # an example add-on: listed in the catalog only when asked


def test_installed_as_its_own_distribution():
    if not _installed():
        pytest.skip("not installed")
    dist = distribution("oms-addon-colissimo")
    assert dist.metadata["Name"] == "oms-addon-colissimo"
    assert not any(str(f).startswith("core/") for f in dist.files or [])
    assert discover()["colissimo_partner"] == "oms_addon_colissimo.hooks"


def test_found_enabled_configured_and_used_from_the_catalog(app, client, login, post_form, org, serve_wsgi):
    addon = registry().get("colissimo_partner")
    assert addon.ok and addon.contract_gaps == [] and "site-packages" in str(addon.path)
    from oms_addon_colissimo import sandbox

    url = serve_wsgi(sandbox.make_app())
    shop = Shop(organization_id=org.id, addon="manual", name="Boutique")
    db.session.add(shop)
    db.session.commit()
    login(client)
    page = client.get("/integrations/?category=carrier").get_data(as_text=True)
    assert 'data-addon="colissimo_partner"' in page
    assert post_form(f"/integrations/colissimo_partner/shops/{shop.id}/enable", page="/integrations/colissimo_partner").status_code == 302
    settings = sandbox.settings_for(url)
    res = post_form(f"/integrations/colissimo_partner/shops/{shop.id}/configure", {**settings, "then": "test"})
    assert 'data-test-ok="true"' in res.get_data(as_text=True)
    db.session.expire_all()
    assert shop.addon_row("colissimo_partner").status == ConnectionStatus.CONNECTED
    # exercised end to end through core's shipping hook
    from core.addons import call

    order = Order(organization_id=org.id, shop_id=shop.id, external_id="1", number="#1", total=10,
                  shipping_address={"name": "Client", "line1": "1 rue X", "postal_code": "13001",
                                    "city": "Marseille", "country": "FR"})
    shipment = Shipment(carrier="colissimo_partner", weight_grams=450)
    order.shipments.append(shipment)
    db.session.add(order)
    db.session.flush()
    label = call(shop, "shipping_create_label", order=order, shipment=shipment)
    assert label.tracking_number.startswith("6A") and label.pdf.startswith(b"%PDF")


def _pytest(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("PYTEST_XDIST_WORKER", None)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_example_passes_its_own_tests():
    if not _installed():
        pytest.skip("not installed")
    done = _pytest(EXAMPLE)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


@pytest.mark.parametrize("kind", ["channel", "carrier", "fulfilment"])
def test_scaffold_output_passes_its_own_tests(tmp_path, kind):
    root = new_addon(f"acme_{kind}", kind, tmp_path, title=f"Acme {kind}")
    assert (root / "pyproject.toml").is_file()
    assert (root / f"oms_addon_acme_{kind}" / "migrations" / f"acme_{kind}_0001_initial.py").is_file()
    assert (root / f"oms_addon_acme_{kind}" / "translations" / "en" / "LC_MESSAGES" / "messages.po").is_file()
    done = _pytest(root, pythonpath=root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_a_generated_addon_speaks_english_from_its_own_catalogue(tmp_path, monkeypatch):
    import sys

    from flask_babel import force_locale

    from core import create_app

    root = new_addon("acme_i18n", "carrier", tmp_path, title="Acme")
    monkeypatch.syspath_prepend(str(root))
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "ADDONS": ["acme_i18n"], "ADDON_MODULES": {"acme_i18n": "oms_addon_acme_i18n.hooks"},
                      "JOBS_MODE": "manual", "REDIS_URL": None})
    try:
        form_cls = app.extensions["oms_addons"].call_one("acme_i18n", "register_settings_form")
        with app.test_request_context(), force_locale("en"):
            form = form_cls(meta={"csrf": False})
            assert str(form.api_key.label.text) == "API key"
            assert str(form.api_base_url.label.text) == "API address"
        with app.test_request_context(), force_locale("fr"):
            assert str(form_cls(meta={"csrf": False}).api_key.label.text) == "Clé API"
    finally:
        for name in [m for m in sys.modules if m.startswith("oms_addon_acme_i18n")]:
            del sys.modules[name]


def test_scaffold_refuses_bad_names(tmp_path):
    with pytest.raises(ScaffoldError, match="snake_case"):
        new_addon("Bad-Name", "carrier", tmp_path)
    with pytest.raises(ScaffoldError, match="kind"):
        new_addon("fine", "printer", tmp_path)
    new_addon("twice", "carrier", tmp_path)
    with pytest.raises(ScaffoldError, match="already exists"):
        new_addon("twice", "carrier", tmp_path)


def test_scaffold_builds_on_the_connector_kit(tmp_path):
    """A generated add-on holds no HTTP or retry machinery of its own: the kit's client,
    emulator base, poller, inbox and page guard do that work."""
    root = new_addon("acme", "channel", tmp_path)
    pkg = root / "oms_addon_acme"
    code = {p.name: p.read_text() for p in pkg.glob("*.py")}
    assert not any("import httpx" in text or "time.sleep" in text or "import time" in text for text in code.values())
    assert "HttpClient(REMOTE" in code["client.py"] and "class AcmeError(RemoteError)" in code["client.py"]
    assert 'Remote("acme", "Acme", ("api.example-marketplace.com",))' in code["client.py"]
    assert 'EmulatorKit("acme"' in code["sandbox.py"]
    assert "Poller(" in code["jobs.py"] and "class AcmeInbox(WebhookInbox)" in code["inbox.py"]
    assert '@addon_required("acme")' in code["views.py"]
    for kind in ("carrier", "fulfilment"):
        other = new_addon(f"acme_{kind}", kind, tmp_path) / f"oms_addon_acme_{kind}"
        assert "HttpClient(REMOTE" in (other / "client.py").read_text()
        assert "EmulatorKit(" in (other / "sandbox.py").read_text()


def test_an_example_addon_is_hidden_from_the_catalog_unless_asked(app, client, login):
    login(client)
    app.config["CATALOG_SHOW_EXAMPLES"] = False
    hidden = client.get("/integrations/?category=carrier").get_data(as_text=True)
    assert 'data-addon="colissimo_partner"' not in hidden
    app.config["CATALOG_SHOW_EXAMPLES"] = True
    shown = client.get("/integrations/?category=carrier").get_data(as_text=True)
    assert 'data-addon="colissimo_partner"' in shown
