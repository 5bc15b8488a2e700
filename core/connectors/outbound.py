"""Where the server may send requests.

Two kinds of destination, two rules:

* **An add-on's own remote** (:class:`Remote`): the add-on fixes its hosts (Amazon's three
  regional hosts, ``*.myshopify.com``, Sendcloud's panel). A base-URL or token-URL override
  read from a merchant's settings is honoured only on an installation that runs the
  emulators (``OMS_SANDBOXES=1``) or for a host the operator lists in ``OMS_OUTBOUND_ALLOW``
  (comma-separated ``host`` or ``host:port``; ``*.example.com`` for a domain's hosts).
  Anything else is refused before a request (and the merchant's credentials) leaves.
* **A URL the merchant typed** (a supplier's stock feed, a supplier's webhook): fetched
  through a transport that resolves the host and refuses to connect to any address of the
  server's own networks — private, loopback, link-local (cloud metadata at 169.254.169.254),
  multicast, reserved, unspecified, shared, IPv6 unique-local, and IPv4-mapped or 6to4
  forms of those. The check happens when the connection is opened, on the address actually
  used, so a DNS answer that changes between a check and the connection cannot slip
  through; redirects are followed one by one through the same transport. Sizes and times
  are bounded, and the merchant reads a plain French sentence, never the answer of an
  internal host (none is ever received).
"""
from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from flask import current_app, has_app_context

from .errors import OutboundRefused, RemoteError
from ..i18n import _, worded

REDIRECTS = (301, 302, 303, 307, 308)


# ----------------------------------------------------------------------------- policy
@dataclass(frozen=True)
class OutboundPolicy:
    """What the operator allows beyond each add-on's own hosts."""

    sandboxes: bool = False
    allow: frozenset[str] = frozenset()

    def allows(self, host: str | None, port: int | None = None) -> bool:
        """True when the operator listed this host (any port) or this ``host:port``."""
        if not host:
            return False
        name = host.lower().strip("[]").rstrip(".")
        for entry in self.allow:
            rule = entry.lower().strip()
            rule_host, _, rule_port = rule.rpartition(":") if _has_port(rule) else (rule, "", "")
            rule_host = rule_host.strip("[]")
            if rule_port and (port is None or str(port) != rule_port):
                continue
            if rule_host == name or (rule_host.startswith("*.") and name.endswith(rule_host[1:])):
                return True
        return False


def _has_port(rule: str) -> bool:
    if rule.startswith("["):
        return "]:" in rule
    return rule.count(":") == 1


def parse_allow(value: str | Iterable[str] | None) -> frozenset[str]:
    if not value:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(i.strip() for i in items if i and i.strip())


def current_policy() -> OutboundPolicy:
    """The policy of the running app (``SANDBOXES``, ``OUTBOUND_ALLOW``), or of the
    environment (``OMS_SANDBOXES``, ``OMS_OUTBOUND_ALLOW``) outside an app."""
    if has_app_context():
        cfg = current_app.config
        return OutboundPolicy(bool(cfg.get("SANDBOXES")), parse_allow(cfg.get("OUTBOUND_ALLOW")))
    return OutboundPolicy(os.environ.get("OMS_SANDBOXES", "") == "1", parse_allow(os.environ.get("OMS_OUTBOUND_ALLOW")))


