"""What every response and every sign-in goes through: security headers, cookie flags,
the one safe-redirect check, and the sign-in throttle.

Installed by the app factory with :func:`init_app`.
"""
from __future__ import annotations

import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from .inputs import INT_MAX, checked_json

#: Content-Security-Policy: pages load only this server's scripts, styles, images and fonts;
#: an inline script carries the request's nonce; no page may be framed.
CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; frame-ancestors 'none'")

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


def is_production(app: Flask) -> bool:
    return app.config.get("OMS_ENV") == "production"


def csp_nonce() -> str:
    """This request's nonce for an inline ``<script nonce="...">``."""
    if "oms_csp_nonce" not in g:
        g.oms_csp_nonce = secrets.token_urlsafe(16)
    return g.oms_csp_nonce


def _security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
    if request.is_secure or request.headers.get("X-Forwarded-Proto") == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _refuse_nul_bytes() -> None:
    """A NUL byte in a query or a form field is never text a merchant typed (PostgreSQL
    cannot even store it): the request is refused before any query."""
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        abort(400)
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        if any("\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)):
            abort(400)


def cookie_config(production: bool) -> dict[str, Any]:
    """Flags of the session and remember-me cookies (Secure only in production, where the
    app is served over HTTPS)."""
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
    }


class CheckedJSONProvider(DefaultJSONProvider):
    """Every JSON request body the app reads (``request.get_json``, the forms' JSON data, the
    scans) goes through :func:`core.inputs.checked_json`: too deep, ``NaN`` or too large is a
    400 instead of a RecursionError or a value the database refuses."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return checked_json(s)


def init_app(app: Flask) -> None:
    app.json = CheckedJSONProvider(app)
    for key, value in cookie_config(is_production(app)).items():
        app.config.setdefault(key, value)
    if is_production(app):  # production is HTTPS: no cookie may travel in clear
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.extensions["oms_throttle"] = Throttle(app.config.get("REDIS_URL"),
                                               app.config.get("RQ_QUEUE_PREFIX", "oms"))


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in a route matches only ids an INTEGER column can hold (else 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=INT_MAX if max is None else max,
                         signed=signed)


# ----------------------------------------------------------------------------- redirects
def is_safe_url(target: str | None) -> bool:
    """A path on this site (``/orders?x=1``); never another host, a scheme, ``//host`` or a
    backslash that browsers read as a slash."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return parts.scheme == "" and parts.netloc == ""


def safe_next(default: str, target: str | None = None) -> str:
    """``target`` (default: the request's ``next`` form field or argument) when it is a local
    path, else ``default``. Every redirect taking user input goes through here."""
    if target is None:
        target = request.form.get("next") or request.args.get("next")
    return target if is_safe_url(target) else default


def safe_referrer(default: str) -> str:
    """Back to the page the request came from when it is a page of this site."""
    ref = request.referrer
    if not ref:
        return default
    parts = urlsplit(ref)
    if parts.netloc not in ("", request.host):
        return default
    return safe_next(default, parts.path + (f"?{parts.query}" if parts.query else ""))


# ----------------------------------------------------------------------------- throttle
class Throttle:
    """Counts failures per key in a fixed window: in Redis when the app has one (shared by
    every process), in memory otherwise."""

    def __init__(self, redis_url: str | None, prefix: str = "oms") -> None:
        self.prefix = f"{prefix}:throttle:"
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
        self._memory: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def count(self, key: str) -> int:
        if self._redis is not None:
            return int(self._redis.get(self.prefix + key) or 0)
        with self._lock:
            expires, n = self._memory.get(key, (0.0, 0))
            return n if expires > time.monotonic() else 0

    def hit(self, key: str, window: int) -> int:
        if self._redis is not None:
            pipe = self._redis.pipeline()
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, window, nx=True)
            return int(pipe.execute()[0])
        with self._lock:
            now = time.monotonic()
            expires, n = self._memory.get(key, (0.0, 0))
            if expires <= now:
                expires, n = now + window, 0
            self._memory[key] = (expires, n + 1)
            return n + 1

    def reset(self, key: str) -> None:
        if self._redis is not None:
            self._redis.delete(self.prefix + key)
            return
        with self._lock:
            self._memory.pop(key, None)
