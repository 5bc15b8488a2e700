"""The ``version`` of each Rakuten France web-service action: configuration, not code.

Every call to Rakuten's web services carries ``version=<date>`` and each action has its own
(Rakuten answers ``ParameterError`` "The version xxxx-xx-xx is not supported" for a date it
no longer serves, and gives its newest one in ``<lastversion>``). The defaults below are the
documented ones; the ``rakuten_action_version`` table overrides any of them for the whole
installation (``oms rakuten-versions --set getnewsales=2017-08-07``), and records the
``lastversion`` Rakuten announces so that an operator sees when a newer one exists.

Sources of the defaults (no official machine-readable list exists):

* ``getnewsales``, ``getcurrentsales``, ``getiteminfos`` 2017-08-07;
  ``acceptsale``, ``refusesale`` 2010-09-20; ``cancelitem`` 2011-02-02;
  ``settrackingpackageinfos`` 2016-03-16 — the request classes of the quazardous/priceminister-ws
  client, each linking Rakuten's developer page of the action
  (developer.fr.shopping.rakuten.com/blog/fr/documentation/new-sales/…,
  global.fr.shopping.rakuten.com/developpeur/…); ``getnewsales`` 2017-08-07 is also the
  newest the board3r/rakuten-sdk client accepts (2022).
* ``genericimportfile`` 2015-02-02, ``genericimportreport`` 2017-02-10 and ``export``
  2018-06-29 — the newest versions accepted by board3r/rakuten-sdk (``SendGenericFileRequest``,
  ``GetGenericReportRequest``, ``GetExportRequest``).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.extensions import db

from .models import RakutenActionVersion


@dataclass(frozen=True)
class Action:
    name: str
    service: str  # the path: sales_ws or stock_ws
    version: str  # documented default
    source: str


#: the documented defaults (see the module docstring for where each comes from)
ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("getnewsales", "sales_ws", "2017-08-07", "quazardous/priceminister-ws, board3r/rakuten-sdk"),
    Action("getcurrentsales", "sales_ws", "2017-08-07", "quazardous/priceminister-ws"),
    Action("getiteminfos", "sales_ws", "2017-08-07", "quazardous/priceminister-ws"),
    Action("acceptsale", "sales_ws", "2010-09-20", "quazardous/priceminister-ws"),
    Action("refusesale", "sales_ws", "2010-09-20", "quazardous/priceminister-ws"),
    Action("cancelitem", "sales_ws", "2011-02-02", "quazardous/priceminister-ws"),
    Action("settrackingpackageinfos", "sales_ws", "2016-03-16", "quazardous/priceminister-ws"),
    Action("genericimportfile", "stock_ws", "2015-02-02", "board3r/rakuten-sdk"),
    Action("genericimportreport", "stock_ws", "2017-02-10", "board3r/rakuten-sdk"),
    Action("export", "stock_ws", "2018-06-29", "board3r/rakuten-sdk"),
)}


def current_versions() -> dict[str, str]:
    """Every action's version in force: the table's override, else the documented default."""
    versions = {name: a.version for name, a in ACTIONS.items()}
    for row in db.session.scalars(select(RakutenActionVersion)):
        if row.version and row.action in versions:
            versions[row.action] = row.version
    return versions


def set_version(action: str, version: str) -> None:
    """Override one action's version for the installation (the caller commits)."""
    if action not in ACTIONS:
        raise KeyError(action)
    row = db.session.get(RakutenActionVersion, action) or RakutenActionVersion(action=action)
    row.version = version
    db.session.add(row)


def note_latest(action: str, latest: str | None) -> None:
    """Remember the ``lastversion`` Rakuten announced for an action (shown to the operator)."""
    if not latest or action not in ACTIONS:
        return
    row = db.session.get(RakutenActionVersion, action)
    if row is None:
        row = RakutenActionVersion(action=action, version=None)
        db.session.add(row)
    if row.latest_seen != latest:
        row.latest_seen = latest[:16]