# ----------------------------------------------------------------------------- addresses
def public_address(value: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for an address on the public Internet."""
    ip = ipaddress.ip_address(value) if isinstance(value, str) else value
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return public_address(embedded)
        if ip in _NAT64 or ip.scope_id:
            return public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)) if ip in _NAT64 else False
    if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified):
        return False
    return ip.is_global


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _loopback(value: str) -> bool:
    ip = ipaddress.ip_address(value)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _refused_internal(host: str) -> OutboundRefused:
    return OutboundRefused(
        _("L'adresse %(host)s mène au réseau interne du serveur : indiquez l'adresse publique du fournisseur.",
          host=host),
        f"{host} leads to the server's internal network: give the supplier's public address.")


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RemoteError(_("Le serveur %(host)s est introuvable : vérifiez l'adresse.", host=host),
                          message_en=f"Server {host} not found: check the address.", retryable=True) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_host(host: str, port: int, policy: OutboundPolicy | None = None) -> list[str]:
    """The addresses to connect to for ``host``, or OutboundRefused when any of them is
    internal (a host the operator allow-listed is not checked; with the emulators on,
    loopback is allowed: they are served by this very server)."""
    policy = policy or current_policy()
    addresses = resolve(host, port)
    if policy.allows(host, port):
        return addresses
    for address in addresses:
        if public_address(address.split("%", 1)[0]):
            continue
        if policy.sandboxes and _loopback(address.split("%", 1)[0]):
            continue
        raise _refused_internal(host)
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend that connects only to addresses :func:`check_host` accepts,
    and to exactly the address it checked."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        addresses = check_host(host, port, self.policy)
        return super().connect_tcp(addresses[0], port, timeout=timeout, local_address=local_address,
                                   socket_options=socket_options)


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose connections go through :class:`GuardedBackend`."""

    def __init__(self, policy: OutboundPolicy | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        ssl_context = httpx.create_ssl_context(verify=kwargs.get("verify", True))
        # the pool httpx builds, rebuilt with the guarded backend (httpx exposes no other hook)
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=20,
                                             max_keepalive_connections=5, keepalive_expiry=30.0,
                                             network_backend=GuardedBackend(policy or current_policy()))


# ----------------------------------------------------------------------------- an add-on's remote
@dataclass(frozen=True)
class Remote:
    """A remote service an add-on talks to: its name (logs, pool keys), the label the
    merchant reads, and the hosts it lives on (``*.`` for a domain's hosts)."""

    name: str
    label: str
    hosts: tuple[str, ...] = field(default_factory=tuple)

    def owns(self, host: str | None) -> bool:
        name = (host or "").lower().rstrip(".")
        return any(name == h or (h.startswith("*.") and name.endswith(h[1:]) and name != h[2:])
                   for h in self.hosts)

    def base_url(self, override: str | None, default: str, *, what: str = "l'API",
                 what_en: str = "API", policy: OutboundPolicy | None = None) -> str:
        """``default``, or the merchant's ``override`` when it is allowed: https on a host of
        the remote (or ``default``'s host), or a host the operator allows."""
        if not override or not override.strip():
            return default
        url = override.strip()
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise OutboundRefused(_("L'adresse de %(what)s %(label)s « %(url)s » n'est pas valide : elle doit "
                                    "commencer par https://.", what=worded(what, what_en), label=self.label,
                                    url=url),
                                  f"The {self.label} {what_en} address \"{url}\" is not valid: it must start "
                                  "with https://.")
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme == "https" and port in (None, 443) and (self.owns(host) or host == urlsplit(default).hostname):
            return url
        policy = policy or current_policy()
        if policy.sandboxes or policy.allows(host, port or (443 if parts.scheme == "https" else 80)):
            return url
        raise OutboundRefused(
            _("L'adresse de %(what)s %(label)s ne peut pas être remplacée par %(host)s : seule une installation "
              "de démonstration, ou un serveur que l'exploitant autorise (OMS_OUTBOUND_ALLOW), peut le faire. "
              "Videz ce champ.", what=worded(what, what_en), label=self.label, host=host),
            f"The {self.label} {what_en} address cannot be replaced by {host}: only a demo installation, or a "
            "server the operator allows (OMS_OUTBOUND_ALLOW), can do that. Clear this field.")


# ----------------------------------------------------------------------------- merchant URLs
@dataclass
class Fetched:
    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str


def check_url(url: str) -> str:
    """A merchant-supplied URL, refused unless http(s) with a host (its address is checked
    when the connection opens)."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused(_("L'adresse « %(text)s » n'est pas valide : elle doit commencer par https://.",
                                text=text),
                              f"The address \"{text}\" is not valid: it must start with https://.")
    try:
        parts.port
    except ValueError:
        raise OutboundRefused(_("L'adresse « %(text)s » a un port invalide.", text=text), f"The address \"{text}\" has an invalid "
                              "port.") from None
    return text


def guarded_client(timeout: float = 10.0, policy: OutboundPolicy | None = None) -> httpx.Client:
    """An httpx client for merchant URLs: guarded connections, no automatic redirects."""
    return httpx.Client(transport=GuardedTransport(policy), timeout=timeout, follow_redirects=False)


def fetch(url: str, *, method: str = "GET", content: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 10.0, total: float = 60.0, max_bytes: int = 20 * 1024 * 1024, redirects: int = 5,
          policy: OutboundPolicy | None = None, client: httpx.Client | None = None,
          what: str = "le serveur", what_en: str = "the server") -> Fetched:
    """Call a merchant-supplied URL safely: each hop's address checked, at most ``redirects``
    redirects (GET only), the body cut at ``max_bytes``, the whole exchange within ``total``
    seconds. Raises OutboundRefused or RemoteError with a plain sentence."""
    deadline = time.monotonic() + total
    current = check_url(url)
    own = client is None
    http = client or guarded_client(timeout, policy)
    try:
        for _hop in range(redirects + 1):
            try:
                with http.stream(method, current, content=content, headers=headers) as res:
                    if res.status_code in REDIRECTS and method == "GET" and res.headers.get("location"):
                        current = check_url(urljoin(current, res.headers["location"]))
                        continue
                    body = _read(res, max_bytes, deadline, what, what_en)
                    return Fetched(res.status_code, res.headers, body, current)
            except httpx.TimeoutException:
                raise RemoteError(_("%(what)s n'a pas répondu en %(timeout)s s.",
                                    what=worded(_cap(what), _cap(what_en)), timeout=format(timeout, 'g')),
                                  message_en=f"{_cap(what_en)} did not answer within {timeout:g} s.",
                                  retryable=True) from None
            except httpx.HTTPError as exc:
                raise RemoteError(_("Impossible de joindre %(what)s (%(host)s).", what=worded(what, what_en),
                                    host=urlsplit(current).hostname),
                                  message_en=f"Could not reach {what_en} ({urlsplit(current).hostname}).",
                                  raw=str(exc), retryable=True) from None
        raise RemoteError(_("Trop de redirections en suivant l'adresse de %(what)s.", what=worded(what, what_en)),
                          message_en=f"Too many redirects following {what_en}'s address.", retryable=False)
    finally:
        if own:
            http.close()


def _read(res: httpx.Response, max_bytes: int, deadline: float, what: str, what_en: str) -> bytes:
    declared = res.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _too_big(max_bytes, what, what_en)
    chunks: list[bytes] = []
    size = 0
    for chunk in res.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _too_big(max_bytes, what, what_en)
        if time.monotonic() > deadline:
            raise RemoteError(_("%(what)s envoie sa réponse trop lentement : téléchargement interrompu.",
                                what=worded(_cap(what), _cap(what_en))),
                              message_en=f"{_cap(what_en)} sends its answer too slowly: download stopped.",
                              retryable=True)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(max_bytes: int, what: str, what_en: str) -> RemoteError:
    size = f"{max_bytes / (1024 * 1024):g} Mo" if max_bytes >= 1024 * 1024 else f"{max_bytes} octets"
    size_en = f"{max_bytes / (1024 * 1024):g} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes} bytes"
    return RemoteError(_("La réponse de %(what)s dépasse %(size)s.", what=worded(what, what_en),
                         size=worded(size, size_en)), message_en=f"{_cap(what_en)}'s answer exceeds "
                       f"{size_en}.", retryable=False)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
