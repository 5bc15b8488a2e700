"""Form validators for the addresses a merchant types, so a refused address is said at once
on the settings page, in the merchant's language, rather than at the next sync."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask_babel import get_locale
from wtforms import Field, Form, ValidationError

from .errors import OutboundRefused, RemoteError
from .outbound import Remote, check_host, check_url


def _locale() -> str:
    return str(get_locale() or "fr")


class RemoteAddress:
    """An API-address override: accepted on the remote's own hosts, with the emulators on, or
    for a host the operator allows (``Remote.base_url``). ``remote`` may be a function of the
    form (Shopify's remote is the shop's own domain)."""

    def __init__(self, remote: Remote | Callable[[Form], Remote], default: str) -> None:
        self.remote = remote
        self.default = default

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            return
        remote = self.remote(form) if callable(self.remote) and not isinstance(self.remote, Remote) else self.remote
        try:
            remote.base_url(field.data, self.default)
        except OutboundRefused as exc:
            raise ValidationError(exc.for_locale(_locale())) from None


class PublicAddress:
    """A URL the server will fetch for the merchant (a supplier's feed or webhook): http(s),
    and a host that does not resolve to the server's own networks. A host that does not
    resolve yet is left to the fetch (it says so then)."""

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            return
        try:
            url = check_url(field.data)
            parts = urlsplit(url)
            check_host(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except OutboundRefused as exc:
            raise ValidationError(exc.for_locale(_locale())) from None
        except RemoteError:
            return
