"""eBay's two signatures.

1. **HTTP message signatures** (RFC 9421), which eBay requires of calls made for EU/UK sellers
   (``issue_refund``, Post-Order cancellations): the key pair comes from the Key Management
   API ``createSigningKey`` (Ed25519; ``privateKey`` and ``publicKey`` in base64 DER, ``jwe``
   the key's reference sent as ``x-ebay-signature-key``). Headers sent:

   - ``Content-Digest: sha-256=:<base64 SHA-256 of the body>:`` (when there is a body);
   - ``x-ebay-signature-key: <jwe>``;
   - ``Signature-Input: sig1=("content-digest" "x-ebay-signature-key" "@method" "@path"
     "@authority");created=<unix time>``;
   - ``Signature: sig1=:<base64 Ed25519 signature of the signature base>:``.

   Source: developer.ebay.com/develop/guides/digital-signatures-for-apis; RFC 9421 §2.5
   (signature base) and RFC 9530 (Content-Digest).

2. **Notification signatures**: ``X-EBAY-SIGNATURE`` is base64 of a JSON object
   ``{"alg": "ecdsa", "kid": …, "signature": <base64 DER ECDSA>, "digest": "SHA1"|"SHA256"}``
   over the raw body, verified with the public key ``getPublicKey(kid)`` returns (PEM).
   Source: Commerce Notification API v1.6.2, getPublicKey; eBay's notification SDKs' README.
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

COMPONENTS_WITH_BODY = ("content-digest", "x-ebay-signature-key", "@method", "@path", "@authority")
COMPONENTS = ("x-ebay-signature-key", "@method", "@path", "@authority")


def content_digest(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def signature_params(components: tuple[str, ...], created: int) -> str:
    return "(" + " ".join(f'"{c}"' for c in components) + f");created={created}"


def signature_base(values: dict[str, str], components: tuple[str, ...], created: int) -> bytes:
    lines = [f'"{c}": {values[c]}' for c in components]
    lines.append(f'"@signature-params": {signature_params(components, created)}')
    return "\n".join(lines).encode()


def _values(method: str, url: str, jwe: str, digest: str | None) -> dict[str, str]:
    parts = urlsplit(url)
    values = {"x-ebay-signature-key": jwe, "@method": method.upper(), "@path": parts.path or "/",
              "@authority": parts.netloc.lower()}
    if digest is not None:
        values["content-digest"] = digest
    return values


def sign_request(method: str, url: str, body: bytes | None, key: dict[str, str], *, created: int) -> dict[str, str]:
    """The signature headers of one request (``key``: ``jwe`` and ``privateKey``)."""
    digest = content_digest(body) if body else None
    components = COMPONENTS_WITH_BODY if digest else COMPONENTS
    private = serialization.load_der_private_key(base64.b64decode(key["privateKey"]), password=None)
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise ValueError("only Ed25519 signing keys are supported")
    signature = private.sign(signature_base(_values(method, url, key["jwe"], digest), components, created))
    headers = {"x-ebay-signature-key": key["jwe"],
               "Signature-Input": f"sig1={signature_params(components, created)}",
               "Signature": f"sig1=:{base64.b64encode(signature).decode()}:"}
    if digest:
        headers["Content-Digest"] = digest
    return headers


def verify_request(method: str, url: str, headers: Any, body: bytes, public_key_b64: str) -> str | None:
    """The emulator's check of a signed request: None when valid, else eBay's reason."""
    jwe = headers.get("x-ebay-signature-key")
    if not jwe:
        return "missing-key"
    sig_input, sig = headers.get("Signature-Input") or "", headers.get("Signature") or ""
    if not sig_input.startswith("sig1=(") or not sig.startswith("sig1=:"):
        return "invalid"
    digest = headers.get("Content-Digest")
    if body and digest != content_digest(body):
        return "invalid"
    inner = sig_input[len("sig1=("):]
    listed, _, rest = inner.partition(")")
    components = tuple(c.strip('"') for c in listed.split())
    try:
        created = int(rest.split("created=", 1)[1].split(";", 1)[0])
    except (IndexError, ValueError):
        return "invalid"
    if set(components) != set(COMPONENTS_WITH_BODY if body else COMPONENTS):
        return "invalid"
    public = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    try:
        raw = base64.b64decode(sig[len("sig1=:"):].rstrip(":"))
        public.verify(raw, signature_base(_values(method, url, jwe, digest if body else None), components, created))
    except (InvalidSignature, ValueError):
        return "invalid"
    return None


def new_ed25519() -> tuple[str, str]:
    """(privateKey, publicKey) in base64 DER, as Key Management returns them."""
    private = ed25519.Ed25519PrivateKey.generate()
    priv = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    pub = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(priv).decode(), base64.b64encode(pub).decode()


# ----------------------------------------------------------------------------- notifications
def read_signature_header(header: str | None) -> dict[str, str] | None:
    """``X-EBAY-SIGNATURE`` decoded, or None when malformed."""
    if not header:
        return None
    try:
        data = json.loads(base64.b64decode(header.strip(), validate=True))
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not data.get("kid") or not data.get("signature"):
        return None
    return {k: str(v) for k, v in data.items()}


def verify_notification(body: bytes, header: dict[str, str], public_key: dict[str, str]) -> bool:
    """The ECDSA signature of the raw body with eBay's key (``getPublicKey``'s answer)."""
    if (public_key.get("algorithm") or "ECDSA").upper() != "ECDSA":
        return False
    digest = (public_key.get("digest") or header.get("digest") or "SHA1").upper().replace("-", "")
    algorithm = {"SHA1": hashes.SHA1(), "SHA256": hashes.SHA256()}.get(digest)
    if algorithm is None:
        return False
    try:
        key = serialization.load_pem_public_key(_pem(public_key.get("key") or "").encode())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        key.verify(base64.b64decode(header["signature"]), body, ec.ECDSA(algorithm))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _pem(text: str) -> str:
    text = text.strip()
    if "-----BEGIN" in text and "\n" not in text:  # eBay sends the PEM on one line
        head, _, rest = text.partition("-----BEGIN PUBLIC KEY-----")
        body, _, _ = rest.partition("-----END PUBLIC KEY-----")
        text = "-----BEGIN PUBLIC KEY-----\n" + body.strip() + "\n-----END PUBLIC KEY-----"
    return text


def challenge_response(code: str, verification_token: str, endpoint: str) -> str:
    """The destination check: hex SHA-256 of challenge code + verification token + endpoint."""
    digest = hashlib.sha256()
    digest.update(code.encode())
    digest.update(verification_token.encode())
    digest.update(endpoint.encode())
    return digest.hexdigest()
