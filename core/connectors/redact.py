"""Secrets out of what is logged: headers, URLs (query signatures), form and JSON bodies."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
#: header names whose value is always a secret
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie",
                            "x-shopify-access-token", "x-amz-access-token", "x-amz-security-token",
                            "x-api-key", "api-key"})
#: a header, query parameter or body field whose name contains one of these is a secret
SECRET_WORDS = ("token", "secret", "password", "passwd", "signature", "sig", "credential", "apikey",
                "api_key", "api-key", "authorization", "private_key", "hmac", "code_verifier")
_TEXT_FIELDS = re.compile(
    r"""(?P<key>["']?[A-Za-z0-9_\-]*(?:token|secret|password|signature|credential|api_?key)[A-Za-z0-9_\-]*["']?)"""
    r"""(?P<sep>\s*[:=]\s*)(?P<value>"[^"]*"|'[^']*'|[^\s&,;"'}]+)""", re.IGNORECASE)


#: an XML element holding a secret (``<token>…</token>``, ``<key>…</key>``), for XML APIs
_XML_FIELDS = re.compile(
    r"""<(?P<tag>[A-Za-z0-9_\-]*(?:token|secret|password|signature|credential|api_?key)[A-Za-z0-9_\-]*|key)"""
    r"""(?P<attrs>\s[^<>]*)?>(?P<value>[^<]*)</(?P=tag)>""", re.IGNORECASE)


def is_secret(name: str) -> bool:
    low = name.lower()
    return low in SECRET_HEADERS or any(word in low for word in SECRET_WORDS)


def headers(items: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers with every secret value masked."""
    pairs = items.items() if isinstance(items, Mapping) else items
    return {name: (MASK if is_secret(name) else value) for name, value in pairs}


def url(value: str) -> str:
    """The URL without user info and with secret query parameters masked (presigned URLs
    carry ``X-Amz-Signature``, ``X-Amz-Credential``...)."""
    parts = urlsplit(str(value))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode([(k, MASK if is_secret(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
                      safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def text(value: str | bytes, limit: int = 2000) -> str:
    """A body for the log: secret fields (JSON, form or ``key=value`` text) masked, cut to
    ``limit`` characters."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")

    def mask(m: re.Match) -> str:
        quoted = m.group("value")[:1] in "\"'"
        return m.group("key") + m.group("sep") + (f'"{MASK}"' if quoted else MASK)

    out = _TEXT_FIELDS.sub(mask, value)
    out = _XML_FIELDS.sub(lambda m: f"<{m.group('tag')}{m.group('attrs') or ''}>{MASK}</{m.group('tag')}>", out)
    return out if len(out) <= limit else out[:limit] + "…"
