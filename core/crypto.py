"""Encryption at rest for secrets (shop credentials, add-on secret settings).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
``OMS_SECRET_KEY`` (or ``OMS_ENCRYPTION_KEYS``, a comma-separated list whose first key
encrypts and every key decrypts, so keys can be rotated).
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, has_app_context
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

_cache: dict[tuple[str, ...], MultiFernet] = {}


def _derive(secret: str) -> Fernet:
    digest = hashlib.sha256(b"oms-encryption-v1:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet() -> MultiFernet:
    if not has_app_context():
        raise RuntimeError("encryption needs an application context (OMS_SECRET_KEY)")
    keys = current_app.config.get("OMS_ENCRYPTION_KEYS") or [current_app.config["SECRET_KEY"]]
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    key_tuple = tuple(keys)
    if key_tuple not in _cache:
        _cache[key_tuple] = MultiFernet([_derive(k) for k in key_tuple])
    return _cache[key_tuple]


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key: say so without echoing the token
        raise ValueError("cannot decrypt a stored secret: OMS_SECRET_KEY changed?") from exc


class EncryptedJSON(TypeDecorator):
    """A JSON document stored encrypted; ``{}`` when empty."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> str | None:
        if value is None:
            return None
        return encrypt(json.dumps(value, sort_keys=True))

    def process_result_value(self, value: str | None, dialect) -> Any:
        if value is None:
            return {}
        return json.loads(decrypt(value))


class Secret(str):
    """A string whose repr never shows the value (safe in logs and tracebacks)."""

    def __repr__(self) -> str:
        return "Secret('***')"
