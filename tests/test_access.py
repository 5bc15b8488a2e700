"""Every route of the app, for every role, against the one table of rules (core.access).

A page a role may not open answers 403 to it; a page it may open never does (whatever else
it answers to made-up ids). A view whose own check disagrees with the table fails here,
which keeps the table the one place where access is decided."""
from __future__ import annotations

import re

import pytest

from core.access import RULES, allowed, roles_for
from core.models import Role

ADDONS = ["amazon", "shopify", "sendcloud", "dropship"]
SKIP = {"auth.logout", "static"}  # signing out ends the sweep; files have no role


@pytest.fixture
def addons():
    return ADDONS


def _url(rule) -> str:
    def value(match: re.Match) -> str:
        converter = match.group(1) or ""
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip(" )'\"")
        return "999999" if converter in ("", "int") else "x"

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", value, rule.rule)


def _sweep(app, client):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIP:
            continue
        for method in ("GET", "POST"):
            if method in rule.methods:
                yield rule.endpoint, method, client.open(_url(rule), method=method)


@pytest.mark.parametrize("role", [Role.OWNER, Role.STAFF, Role.PICKER])
def test_every_route_follows_the_table(app, client, login, role):
    login(client, role)
    app.config["WTF_CSRF_ENABLED"] = False  # the sweep posts empty forms; access is decided first
    wrong, checked = [], 0
    for endpoint, method, res in _sweep(app, client):
        if roles_for(endpoint) is None:
            continue
        checked += 1
        if role == Role.PICKER and endpoint == "main.dashboard":
            ok = res.status_code == 302 and "/preparation/waves" in res.headers["Location"]
        elif allowed(endpoint, role):
            ok = res.status_code != 403
        else:
            ok = res.status_code == 403
        if not ok:
            wrong.append(f"{method} {endpoint} -> {res.status_code}")
    assert checked > 120
    assert not wrong, f"{role}: " + "; ".join(wrong)


def test_the_table_says_what_the_roles_promise():
    # staff: no credentials, shops, add-ons, users or plan
    for endpoint in ("integrations.configure", "integrations.add_shop", "integrations.toggle", "integrations.test",
                     "account.team_page", "account.team_invite", "account.plan", "shopify.install",
                     "amazon.relay_secret", "sendcloud.rules", "some_future_addon.settings"):
        assert not allowed(endpoint, Role.STAFF), endpoint
        assert allowed(endpoint, Role.OWNER), endpoint
    for endpoint in ("main.orders", "catalog.product_new", "main.stock_adjust", "picking.pack_ship",
                     "analytics.dashboard", "analytics.returns", "integrations.sync_log"):
        assert allowed(endpoint, Role.STAFF), endpoint
    # picker: picking and packing only
    assert [e for e in ("picking.waves", "picking.pack_scan", "picking.pack_ship", "main.preparation")
            if not allowed(e, Role.PICKER)] == []
    assert [e for e in ("main.orders", "main.products", "analytics.dashboard", "picking.locations_assign",
                        "integrations.sync_log") if allowed(e, Role.PICKER)] == []
    assert RULES[-1][0] != "*"  # what no rule names is the owner's alone (DEFAULT)


def test_navigation_shows_only_what_the_role_may_open(client, login):
    login(client, Role.STAFF)
    page = client.get("/orders").get_data(as_text=True)
    assert 'href="/orders"' in page and 'href="/integrations/"' not in page and 'href="/team"' not in page
    assert 'href="/plan"' not in page
