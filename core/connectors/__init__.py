"""The connector kit: what every add-on that talks to a remote service stands on.

- :mod:`.http`: one pooled HTTP client per (shop, remote), timeouts, retries with backoff
  honouring ``Retry-After``, redacted logs;
- :mod:`.errors`: :class:`RemoteError`, the one error type (French and English sentences,
  the raw answer for the log, the status, ``retryable``);
- :mod:`.ratelimit`: token buckets per remote, account and operation (Redis or in-process);
- :mod:`.outbound`: which hosts the server may call (an add-on's fixed hosts, the operator's
  allow-list) and safe fetching of merchant-supplied URLs;
- :mod:`.redact`: secrets out of logs;
- :mod:`.poller`: a cursor per shop and resource, pages committed, the cursor moved last;
- :mod:`.inbox`: the webhook inbox (signature on the raw body, stored first, processed in a job);
- :mod:`.ownership`: which shop proved it owns a remote account (webhook routing);
- :mod:`.guards`: ``addon_required`` for an add-on's pages;
- :mod:`.emulator`: the base of every ``sandbox.py`` (mounting, clock, recording, faults).

This package is infrastructure: it imports nothing from core's domain or views.
"""
from .errors import OutboundRefused, RemoteError
from .http import NO_RETRY, HttpClient, RetryPolicy, TransportError, error_from, retry_after
from .outbound import OutboundPolicy, Remote, current_policy, fetch, public_address
from .ratelimit import BucketStore, LocalBuckets, RedisBuckets, bucket_key, buckets_for

__all__ = ["BucketStore", "HttpClient", "LocalBuckets", "NO_RETRY", "OutboundPolicy", "OutboundRefused",
           "RedisBuckets", "Remote", "RemoteError", "RetryPolicy", "TransportError", "bucket_key", "buckets_for",
           "current_policy", "error_from", "fetch", "public_address", "retry_after"]
