"""The input sweep: every add-on loaded, signed in as an owner of a full demo organization, the
crawler reads every page it can reach, then every route of the app's URL map gets the bad
values (in its ids, its query string, each field of each form, each upload) and another
organization's ids. No answer may be a server error, and the other organization's data is
never shown nor changed."""
from __future__ import annotations

import io
import re
from collections import deque

import pytest
from sqlalchemy import select

from core import demo
from core.extensions import db
from core.models import Customer, Organization, Product, Shop
from tests.fixtures import csrf_token
from tests.sweep_helpers import (
    BAD_VALUES,
    CSV_FILES,
    QUERY_KEYS,
    Form,
    PageParser,
    fingerprint,
    model_for,
    owned_ids,
    path_of,
)

MARK = "ZZB-CONFIDENTIEL"
OWNER_A = demo.DEMO_USERS[0][0]
SKIP_POST = {"/logout"}
ARG = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>")


@pytest.fixture
def addons():
    return ["shopify", "amazon", "sendcloud", "dropship", "dhl", "colissimo", "fnac"]


@pytest.fixture
def app_config():
    return {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "LOGIN_FAILURES_PER_ADDRESS": 10_000}


@pytest.fixture
def two_demos(app, monkeypatch):
    demo.load_demo()
    org_a = db.session.scalar(select(Organization).where(Organization.name == demo.DEMO_ORG))
    org_a.name = "Organisation A"
    db.session.commit()
    monkeypatch.setattr(demo, "DEMO_USERS", tuple((f"b-{e}", r, n) for e, r, n in demo.DEMO_USERS))
    demo.load_demo()
    org_b = db.session.scalar(select(Organization).where(Organization.name == demo.DEMO_ORG))
    for model, column in ((Customer, "name"), (Product, "title"), (Shop, "name")):
        for row in db.session.scalars(select(model).where(model.organization_id == org_b.id)):
            setattr(row, column, f"{MARK} {row.id}")
    db.session.commit()
    return org_a, org_b


class Sweep:
    def __init__(self, client) -> None:
        self.client = client
        self.errors: list[str] = []
        self.leaks: list[str] = []
        self.requests = 0

    def send(self, method: str, url: str, **kw):
        self.requests += 1
        try:
            res = self.client.open(url, method=method, **kw)
        except Exception as exc:  # noqa: BLE001 - the sweep reports every crash, then fails
            data = kw.get("data") if isinstance(kw.get("data"), dict) else {"body": kw.get("data") or kw.get("json")}
            fields = {k: v[:30] if isinstance(v, (str, bytes)) else v for k, v in data.items()
                      if k != "csrf_token" and (v in BAD_VALUES or k == "body")}
            self.errors.append(f"{method} {path_of(url)[:100]} {fields}: {exc.__class__.__name__}: "
                               f"{str(exc).splitlines()[0][:160]}")
            return None
        if res.status_code >= 500:
            self.errors.append(f"{method} {url[:160]}: {res.status_code}")
        elif MARK in res.get_data(as_text=True):
            self.leaks.append(f"{method} {url[:160]}")
        return res


def crawl(sweep: Sweep, limit: int = 400) -> tuple[dict[str, str], list[Form]]:
    """endpoint -> one real URL of organization A; every form found."""
    from flask import current_app

    adapter = current_app.url_map.bind("localhost")
    seen: set[str] = set()
    by_endpoint: dict[str, str] = {}
    forms: dict[tuple[str, str], Form] = {}
    queue = deque(["/"])
    while queue and len(seen) < limit:
        url = queue.popleft()
        path = path_of(url)
        if url in seen or path.startswith("/static") or path.endswith((".pdf", ".csv", "/icon")):
            continue
        seen.add(url)
        try:
            endpoint, _args = adapter.match(path, method="GET")
        except Exception:  # noqa: BLE001 - a link the app does not serve by GET
            continue
        if endpoint in by_endpoint and sum(1 for u in seen if path_of(u) == path) > 1:
            continue
        res = sweep.send("GET", url)
        if res is None or res.status_code != 200 or res.mimetype != "text/html":
            continue
        by_endpoint.setdefault(endpoint, url)
        parser = PageParser(path)
        parser.feed(res.get_data(as_text=True))
        for form in parser.forms:
            forms.setdefault((form.method, path_of(form.action)), form)
        queue.extend(sorted(parser.links - seen))
    return by_endpoint, list(forms.values())


