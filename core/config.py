"""Configuration from the environment, with embedded defaults for a newcomer."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "oms.db")
    # accept the usual Heroku/libpq spelling and use the psycopg 3 driver
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def secret_key(instance_path: str) -> str:
    """``OMS_SECRET_KEY``, or (development only) a random key kept in the instance folder,
    so data encrypted with it stays readable across restarts."""
    key = os.environ.get("OMS_SECRET_KEY")
    if key:
        return key
    if os.environ.get("OMS_ENV") == "production":
        raise RuntimeError("OMS_SECRET_KEY must be set in production (it encrypts shop credentials)")
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_env(instance_path: str) -> dict[str, Any]:
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "OMS_ENV": os.environ.get("OMS_ENV", "development"),
        "SECRET_KEY": secret_key(instance_path),
        "OMS_ENCRYPTION_KEYS": os.environ.get("OMS_ENCRYPTION_KEYS", ""),
        # the operator's token for /healthz details (header X-Health-Token)
        "HEALTH_TOKEN": os.environ.get("OMS_HEALTH_TOKEN", ""),
        # whole request body; Shopify's webhooks and the CSV uploads fit well below
        "MAX_CONTENT_LENGTH": int(os.environ.get("OMS_MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        # a connection the server closed (restart, pg_terminate_backend) is replaced, not used:
        # core.liveness checks each PostgreSQL connection at checkout, pinging only long-idle ones
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "REDIS_URL": redis_url,
        # rq: relay to Redis workers; thread: embedded in-process runner; manual: tests call run_pending()
        "JOBS_MODE": os.environ.get("OMS_JOBS_MODE") or ("rq" if redis_url else "thread"),
        "RQ_QUEUE_PREFIX": os.environ.get("OMS_QUEUE_PREFIX", "oms"),
        # None: every add-on of the 'oms.addons' entry points; OMS_ADDONS=a,b to load only those
        "ADDONS": [a.strip() for a in os.environ["OMS_ADDONS"].split(",") if a.strip()]
        if os.environ.get("OMS_ADDONS") is not None else None,
        "ADDON_MODULES": {},
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LANGUAGES": ["fr", "en"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "SANDBOXES": os.environ.get("OMS_SANDBOXES", "") == "1",
        #: example add-ons (manifest ``"example": True``) are listed in the catalog only when asked
        "CATALOG_SHOW_EXAMPLES": os.environ.get("OMS_CATALOG_SHOW_EXAMPLES", "") == "1",
        # hosts (or host:port) a merchant's API-address override or supplier URL may reach
        "OUTBOUND_ALLOW": [h.strip() for h in os.environ.get("OMS_OUTBOUND_ALLOW", "").split(",") if h.strip()],
        "PUBLIC_URL": os.environ.get("OMS_PUBLIC_URL", ""),
        # the installation's own e-mail (invitations, the daily digest); empty: nothing is
        # sent and the pages show the link to pass on instead
        "SMTP_HOST": os.environ.get("OMS_SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("OMS_SMTP_PORT", "587") or 587),
        "SMTP_USER": os.environ.get("OMS_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("OMS_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": os.environ.get("OMS_SMTP_STARTTLS", "1") == "1",
        "MAIL_FROM": os.environ.get("OMS_MAIL_FROM", ""),
    }
