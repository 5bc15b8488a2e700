"""The connector kit on a real local server: retries, limits, redaction, pools, outbound
safety (every redirect to an internal address refused) and the rate-limit buckets."""
from __future__ import annotations

import logging
import time
from collections import Counter
from urllib.parse import urlsplit

import httpx
import pytest
from werkzeug.wrappers import Request, Response

from core.connectors import (HttpClient, LocalBuckets, OutboundPolicy, OutboundRefused, RedisBuckets, Remote,
                             RemoteError, RetryPolicy, TransportError, error_from, fetch, public_address)
from core.connectors.http import pooled
from core.connectors.outbound import check_host

REMOTE = Remote("testremote", "Service test", ("api.service-test.example",))


class Faulty:
    """A small server that misbehaves on demand: ``/fail/<status>/<times>`` answers
    ``status`` that many times then 200; ``/slow``; ``/redirect?to=``; ``/big``."""

    def __init__(self) -> None:
        self.hits: Counter = Counter()
        self.seen: list[Request] = []

    def __call__(self, environ, start_response):
        req = Request(environ)
        self.seen.append(req)
        parts = req.path.strip("/").split("/")
        self.hits[req.path] += 1
        if parts[0] == "fail":
            status, times = int(parts[1]), int(parts[2])
            if self.hits[req.path] <= times:
                headers = {}
                if req.args.get("retry_after"):
                    headers["Retry-After"] = req.args["retry_after"]
                res = Response('{"error": "busy", "access_token": "tok-SECRET"}', status=status, headers=headers)
            else:
                res = Response('{"ok": true}', content_type="application/json")
        elif parts[0] == "slow":
            time.sleep(float(req.args.get("s", "2")))
            res = Response("late")
        elif parts[0] == "redirect":
            res = Response("", status=302, headers={"Location": req.args["to"]})
        elif parts[0] == "big":
            res = Response(b"x" * int(req.args.get("n", "100000")))
        else:
            res = Response("sku;quantity\nA;1\n", content_type="text/csv")
        return res(environ, start_response)


@pytest.fixture
def faulty(serve_wsgi):
    server = Faulty()
    return server, serve_wsgi(server)


def client(base: str, waits: list[float], **kw) -> HttpClient:
    return HttpClient(REMOTE, base, shop_id="t", sleep=waits.append, http=httpx.Client(), **kw)


# ----------------------------------------------------------------------------- retries
def test_a_429_waits_the_retry_after_the_remote_asks(faulty):
    server, base = faulty
    waits: list[float] = []
    res = client(base, waits).request("GET", "/fail/429/2?retry_after=3")
    assert res.status_code == 200 and waits == [3.0, 3.0]
    assert server.hits["/fail/429/2"] == 3


def test_5xx_and_network_errors_are_retried_with_growing_jittered_backoff(faulty):
    _server, base = faulty
    waits: list[float] = []
    res = client(base, waits, retry=RetryPolicy(attempts=5, base=1.0, cap=30)).request("GET", "/fail/503/3")
    assert res.status_code == 200 and len(waits) == 3
    for n, wait in enumerate(waits):
        assert 2 ** n / 2 <= wait <= 2 ** n  # half fixed, half jitter
    waits.clear()
    assert client(base, waits).request("GET", "/fail/500/1").status_code == 200 and len(waits) == 1


def test_a_post_is_never_sent_twice_unless_the_caller_marks_it_idempotent(faulty):
    server, base = faulty
    waits: list[float] = []
    assert client(base, waits).request("POST", "/fail/503/1", json={}).status_code == 503
    assert server.hits["/fail/503/1"] == 1 and waits == []
    assert client(base, waits).request("POST", "/fail/502/1", json={}, idempotent=True).status_code == 200
    res = client(base, waits).request("POST", "/fail/500/1", headers={"Idempotency-Key": "shipment-42"})
    assert res.status_code == 200 and server.hits["/fail/500/1"] == 2


def test_the_total_wait_is_bounded_so_a_job_hands_back_to_the_queue(faulty):
    server, base = faulty
    waits: list[float] = []
    res = client(base, waits, retry=RetryPolicy(max_wait=60)).request("GET", "/fail/429/5?retry_after=600")
    assert res.status_code == 429 and waits == [] and server.hits["/fail/429/5"] == 1
    exc = error_from(res, "Service occupé.", "Service busy.")
    assert exc.retryable and exc.retry_after == 600 and exc.status == 429
    assert "tok-SECRET" not in exc.raw and "busy" in exc.raw  # the raw answer, redacted, for the log
    # attempts are bounded too
    waits.clear()
    res = client(base, waits, retry=RetryPolicy(attempts=3, base=0.01)).request("GET", "/fail/500/10")
    assert res.status_code == 500 and len(waits) == 2


