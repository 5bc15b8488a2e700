"""The one error type of the connector kit.

A :class:`RemoteError` is what a call to a remote service (marketplace, carrier, supplier)
raises when it fails. It carries what each reader needs:

* ``message``: a French sentence for the merchant (``str(exc)``), with no exception name, no
  internal address, no raw id;
* ``message_en``: the same sentence in English (the interface's other language);
* ``raw``: the remote's answer as received, secrets redacted, for the log only;
* ``status``: the HTTP status (None when no answer came);
* ``retryable``: True when trying again later can help (rate limit, remote down, no answer);
  the job layer reschedules such a job instead of ending its chain;
* ``retry_after``: seconds the remote asked to wait, when it said so.

Each add-on's own error (``AmazonError``, ``ShopifyError``...) is a subclass, so a job or a
view can catch one type for every remote.
"""
from __future__ import annotations

#: statuses for which another try, later, can succeed
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class RemoteError(Exception):
    """A failed exchange with a remote service (see the module docstring)."""

    def __init__(self, message: str, *, status: int | None = None, raw: str = "",
                 retryable: bool | None = None, message_en: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message
        self.status = status
        self.raw = raw
        self.retryable = (status is None or status in RETRYABLE_STATUSES) if retryable is None else retryable
        self.retry_after = retry_after

    def for_locale(self, locale: str | None) -> str:
        """The merchant's sentence in ``locale`` (``en`` or French by default)."""
        return self.message_en if (locale or "").lower().startswith("en") else self.message


class OutboundRefused(RemoteError):
    """A URL the server will not call: a host the add-on does not talk to, or an address of
    the server's own network (private, loopback, link-local, metadata...)."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message, message_en=message_en, retryable=False)
