from __future__ import annotations

import datetime as dt
import socket
import ssl
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from addons.dropship import hooks, jobs, sandbox
from addons.dropship.client import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DropshipError,
    check_smtp,
    sign,
    sign_webhook,
    verify,
    verify_webhook,
)
from addons.dropship.forms import SettingsForm, SupplierForm
from addons.dropship.models import DropshipSupplier
from core import create_app, services
from core.addons import parse_manifest, registry
from core.contracts import missing_hooks
from core.extensions import db
from core.models import ConnectionStatus, Shop

ADDON_DIR = Path(__file__).resolve().parents[1]
SECRETS = {"smtp_password"}
TABLES = ("dropship_supplier", "dropship_supplier_product", "dropship_line", "dropship_purchase_order",
          "dropship_send", "dropship_tracking", "dropship_feed_run")
SMTP_NAME = "smtp.fournisseur.test"
SMTP_USER, SMTP_PASSWORD = "achats@boutique-demo.fr", "mot-de-passe-application"


@pytest.fixture
def addons():
    return ["dropship"]


@pytest.fixture
def shop(app, org):
    """A shop of a channel this test does not load; dropshipping is enabled on it."""
    shop = Shop(organization_id=org.id, addon="manual", name="Boutique dropshipping")
    db.session.add(shop)
    db.session.commit()
    return shop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and (auth_data.login, auth_data.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode()))
    return AuthResult(success=ok, handled=False)


