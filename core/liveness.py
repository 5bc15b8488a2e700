"""Pooled PostgreSQL connections are checked before use, without a round trip when they can be.

A connection the server closed (a restart, ``pg_terminate_backend``) is replaced, not used.
``pool_pre_ping`` gives that by sending ``SELECT 1`` at every checkout: one more round trip per
transaction, as many as the transaction's own statements for a short one (a stock change, a
webhook). When the server ends a connection it tells the client (an error message, then the
socket's end), so a connection back from the pool a moment ago is checked by looking at its
socket: anything to read while no query runs means the server has hung up, and the pool
replaces the connection at once. One idle longer than :data:`PING_AFTER` (a firewall may
have dropped it silently) is pinged, as before.
"""
from __future__ import annotations

import select
import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

#: seconds in the pool after which a connection is pinged rather than looked at
PING_AFTER = 30.0
_RETURNED = "oms_returned_at"


def install(engine: Engine) -> bool:
    """Check this engine's pooled connections at checkout (psycopg engines; True if installed)."""
    if engine.dialect.driver != "psycopg" or event.contains(engine, "checkout", _checkout):
        return False
    event.listen(engine, "checkout", _checkout)
    event.listen(engine, "checkin", _checkin)
    return True


def _checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_RETURNED] = time.monotonic()


def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    returned = record.info.pop(_RETURNED, None)
    if returned is None or time.monotonic() - returned > PING_AFTER:
        _ping(dbapi_connection)  # new (just opened: cheap) or long idle
    elif not hung_up(dbapi_connection):
        return
    else:
        raise exc.DisconnectionError("the server closed this pooled connection")


def hung_up(dbapi_connection: Any) -> bool:
    """The server has ended this idle connection (or sent what only an ending one sends)."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    pgconn = dbapi_connection.pgconn
    from psycopg import pq

    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return True
    readable, _, _ = select.select([pgconn.socket], [], [], 0)
    return bool(readable)


def _ping(dbapi_connection: Any) -> None:
    autocommit = dbapi_connection.autocommit
    try:
        if not autocommit:
            dbapi_connection.autocommit = True
        dbapi_connection.execute("SELECT 1")
    except Exception as error:  # any failure here: the pool opens a fresh connection
        raise exc.DisconnectionError(f"ping failed: {error}") from error
    finally:
        if not autocommit and not dbapi_connection.closed:
            dbapi_connection.autocommit = False
