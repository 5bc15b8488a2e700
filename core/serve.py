"""``oms serve``: the app under gunicorn, the production WSGI server.

Each worker process builds its own app after the fork (no ``preload``), so no database engine,
connection pool or Redis connection is ever shared between processes; ``post_fork`` disposes
any engine a preloaded app would have opened, as a guard."""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication

from . import heap

# the request path without its query string: webhook and OAuth URLs may carry tokens there
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def defaults() -> dict:
    """Two workers of four threads suit a 2-core machine; the environment overrides."""
    return {
        "bind": os.environ.get("OMS_WEB_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}",
        "workers": int(os.environ.get("OMS_WEB_WORKERS", "2")),
        "threads": int(os.environ.get("OMS_WEB_THREADS", "4")),
        "timeout": int(os.environ.get("OMS_WEB_TIMEOUT", "60")),
        "graceful_timeout": int(os.environ.get("OMS_WEB_GRACEFUL_TIMEOUT", "30")),
    }


#: the most of an unread request body read away after the view (a larger one keeps its
#: connection from being reused: the client sees it closed)
DRAIN_LIMIT = 64 * 1024 * 1024


def drain_request_bodies(wsgi_app):
    """gunicorn keeps a connection open for the client's next request. A request answered
    without its body being read (a 404 or a refusal on a POST, a route that needs no body)
    leaves that body in the connection, and the next request on it waits and is dropped:
    whatever the view left of the body is read away before the answer is sent, so the
    connection serves on."""
    def app(environ, start_response):
        result = wsgi_app(environ, start_response)
        stream, left = environ.get("wsgi.input"), DRAIN_LIMIT
        while stream is not None and left > 0 and (chunk := stream.read(min(65536, left))):
            left -= len(chunk)
        return result

    return app


def _post_fork(server, worker) -> None:
    from .extensions import db

    app = getattr(server.app, "_preloaded", None)
    if app is not None:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)


class OmsApplication(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        self._preloaded = None
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "worker_class": "gthread",
            "keepalive": 5,
            "accesslog": "-",
            "errorlog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "post_fork": _post_fork,
            "proc_name": "oms-web",
            **self.options,
        }
        for key, value in settings.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self):
        from . import create_app

        app = create_app()
        if self.cfg.preload_app:
            self._preloaded = app
        app.wsgi_app = drain_request_bodies(app.wsgi_app)  # type: ignore[method-assign]
        heap.settle()  # in each worker (no preload), or in the master before it forks them
        return app


def serve(options: dict) -> None:
    OmsApplication(options).run()