def self_signed_context() -> ssl.SSLContext:
    """A TLS context with a throwaway self-signed certificate (for the STARTTLS test)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SMTP_NAME)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def smtp_server() -> Iterator[int]:
    """A real SMTP server on a loopback port, with AUTH LOGIN/PLAIN and no TLS."""
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, server_hostname=SMTP_NAME,
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    yield port
    controller.stop()


def configure(shop, settings):
    services.save_settings(shop, "dropship", settings, SECRETS)
    db.session.commit()


def smtp_settings(port: int, **overrides):
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_username": SMTP_USER,
            "smtp_password": SMTP_PASSWORD, "smtp_starttls": False, "from_address": SMTP_USER, **overrides}


def test_manifest_parses():
    manifest = parse_manifest((ADDON_DIR / "__manifest__.py").read_text(encoding="utf-8"))
    assert manifest["category"] == "dropshipping"
    assert manifest["kind"] == "fulfilment"
    assert (ADDON_DIR / manifest["icon"]).is_file()
    for part in ("DESCRIPTION", "CONFIGURE", "USAGE"):
        assert (ADDON_DIR / "readme" / f"{part}.md").read_text(encoding="utf-8").strip()


def test_addon_loads_with_its_hooks(app):
    addon = registry().get("dropship")
    assert addon is not None and addon.ok, addon.error if addon else "not found"
    assert registry().call_one("dropship", "register_settings_form") is SettingsForm
    boxes = {sb.name: sb for sb in registry().pm.hook.register_sandbox() if sb}
    assert boxes["dropship"].settings("http://x") == {"dropship_when_short": False}
    assert sandbox.supplier_settings("http://x/") == {"order_channel": "webhook",
                                                      "webhook_url": "http://x/purchase-orders",
                                                      "webhook_secret": sandbox.DEMO_WEBHOOK_SECRET}
    assert missing_hooks("fulfilment", hooks) == []


def test_smtp_connection_ok(app, shop, smtp_server):
    configure(shop, smtp_settings(smtp_server))

    result = services.test_connection(shop, "dropship")

    assert result.ok, result.message
    assert result.details[0] == f"Serveur : {SMTP_NAME}"
    assert f"Authentifié en tant que {SMTP_USER}" in result.details
    assert shop.addon_row("dropship").status == ConnectionStatus.CONNECTED
    assert jobs.check_smtp(shop.id).startswith("connecté")


def test_smtp_bad_password_is_refused_with_a_french_message(app, shop, smtp_server):
    configure(shop, smtp_settings(smtp_server, smtp_password="faux"))

    result = services.test_connection(shop, "dropship")

    assert not result.ok
    assert "Identifiants SMTP refusés" in result.message and "(535)" in result.message
    with pytest.raises(DropshipError, match="Identifiants SMTP refusés"):
        jobs.check_smtp(shop.id)


def test_smtp_without_starttls_is_reported(app, shop, smtp_server):
    configure(shop, smtp_settings(smtp_server, smtp_starttls=True))

    result = services.test_connection(shop, "dropship")

    assert not result.ok and "ne propose pas STARTTLS" in result.message


def test_smtp_starttls_with_an_untrusted_certificate_fails_clearly():
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, server_hostname=SMTP_NAME,
                            tls_context=self_signed_context())
    controller.start()
    try:
        with pytest.raises(DropshipError, match="négociation TLS"):
            check_smtp("127.0.0.1", port, starttls=True)
    finally:
        controller.stop()


def test_smtp_unreachable_and_unset(app, shop):
    configure(shop, smtp_settings(free_port()))
    result = services.test_connection(shop, "dropship")
    assert not result.ok and "Connexion refusée" in result.message

    configure(shop, {"smtp_host": ""})
    result = services.test_connection(shop, "dropship")
    assert not result.ok and "Aucun serveur SMTP" in result.message


def test_no_smtp_needed_when_every_supplier_takes_webhooks(app, shop, org):
    configure(shop, {"smtp_host": ""})
    db.session.add(DropshipSupplier(organization_id=org.id, name="Atelier Web", email="a@web.test",
                                    order_channel="webhook", webhook_url="https://fournisseur.test/po"))
    db.session.commit()
    result = services.test_connection(shop, "dropship")
    assert result.ok and "aucun serveur SMTP n'est nécessaire" in result.message
    assert result.details == ["Fournisseur : Atelier Web (webhook)"]

    db.session.add(DropshipSupplier(organization_id=org.id, name="Atelier Mail", email="b@mail.test"))
    db.session.commit()
    result = services.test_connection(shop, "dropship")
    assert not result.ok and "Aucun serveur SMTP" in result.message


def test_order_channel_is_constrained(app, org):
    db.session.add(DropshipSupplier(organization_id=org.id, name="Fax & Co", email="fax@co.test",
                                    order_channel="fax"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_emulator_checks_signatures_and_timestamps():
    web = sandbox.make_app().test_client()
    body = b'{"purchase_orders":[{"reference":"PO-7"}]}'

    unsigned = web.post("/purchase-orders", data=body, content_type="application/json")
    assert unsigned.status_code == 401 and unsigned.json["error"] == "missing_timestamp"
    forged = web.post("/purchase-orders", data=body, content_type="application/json",
                      headers=sign_webhook(body, "wrong-secret-wrong-secret"))
    assert forged.status_code == 401 and forged.json["error"] == "invalid_signature"
    headers = sign_webhook(body, sandbox.DEMO_WEBHOOK_SECRET)
    tampered = web.post("/purchase-orders", data=body, content_type="application/json",
                        headers={**headers, TIMESTAMP_HEADER: str(int(headers[TIMESTAMP_HEADER]) + 1)})
    assert tampered.status_code == 401 and tampered.json["error"] == "invalid_signature"
    replayed = web.post("/purchase-orders", data=body, content_type="application/json",
                        headers=sign_webhook(body, sandbox.DEMO_WEBHOOK_SECRET, timestamp=int(time.time()) - 3600))
    assert replayed.status_code == 401 and replayed.json["error"] == "stale_timestamp"
    signed = web.post("/purchase-orders", data=body, content_type="application/json", headers=headers)
    assert signed.status_code == 201 and signed.json["status"] == "received"
    assert web.get("/purchase-orders").json["deliveries"][0]["body"] == {"purchase_orders": [{"reference": "PO-7"}]}


def test_emulator_can_be_down_for_a_while():
    web = sandbox.make_app(fail_times=2).test_client()
    body = b"{}"
    codes = [web.post("/purchase-orders", data=body, content_type="application/json",
                      headers=sign_webhook(body, sandbox.DEMO_WEBHOOK_SECRET)).status_code for _ in range(3)]
    assert codes == [503, 503, 201]


def test_webhook_signature_covers_the_timestamp():
    body = b'{"a":1}'
    headers = sign_webhook(body, "secret-secret-secret", timestamp=1_800_000_000)
    assert headers == {TIMESTAMP_HEADER: "1800000000",
                       SIGNATURE_HEADER: sign(b'1800000000.{"a":1}', "secret-secret-secret")}
    assert verify_webhook(body, "secret-secret-secret", "1800000000", headers[SIGNATURE_HEADER],
                          now=1_800_000_100) is None
    assert verify_webhook(body, "secret-secret-secret", "1800000000", headers[SIGNATURE_HEADER],
                          now=1_800_000_400) == "stale_timestamp"


def test_signature_is_hex_hmac_sha256():
    # same construction as the Sendcloud documentation example (hex HMAC-SHA256 of the raw body)
    assert sign(b'{"key": "value"}', "secretkey") == \
        "1eed4b3d41f4653ac64fd56f1bf1cbfd349e4482cbc11dff7134bd93e5da4b0a"
    assert verify(b"x", "s", sign(b"x", "s").upper())
    assert not verify(b"x", "s", None)


def test_form_validation(app):
    with app.test_request_context(method="POST", data={
            "smtp_host": "smtp.example.com", "smtp_port": "587", "smtp_starttls": "y",
            "from_address": "pas-une-adresse"}):
        form = SettingsForm(meta={"csrf": False})
        assert not form.validate() and list(form.errors) == ["from_address"]
    with app.test_request_context(method="POST", data={"smtp_host": "smtp.example.com", "smtp_port": "587",
                                                       "dropship_when_short": "y"}):
        form = SettingsForm(meta={"csrf": False})
        assert form.validate(), form.errors
        assert form.smtp_port.data == 587 and form.smtp_starttls.data is False and form.dropship_when_short.data
    supplier = {"name": "Atelier", "email": "achats@example.com", "lead_time_days": "2", "currency": "eur",
                "order_channel": "webhook", "webhook_secret": "court", "batch_times": "08:00, 25:00",
                "feed_url": "https://atelier.example.com/stock.csv"}
    with app.test_request_context(method="POST", data=supplier):
        form = SupplierForm(meta={"csrf": False})
        assert not form.validate()
        assert set(form.errors) == {"webhook_url", "webhook_secret", "batch_times", "feed_interval_minutes"}
        assert "25:00" in form.errors["batch_times"][0]
    fixed = {**supplier, "webhook_url": "https://atelier.example.com/po", "webhook_secret": "x" * 20,
             "batch_times": "08:00,14:00", "feed_interval_minutes": "60"}
    with app.test_request_context(method="POST", data=fixed):
        form = SupplierForm(meta={"csrf": False})
        assert form.validate(), form.errors
        assert form.currency.data == "EUR"


def test_migration_matches_the_model(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "ADDONS": ["dropship"], "JOBS_MODE": "manual",
                      "REDIS_URL": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}"})
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
            inspector = sa.inspect(conn)
            checks = {t: [c["name"] for c in inspector.get_check_constraints(t)]
                      for t in ("dropship_supplier", "dropship_supplier_product")}
        assert [d for d in diffs if any(f"'{t}'" in repr(d) for t in TABLES)] == []
        assert checks == {"dropship_supplier": ["ck_dropship_supplier_order_channel"],
                          "dropship_supplier_product": ["ck_dropship_supplier_product_mode"]}
        flask_migrate.downgrade(revision="dropship@dropship_0001")
        inspector = sa.inspect(db.engine)
        assert inspector.has_table("dropship_supplier") and not inspector.has_table("dropship_line")
        assert "api_key_hash" not in {c["name"] for c in inspector.get_columns("dropship_supplier")}
        flask_migrate.downgrade(revision="dropship@base")
        assert not sa.inspect(db.engine).has_table("dropship_supplier")
        db.engine.dispose()


def test_configure_page_saves_tests_and_never_echoes_the_password(app, client, login, post_form, shop,
                                                                  smtp_server):
    login(client)
    url = f"/integrations/dropship/shops/{shop.id}/configure"
    data = {k: v for k, v in smtp_settings(smtp_server).items() if k != "smtp_starttls"}

    res = post_form(url, data={**data, "then": "test"})

    assert res.status_code == 200
    page = res.get_data(as_text=True)
    assert 'data-test-ok="true"' in page and f"Serveur : {SMTP_NAME}" in page
    assert SMTP_PASSWORD not in client.get(url).get_data(as_text=True)
    assert db.session.get(Shop, shop.id).addon_row("dropship").settings["smtp_starttls"] is False
