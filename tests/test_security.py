"""Sign-in, sessions, cookies, headers and redirects: nobody gets in where they do not belong."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core import create_app
from core.extensions import db
from core.models import User
from core.security import is_safe_url
from tests.fixtures import FAKE_ADDONS, csrf_token

PASSWORD = "correct horse battery"


def _login(client, email: str, password: str, remember: bool = False, **kw):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, **kw)


# ----------------------------------------------------------------------------- throttle
def test_login_throttled_per_account(client, make_user, org):
    user = make_user(org, password=PASSWORD)
    for _ in range(5):
        assert _login(client, user.email, "wrong password").status_code == 200
    res = _login(client, user.email, PASSWORD)  # the right password, too late
    assert res.status_code == 429
    assert "Trop de tentatives" in res.get_data(as_text=True)
    assert client.get("/orders").status_code == 302  # still signed out


def test_login_throttled_per_address(client, make_user, org, app):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 8
    user = make_user(org, password=PASSWORD)
    for n in range(8):  # spread over many accounts, so no single account reaches its limit
        _login(client, f"nobody-{n}@example.com", "guess")
    assert _login(client, user.email, PASSWORD).status_code == 429
    # another address is not held back
    res = _login(client, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert res.status_code == 302


def test_success_resets_the_account_count(client, make_user, org):
    user = make_user(org, password=PASSWORD)
    for _ in range(4):
        _login(client, user.email, "wrong password")
    assert _login(client, user.email, PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    for _ in range(4):
        _login(client, user.email, "wrong password")
    assert _login(client, user.email, PASSWORD).status_code == 302


@pytest.mark.redis
def test_login_throttle_shared_through_redis(redis_conn, make_user, org, app, client):
    if redis_conn.url is None:
        pytest.skip("needs the real Redis")
    app.config["REDIS_URL"] = redis_conn.url
    from core.security import Throttle

    app.extensions["oms_throttle"] = Throttle(redis_conn.url, "oms-test")
    user = make_user(org, password=PASSWORD)
    other_process = app.test_client()
    for _ in range(5):
        _login(other_process, user.email, "wrong password")
    assert any(k.startswith(b"oms-test:throttle:login:account:") for k in redis_conn.keys())
    assert _login(app.test_client(), user.email, PASSWORD).status_code == 429


def test_unknown_email_checks_a_password_hash_too(client, app):
    assert "oms_dummy_hash" not in app.extensions
    res = _login(client, "nobody@example.com", "whatever")
    assert res.status_code == 200 and "incorrect" in res.get_data(as_text=True)
    # the same work as for a known account (a hash checked), not an early answer
    assert app.extensions["oms_dummy_hash"]


# ----------------------------------------------------------------------------- remember-me
def test_remember_me_refused_after_logout(client, make_user, org, app):
    user = make_user(org, password=PASSWORD)
    assert _login(client, user.email, PASSWORD, remember=True).status_code == 302
    remember = client.get_cookie("remember_token")
    assert remember is not None
    stolen = remember.value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    thief = app.test_client()
    thief.set_cookie("remember_token", stolen)
    assert thief.get("/orders").status_code == 302  # sent to the login page


def test_remember_me_works_until_then(client, make_user, org, app):
    user = make_user(org, password=PASSWORD)
    _login(client, user.email, PASSWORD, remember=True)
    fresh = app.test_client()  # a new browser session with only the remember cookie
    fresh.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert fresh.get("/orders").status_code == 200


def test_password_change_revokes_cookies(client, make_user, org, app):
    user = make_user(org, password=PASSWORD)
    _login(client, user.email, PASSWORD, remember=True)
    stolen = client.get_cookie("remember_token").value
    db.session.get(User, user.id).set_password("a brand new password")
    db.session.commit()
    assert client.get("/orders").status_code == 302  # the session itself is revoked too
    thief = app.test_client()
    thief.set_cookie("remember_token", stolen)
    assert thief.get("/orders").status_code == 302


# ----------------------------------------------------------------------------- production
PROD = {"OMS_ENV": "production", "OMS_ENCRYPTION_KEYS": Fernet.generate_key().decode()}


@pytest.mark.parametrize("app_config", [PROD])
def test_cookies_secure_in_production(client, make_user, org):
    import re

    user = make_user(org, password=PASSWORD)
    https = {"base_url": "https://oms.example", "headers": {"Referer": "https://oms.example/login"}}
    page = client.get("/login", **https).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    res = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y",
                                      "csrf_token": token}, **https)
    assert res.status_code == 302
    cookies = res.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {"session", "remember_token"}
    for cookie in cookies:
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags, cookie
    assert "expires" in cookies[-1].lower() or any("expires" in c.lower() for c in cookies)


def test_security_headers_on_every_response(client, login):
    for url in ("/login", "/healthz", "/no-such-page"):
        res = client.get(url)
        csp = res.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        assert res.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert res.headers["X-Frame-Options"] == "DENY"


def test_inline_script_carries_the_nonce(app):
    from flask import render_template_string

    with app.test_request_context("/"):
        html = render_template_string('<script nonce="{{ csp_nonce() }}"></script>')
        nonce = html.split('nonce="')[1].split('"')[0]
        response = app.make_response("x")
        response = app.process_response(response)
        assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]


def test_production_requires_separate_encryption_keys(database_url):
    base = {"TESTING": True, "OMS_ENV": "production", "SECRET_KEY": "signing-key",
            "SQLALCHEMY_DATABASE_URI": database_url, "ADDONS": [], "JOBS_MODE": "manual"}
    with pytest.raises(RuntimeError, match="OMS_ENCRYPTION_KEYS must be set"):
        create_app({**base, "OMS_ENCRYPTION_KEYS": ""})
    with pytest.raises(RuntimeError, match="not a Fernet key"):
        create_app({**base, "OMS_ENCRYPTION_KEYS": "signing-key"})
    create_app({**base, "OMS_ENCRYPTION_KEYS": Fernet.generate_key().decode()})


def test_rotation_first_key_encrypts_every_key_decrypts(app):
    from core.crypto import decrypt, encrypt

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["OMS_ENCRYPTION_KEYS"] = old
    token = encrypt("shpat_secret")
    assert Fernet(old.encode()).decrypt(token.encode()) == b"shpat_secret"  # a real Fernet key
    app.config["OMS_ENCRYPTION_KEYS"] = f"{new},{old}"
    assert decrypt(token) == "shpat_secret"
    assert Fernet(new.encode()).decrypt(encrypt("x").encode()) == b"x"
    app.config["OMS_ENCRYPTION_KEYS"] = new
    with pytest.raises(ValueError, match="cannot decrypt"):
        decrypt(token)


# ----------------------------------------------------------------------------- redirects
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "\\\\evil.example", "javascript:alert(1)", "http:/evil.example",
                                    "/ok\r\nLocation: x", ""])
def test_unsafe_redirect_targets(target):
    assert not is_safe_url(target)


def test_safe_redirect_targets():
    assert is_safe_url("/orders?status=new") and is_safe_url("/")


@pytest.mark.parametrize("addons", [["shopify", "sendcloud"]])
@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example", "/\\evil.example"])
def test_integration_next_field_stays_on_site(client, login, post_form, shop_factory, target):
    login(client)
    shop = shop_factory("shopify")
    res = post_form(f"/integrations/sendcloud/shops/{shop.id}/disable", {"next": target},
                    page="/integrations/sendcloud")
    assert res.status_code == 302
    assert res.headers["Location"] == "/integrations/sendcloud"
    res = post_form(f"/integrations/sendcloud/shops/{shop.id}/enable", {"next": "/orders"},
                    page="/integrations/sendcloud")
    assert res.headers["Location"] == "/orders"


# ----------------------------------------------------------------------------- secrets
@pytest.mark.parametrize("addons", [["alpha", "beta"]])
@pytest.mark.parametrize("app_config", [{"ADDON_MODULES": FAKE_ADDONS}])
def test_a_stored_secret_can_be_cleared(client, login, post_form, shop_factory):
    login(client)
    shop = shop_factory("beta")
    url = f"/integrations/alpha/shops/{shop.id}/configure"
    post_form(url, {"url": "https://api.example", "api_key": "good-key", "then": "save"})
    assert db.session.get(type(shop), shop.id).addon_settings("alpha")["api_key"] == "good-key"
    page = client.get(url).get_data(as_text=True)
    assert "good-key" not in page and 'name="clear_secret" value="api_key"' in page

    post_form(url, {"url": "https://api.example", "api_key": "", "then": "save"})  # blank keeps it
    db.session.expire_all()
    assert db.session.get(type(shop), shop.id).addon_settings("alpha")["api_key"] == "good-key"

    post_form(url, {"url": "https://api.example", "api_key": "", "clear_secret": "api_key", "then": "save"})
    db.session.expire_all()
    row = db.session.get(type(shop), shop.id).addon_row("alpha")
    assert "api_key" not in (row.secrets or {})
    assert 'name="clear_secret"' not in client.get(url).get_data(as_text=True)
