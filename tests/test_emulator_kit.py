"""The emulator base: every add-on's emulator records its requests and misbehaves on demand
the same way (429 with Retry-After, 5xx, timeouts, a rate limit), in its remote's error format."""
from __future__ import annotations

import time

import httpx
import pytest
from flask import Flask

from addons.amazon import sandbox as amazon
from addons.dropship import sandbox as dropship
from addons.sendcloud import sandbox as sendcloud
from addons.shopify import sandbox as shopify
from core.connectors.emulator import EmulatorKit, ManualClock, kit_of, mount_path

APPS = {
    "shopify": lambda: shopify.make_app(),
    "amazon": lambda: amazon.Emulator().app,
    "sendcloud": lambda: sendcloud.make_app(),
    "dropship": lambda: dropship.make_app(),
}


def _app(name: str) -> Flask:
    app = APPS[name]()
    return app


@pytest.mark.parametrize("name", sorted(APPS))
def test_every_emulator_records_and_fails_on_demand(name):
    app = _app(name)
    kit = kit_of(app)
    client = app.test_client()
    kit.fail_next(429, times=2, retry_after=3)
    first, second = client.get("/anything"), client.get("/anything")
    assert first.status_code == second.status_code == 429 and first.headers["Retry-After"] == "3"
    assert first.get_json()  # the remote's own error body
    kit.fail_next(500)
    assert client.post("/anything", json={"a": 1}).status_code == 500
    assert client.get("/anything").status_code not in (429, 500)  # behaves again
    assert kit.calls[:3] == [("GET", "/anything"), ("GET", "/anything"), ("POST", "/anything")]
    assert ("POST", "/anything", {"a": 1}) in kit.requests


@pytest.mark.parametrize("name", sorted(APPS))
def test_every_emulator_is_told_over_http(name):
    client = _app(name).test_client()
    assert client.post("/_emulator/faults", json={"status": 503, "times": 1, "path": "/x"}).status_code == 204
    assert client.get("/y").status_code != 503  # another path
    assert client.get("/x/1").status_code == 503
    assert client.post("/_emulator/faults", json={"status": 200}).status_code == 400
    assert ["GET", "/x/1"] in client.get("/_emulator/calls").get_json()["calls"]


def test_the_error_body_is_the_remotes():
    body = kit_of(_app("amazon")).error_body(429)
    assert body["errors"][0]["code"] == "QuotaExceeded"
    assert "errors" in kit_of(_app("shopify")).error_body(500)


def test_a_timeout_holds_the_answer_past_the_clients_read_timeout(serve_wsgi):
    app = _app("dropship")
    base = serve_wsgi(app)
    kit_of(app).fail_next("timeout", hang=1.5)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{base}/purchase-orders", timeout=0.3)
    assert time.monotonic() - started < 1.4
    kit_of(app).reset()


def test_a_rate_limit_on_an_injected_clock():
    clock = ManualClock(start=1000.0)
    app = Flask("remote")
    app.add_url_rule("/ping", "ping", lambda: "pong")
    kit = EmulatorKit("remote", clock=clock)
    kit.attach(app)
    kit.limit(rate=2, burst=2)
    client = app.test_client()
    assert [client.get("/ping").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/ping").headers["Retry-After"] == "1"
    clock.advance(1)
    assert client.get("/ping").status_code == 200


def test_unsupported_faults_are_refused():
    with pytest.raises(ValueError):
        EmulatorKit("x").fail_next(200)


def test_emulators_mount_under_sandbox_name():
    assert mount_path("shopify") == "/sandbox/shopify" == shopify.MOUNT_PATH