def test_a_remote_that_does_not_answer_is_a_retryable_error_in_plain_words(faulty):
    _server, base = faulty
    waits: list[float] = []
    with pytest.raises(TransportError) as caught:
        client(base, waits, timeout=0.2, retry=RetryPolicy(attempts=2, base=0.01)).request("GET", "/slow?s=1")
    exc = caught.value
    assert exc.retryable and exc.timeout and exc.status is None and len(waits) == 1
    assert str(exc) == "Service test n'a pas répondu en 0.2 s." and exc.for_locale("en").startswith("Service test did")
    with pytest.raises(TransportError, match="Impossible de joindre Service test : connexion impossible"):
        client("http://127.0.0.1:9", waits, retry=RetryPolicy(attempts=1)).request("POST", "/")


# ----------------------------------------------------------------------------- logs, pools
def test_exchanges_are_logged_with_secrets_masked(faulty, caplog):
    _server, base = faulty
    caplog.set_level(logging.DEBUG, logger="oms.connectors.testremote")
    waits: list[float] = []
    http = client(base, waits, headers={"Authorization": "Bearer sk-live-123", "X-Shopify-Access-Token": "shpat_9"})
    http.request("GET", "/fail/500/1?X-Amz-Signature=abcdef&X-Amz-Credential=AKIA1&page=2")
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("oms.connectors"))
    assert "GET" in text and "500" in text and "page=2" in text and "retry 1" in text
    for secret in ("sk-live-123", "shpat_9", "abcdef", "AKIA1", "tok-SECRET"):
        assert secret not in text


def test_xml_elements_holding_secrets_are_masked():
    from core.connectors import redact

    body = '<auth_response status="OK"><token>4f9c-SECRET</token><validity>2026-12-02T10:00:00Z</validity>' \
           '</auth_response><auth><partner_id>p-1</partner_id><key>k-SECRET</key></auth>'
    out = redact.text(body)
    assert "SECRET" not in out and "<token>***</token>" in out and "<key>***</key>" in out
    assert "<validity>2026-12-02T10:00:00Z</validity>" in out and "<partner_id>p-1</partner_id>" in out


def test_one_pooled_client_per_shop_and_remote():
    a = HttpClient(REMOTE, "https://api.service-test.example", shop_id=1)
    b = HttpClient(REMOTE, "https://api.service-test.example", shop_id=1)
    c = HttpClient(REMOTE, "https://api.service-test.example", shop_id=2)
    assert a.http is b.http and a.http is not c.http
    assert pooled(("testremote", 1, "https://api.service-test.example", 10.0), httpx.Client) is a.http


# ----------------------------------------------------------------------------- outbound
@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("93.184.215.14", True),
    ("127.0.0.1", False), ("127.8.9.10", False), ("10.1.2.3", False), ("172.16.5.4", False),
    ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),
    ("224.0.0.251", False), ("240.0.0.1", False), ("255.255.255.255", False), ("198.18.0.1", False),
    ("::1", False), ("::", False), ("fe80::1", False), ("fd00:ec2::254", False), ("ff02::1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("::ffff:169.254.169.254", False),
    ("2002:a00:1::", False), ("64:ff9b::a9fe:a9fe", False), ("::ffff:8.8.8.8", True),
])
def test_internal_addresses_are_never_public(address, public):
    assert public_address(address) is public


def test_a_supplier_url_reaching_an_internal_address_is_refused_each_redirect_checked(faulty):
    server, base = faulty
    port = urlsplit(base).port
    policy = OutboundPolicy(allow=frozenset({f"127.0.0.1:{port}"}))  # only the supplier's test server
    assert fetch(base + "/feed.csv", policy=policy).content.startswith(b"sku;quantity")
    # a redirect to the same allowed server is followed
    assert fetch(f"{base}/redirect?to=/feed.csv", policy=policy).url.endswith("/feed.csv")
    for target in (f"http://127.0.0.1:{port + 1}/", "http://169.254.169.254/latest/meta-data/",
                   f"http://[::1]:{port}/", "http://10.0.0.7/admin", "http://[::ffff:127.0.0.1]:80/",
                   "http://localhost:6379/", "http://0.0.0.0:5432/"):
        hits = len(server.seen)
        with pytest.raises(OutboundRefused) as caught:
            fetch(f"{base}/redirect?to={target}", policy=policy)
        assert "réseau interne du serveur" in str(caught.value) and not caught.value.retryable
        assert len(server.seen) == hits + 1  # the redirect itself, then nothing
    # typed directly, the same
    with pytest.raises(OutboundRefused):
        fetch(f"http://127.0.0.1:{port}/feed.csv", policy=OutboundPolicy())
    with pytest.raises(OutboundRefused, match="doit commencer par https://"):
        fetch("file:///etc/passwd", policy=policy)
    with pytest.raises(OutboundRefused, match="doit commencer par https://"):
        fetch("gopher://10.0.0.1/", policy=policy)