def test_sweep_no_server_error_and_no_cross_tenant(app, client, two_demos):
    org_a, org_b = two_demos
    before = fingerprint(org_b.id)
    res = client.post("/login", data={"email": OWNER_A, "password": demo.DEMO_PASSWORD,
                                      "csrf_token": csrf_token(client)})
    assert res.status_code == 302
    sweep = Sweep(client)
    by_endpoint, forms = crawl(sweep)
    assert len(by_endpoint) > 35 and len(forms) > 30, (sorted(by_endpoint), len(forms))
    token = csrf_token(client, "/")

    # 1. every rule: its ids replaced by bad values and by organization B's ids
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.arguments:
            continue
        methods = sorted(rule.methods & {"GET", "POST"})
        names = ARG.findall(rule.rule)
        for name in names:
            values = list(BAD_VALUES[:6])
            model = model_for(rule.rule, name)
            if model is not None:
                values += [str(i) for i in owned_ids(model, org_b.id)]
            for value in values:
                url = ARG.sub(lambda m, n=name, v=value: v if m.group(1) == n else "1", rule.rule)
                if "<any" in rule.rule:
                    url = re.sub(r"<any\(([a-z_]+)[^>]*\):[a-z_]+>", r"\1", rule.rule)
                    url = ARG.sub(lambda m, n=name, v=value: v if m.group(1) == n else "1", url)
                for method in methods:
                    if path_of(url) in SKIP_POST:
                        continue
                    sweep.send(method, url.replace("\x00", "%00"),
                               data={"csrf_token": token} if method == "POST" else None)

    # 2. every page reached: bad query strings (filters, pages, dates)
    get_form_keys = {k for f in forms if f.method == "get" for k in f.fields}
    for url in by_endpoint.values():
        for value in BAD_VALUES:
            query = {k: value for k in (*QUERY_KEYS, *get_form_keys)}
            sweep.send("GET", path_of(url), query_string=query)

    # 3. every form: each field in turn gets each bad value, every upload each bad file
    for form in forms:
        if form.method != "post" or path_of(form.action) in SKIP_POST:
            continue
        base = {**form.fields, "csrf_token": token}
        for name in [n for n in form.fields if n != "csrf_token"]:
            for value in BAD_VALUES:
                sweep.send("POST", form.action, data={**base, name: value})
        for name in form.files:
            for filename, content in CSV_FILES.items():
                sweep.send("POST", form.action, data={**base, name: (io.BytesIO(content), filename)},
                           content_type="multipart/form-data")
        sweep.send("POST", form.action, data={k: BAD_VALUES[0] for k in base} | {"csrf_token": token})

    # 4. every POST route with organization A's own ids: JSON bodies (scans, APIs, webhooks)
    deep = b'{"code": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule in SKIP_POST:
            continue
        url = re.sub(r"<any\(([a-z_]+)[^>]*\):[a-z_]+>", r"\1", rule.rule)
        for name in ARG.findall(url):
            model = model_for(rule.rule, name)
            ids = owned_ids(model, org_a.id) if model is not None else []
            value = str(ids[0]) if ids else ("pick" if name == "stage" else "1")
            url = ARG.sub(lambda m, n=name, v=value: v if m.group(1) == n else m.group(0), url)
        headers = {"X-CSRFToken": token}
        for value in BAD_VALUES:
            sweep.send("POST", url, json={"code": value, "key": value, "reason": value, "quantity": value,
                                          "lines": [{"sku": value, "quantity": value}]}, headers=headers)
        sweep.send("POST", url, json={"code": "x", "override": True, "key": "line-99999999999999999999",
                                      "reason": "casse"}, headers=headers)
        for body in (deep, b'{"code": NaN, "total": Infinity}', b"\x00\xff\xfe", b"[" * 5000):
            sweep.send("POST", url, data=body, content_type="application/json", headers=headers)

    db.session.expire_all()
    assert not sweep.errors, f"{len(sweep.errors)} server errors in {sweep.requests} requests:\n" + \
        "\n".join(sorted(set(sweep.errors))[:150])
    assert not sweep.leaks, "another organization's data shown:\n" + "\n".join(sweep.leaks)
    assert fingerprint(org_b.id) == before, "another organization's data changed"
    assert sweep.requests > 1000
