"""A thin client for the Shopify Admin GraphQL API.

``POST {base}/admin/api/{version}/graphql.json`` with the ``X-Shopify-Access-Token`` header;
``base`` is ``https://{shop_domain}`` unless overridden (emulator, proxy).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_API_VERSION = "2026-10"
TIMEOUT = 10.0
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")

SHOP_QUERY = "{ shop { name myshopifyDomain currencyCode plan { publicDisplayName } } }"


class ShopifyError(Exception):
    """A failed Shopify call, with a message for the merchant (French)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ShopInfo:
    name: str
    domain: str
    currency: str
    plan: str


def normalize_domain(value: str) -> str:
    return (value or "").strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")


def check_domain(value: str) -> str:
    """The shop's ``*.myshopify.com`` domain, or ShopifyError (no request is ever made to
    another host with the merchant's token)."""
    domain = normalize_domain(value)
    if not SHOP_DOMAIN.match(domain):
        raise ShopifyError(f"« {value} » n'est pas un domaine Shopify valide : indiquez l'adresse "
                           "en .myshopify.com de la boutique (par exemple ma-boutique.myshopify.com).")
    return domain


class ShopifyClient:
    def __init__(self, shop_domain: str, access_token: str, api_version: str = DEFAULT_API_VERSION,
                 base_url: str | None = None, timeout: float = TIMEOUT) -> None:
        self.shop_domain = check_domain(shop_domain)
        if not access_token:
            raise ShopifyError("Le jeton d'accès Shopify n'est pas renseigné.")
        version = (api_version or DEFAULT_API_VERSION).strip()
        if not API_VERSION.match(version):
            raise ShopifyError(f"Version d'API « {version} » invalide : attendu AAAA-MM (par exemple "
                               f"{DEFAULT_API_VERSION}).")
        self.api_version = version
        self.base_url = (base_url or f"https://{self.shop_domain}").rstrip("/")
        self.access_token = access_token
        self.timeout = timeout

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/admin/api/{self.api_version}/graphql.json"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one GraphQL operation; return its ``data``."""
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        headers = {"X-Shopify-Access-Token": self.access_token, "Accept": "application/json"}
        try:
            res = httpx.post(self.endpoint, json=body, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException:
            raise ShopifyError(f"Shopify n'a pas répondu en {self.timeout:g} s ({self.shop_domain}).") from None
        except httpx.HTTPError as exc:
            raise ShopifyError(f"Impossible de joindre {self.base_url} : {exc}") from None
        self._raise_for_status(res)
        try:
            payload = res.json()
        except ValueError:
            raise ShopifyError("Réponse illisible de Shopify (JSON attendu).", res.status_code) from None
        errors = payload.get("errors")
        if errors:
            raise ShopifyError(_graphql_error(errors), res.status_code)
        return payload.get("data") or {}

    def shop_info(self) -> ShopInfo:
        shop = self.graphql(SHOP_QUERY).get("shop") or {}
        return ShopInfo(name=shop.get("name", ""), domain=shop.get("myshopifyDomain", ""),
                        currency=shop.get("currencyCode", ""),
                        plan=(shop.get("plan") or {}).get("publicDisplayName", ""))

    def _raise_for_status(self, res: httpx.Response) -> None:
        code = res.status_code
        if code < 400:
            return
        if code == 401:
            msg = ("Jeton d'accès refusé par Shopify (401) : vérifiez le jeton ou réinstallez "
                   "l'application sur la boutique.")
        elif code == 402:
            msg = "La boutique Shopify est gelée (402) : son abonnement Shopify n'est pas réglé."
        elif code == 403:
            msg = ("Accès refusé par Shopify (403) : le jeton n'a pas les autorisations (scopes) "
                   "nécessaires.")
        elif code == 404:
            msg = (f"Boutique ou version d'API introuvable (404) : vérifiez le domaine "
                   f"{self.shop_domain} et la version {self.api_version}.")
        elif code == 423:
            msg = "La boutique Shopify est verrouillée (423) : contactez le support Shopify."
        elif code == 429:
            msg = "Trop de requêtes vers Shopify (429) : réessayez dans quelques secondes."
        elif code >= 500:
            msg = f"Shopify est indisponible ({code}) : réessayez plus tard."
        else:
            msg = f"Réponse inattendue de Shopify ({code})."
        raise ShopifyError(msg, code)


def _graphql_error(errors: Any) -> str:
    if isinstance(errors, str):
        return f"Erreur Shopify : {errors}"
    first = errors[0] if isinstance(errors, list) and errors else {}
    code = (first.get("extensions") or {}).get("code") if isinstance(first, dict) else None
    if code == "THROTTLED":
        return "Shopify limite le débit (THROTTLED) : réessayez dans quelques secondes."
    message = first.get("message") if isinstance(first, dict) else str(first)
    return f"Erreur GraphQL Shopify : {message}"