def test_the_emulators_loopback_is_allowed_only_in_sandbox_mode():
    with pytest.raises(OutboundRefused):
        check_host("127.0.0.1", 5000, OutboundPolicy())
    assert check_host("127.0.0.1", 5000, OutboundPolicy(sandboxes=True)) == ["127.0.0.1"]
    with pytest.raises(OutboundRefused):  # the demo switch never opens the private networks
        check_host("10.0.0.1", 80, OutboundPolicy(sandboxes=True))
    with pytest.raises(OutboundRefused):
        check_host("169.254.169.254", 80, OutboundPolicy(sandboxes=True))


def test_fetched_size_and_time_are_bounded(faulty):
    _server, base = faulty
    policy = OutboundPolicy(allow=frozenset({f"127.0.0.1:{urlsplit(base).port}"}))
    assert len(fetch(f"{base}/big?n=1000", policy=policy, max_bytes=1000).content) == 1000
    with pytest.raises(RemoteError, match="dépasse 1000 octets"):
        fetch(f"{base}/big?n=1001", policy=policy, max_bytes=1000)
    with pytest.raises(RemoteError, match="n'a pas répondu en 0.2 s") as caught:
        fetch(f"{base}/slow?s=1", policy=policy, timeout=0.2)
    assert caught.value.retryable


def test_an_api_address_override_is_honoured_only_for_the_remote_or_when_the_operator_allows():
    default = "https://api.service-test.example"
    closed = OutboundPolicy()
    assert REMOTE.base_url("", default, policy=closed) == default
    assert REMOTE.base_url("https://api.service-test.example/v2", default, policy=closed).endswith("/v2")
    for url in ("http://169.254.169.254/latest", "https://evil.example/api", "http://api.service-test.example",
                "https://api.service-test.example.evil.example/", "https://api.service-test.example:8443/"):
        with pytest.raises(OutboundRefused) as caught:
            REMOTE.base_url(url, default, policy=closed)
        assert "Videz ce champ" in str(caught.value) and "Clear this field" in caught.value.message_en
    assert REMOTE.base_url("http://127.0.0.1:5000/sandbox/x", default, policy=OutboundPolicy(sandboxes=True))
    proxy = OutboundPolicy(allow=frozenset({"proxy.internal.example:8080"}))
    assert REMOTE.base_url("http://proxy.internal.example:8080/x", default, policy=proxy)
    with pytest.raises(OutboundRefused):
        REMOTE.base_url("http://proxy.internal.example:8081/x", default, policy=proxy)
    wildcard = Remote("shopify", "Shopify", ("*.myshopify.com",))
    assert wildcard.owns("a.myshopify.com") and not wildcard.owns("myshopify.com")
    assert not wildcard.owns("a.myshopify.com.evil.example")


# ----------------------------------------------------------------------------- rate limits
class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.mark.parametrize("store", ["local", "redis"])
def test_buckets_are_shared_reserve_waits_and_drain_on_429(store, redis_conn):
    clock = Clock()
    one = LocalBuckets(clock) if store == "local" else RedisBuckets(redis_conn, clock, prefix="t:rl:")
    other = one if store == "local" else RedisBuckets(redis_conn, clock, prefix="t:rl:")  # a second worker
    key = "sendcloud:shop-1:labels"
    assert [one.acquire(key, 2.0, 2, 10) for _ in range(2)] == [0.0, 0.0]
    assert other.acquire(key, 2.0, 2, 10) == pytest.approx(0.5)  # reserved: the next token in 0.5 s
    assert other.acquire(key, 2.0, 2, 0.1) == pytest.approx(1.0)  # too long: nothing reserved
    clock.now += 1.5
    assert one.available(key, 2.0, 2) == pytest.approx(2.0)
    one.drain(key)
    assert other.available(key, 2.0, 2) == pytest.approx(0.0)
    one.set_rate(key, 4.0)
    assert other.rate(key, 2.0) == 4.0
    assert one.acquire("sendcloud:shop-2:labels", 2.0, 2, 0) == 0.0  # another shop, its own bucket


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_without_redis_every_process_draws_from_the_database_buckets(app, database_url):
    from core import create_app
    from core.connectors.ratelimit import buckets_for
    from core.ratelimit import DbRateLimiter

    store = buckets_for(app, name="shared-test")
    assert isinstance(store, DbRateLimiter)
    other = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": database_url, "ADDONS": []})
    with other.app_context():  # a second web process of the same installation
        assert store.acquire("acme:shop-1:orders", 0.01, 1, 0) == 0
        assert buckets_for(other, name="shared-test").acquire("acme:shop-1:orders", 0.01, 1, 0) > 0
