"""What needs the merchant now: the bell in the header, its page, and the owners' daily digest.

Each :class:`Alert` says what is wrong in the merchant's words and links to where it is
fixed. Core looks for shops in error, orders held for more than :data:`HELD_FOR`, products
sold out everywhere (no stock left in any warehouse, the suppliers' included, while they are
listed on a channel) and labels the carrier refused; add-ons add theirs through the
``collect_alerts`` hook (dropshipping: suppliers late with a purchase order).

The digest (:func:`send_digests`, a daily cron job) e-mails every active owner the alerts and
yesterday's figures through the installation's SMTP server (:mod:`core.mail`); without one,
nothing is sent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale, gettext as _, ngettext
from sqlalchemy import exists, func, select

from . import i18n, mail
from .addons import registry
from .extensions import db
from .models import (
    ConnectionStatus,
    Order,
    OrderStatus,
    Organization,
    Role,
    Shipment,
    ShipmentStatus,
    Shop,
    StockLevel,
    User,
    Variant,
    VariantBinding,
    utcnow,
)

log = logging.getLogger(__name__)
HELD_FOR = timedelta(hours=1)
SEVERITIES = ("error", "warning", "info")


@dataclass
class Alert:
    """One thing that needs the merchant: ``kind`` names it for tests and styles,
    ``severity`` is error | warning | info, ``title`` and ``detail`` are sentences,
    ``endpoint`` and ``args`` where it is fixed, ``action`` the button's words."""

    kind: str
    severity: str
    title: str
    detail: str = ""
    endpoint: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    action: str = ""

    def url(self, external: bool = False) -> str | None:
        if not self.endpoint:
            return None
        return url_for(self.endpoint, _external=external, **self.args)


def collect(org: Organization, now: datetime | None = None) -> list[Alert]:
    """Every alert of the organization, the gravest first."""
    now = now or utcnow()
    found: list[Alert] = []
    found += _shops_in_error(org)
    found += _held_orders(org, now)
    found += _labels_failed(org)
    found += _sold_out(org)
    for extra in registry().pm.hook.collect_alerts(organization=org, now=now):
        found += list(extra or [])
    return sorted(found, key=lambda a: SEVERITIES.index(a.severity) if a.severity in SEVERITIES else 9)


def _shops_in_error(org: Organization) -> list[Alert]:
    shops = db.session.scalars(select(Shop).where(Shop.organization_id == org.id,
                                                  Shop.status == ConnectionStatus.ERROR).order_by(Shop.name))
    return [Alert("shop_error", "error", _("La boutique « %(shop)s » ne se synchronise plus", shop=shop.name),
                  _("Ses commandes et son stock ne passent plus tant que ce n'est pas réglé."),
                  "integrations.sync_log", {"shop_id": shop.id}, _("Voir le journal et relancer"))
            for shop in shops]


def _held_orders(org: Organization, now: datetime) -> list[Alert]:
    count, oldest = db.session.execute(select(func.count(), func.min(Order.updated_at)).where(
        Order.organization_id == org.id, Order.status == OrderStatus.ON_HOLD,
        Order.updated_at < now - HELD_FOR)).one()
    if not count:
        return []
    return [Alert("orders_held", "warning",
                  ngettext("%(num)s commande attend depuis plus d'une heure",
                           "%(num)s commandes attendent depuis plus d'une heure", count),
                  _("SKU inconnu, rupture ou blocage manuel : chacune dit pourquoi et comment la débloquer."),
                  "ops.exceptions", {}, _("Débloquer"))]


def _labels_failed(org: Organization) -> list[Alert]:
    rows = db.session.execute(
        select(Shipment.id, Order.number).join(Order, Order.id == Shipment.order_id)
        .where(Order.organization_id == org.id, Shipment.status == ShipmentStatus.DRAFT,
               Shipment.label_error.is_not(None))
        .order_by(Shipment.id).limit(20)).all()
    return [Alert("label_failed", "error", _("L'étiquette de la commande %(number)s a été refusée", number=number),
                  _("Le transporteur n'a pas accepté le colis : corrigez l'adresse ou le poids, puis relancez."),
                  "picking.shipment", {"shipment_id": shipment_id}, _("Voir l'expédition"))
            for shipment_id, number in rows]


def _sold_out(org: Organization, limit: int = 20) -> list[Alert]:
    """Listed products (on at least one channel) with nothing left to sell anywhere."""
    available = (select(func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0))
                 .where(StockLevel.variant_id == Variant.id).scalar_subquery())
    listed = exists().where(VariantBinding.variant_id == Variant.id)
    rows = db.session.execute(
        select(Variant.id, Variant.product_id, Variant.sku, Variant.title)
        .where(Variant.organization_id == org.id, listed, available <= 0)
        .order_by(Variant.sku).limit(limit)).all()
    return [Alert("sold_out", "warning", _("%(sku)s est épuisé sur tous vos canaux", sku=sku),
                  _("%(title)s : plus rien à vendre nulle part. Réapprovisionnez ou ajustez le stock.",
                    title=title or sku),
                  "main.product", {"product_id": product_id}, _("Voir le produit"))
            for _id, product_id, sku, title in rows]


def count(org: Organization) -> int:
    """The number on the bell (computed once per request)."""
    from flask import g

    if "oms_alert_count" not in g:
        g.oms_alert_count = len(collect(org))
    return g.oms_alert_count


# ----------------------------------------------------------------------------- the digest
def yesterday_figures(org: Organization, now: datetime) -> dict[str, int]:
    since = now - timedelta(days=1)
    received = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.organization_id == org.id, Order.created_at >= since)) or 0
    shipped = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.organization_id == org.id, Order.shipped_at >= since)) or 0
    return {"received": received, "shipped": shipped}


def digest(org: Organization, owner: User, now: datetime | None = None) -> tuple[str, str]:
    """(subject, text) of one owner's digest, in their language."""
    now = now or utcnow()
    with force_locale(owner.locale or org.locale or "fr"):
        alerts = collect(org, now)
        figures = yesterday_figures(org, now)
        subject = (ngettext("%(org)s : %(num)s point à regarder aujourd'hui",
                            "%(org)s : %(num)s points à regarder aujourd'hui", len(alerts), org=org.name)
                   if alerts else _("%(org)s : tout va bien aujourd'hui", org=org.name))
        lines = [_("Bonjour %(name)s,", name=owner.name or owner.email), "",
                 _("Ces dernières 24 heures : %(received)s commande(s) reçue(s), %(shipped)s expédiée(s).",
                   **figures), ""]
        if alerts:
            lines.append(_("À regarder :"))
            for alert in alerts:
                lines.append(f"- {alert.title}")
                if alert.detail:
                    lines.append(f"  {alert.detail}")
                link = alert.url(external=True)
                if link:
                    lines.append(f"  {alert.action or _('Ouvrir')} : {link}")
        else:
            lines.append(_("Rien ne demande votre attention : boutiques connectées, aucune commande bloquée."))
        lines += ["", _("— OMS (ce résumé part chaque matin aux propriétaires du compte)")]
    return subject, "\n".join(lines)


def send_digests(now: datetime | None = None) -> str:
    """Cron job: every active owner of every organization gets the day's digest."""
    now = now or utcnow()
    if not mail.configured():
        return i18n._("aucun serveur d'e-mail configuré : résumé non envoyé")
    sent = failed = 0
    base = current_app.config.get("PUBLIC_URL") or "http://localhost"
    for org in db.session.scalars(select(Organization).order_by(Organization.id)):
        owners = db.session.scalars(select(User).where(User.organization_id == org.id, User.role == Role.OWNER,
                                                       User.active.is_(True))).all()
        for owner in owners:
            with current_app.test_request_context(base_url=base):
                subject, text = digest(org, owner, now)
            try:
                mail.send(owner.email, subject, text)
                sent += 1
            except mail.MailError as exc:
                failed += 1
                log.warning("digest for organization %s not sent: %s", org.id, exc)
    if failed:
        return i18n._("%(sent)s résumé(s) envoyé(s), %(failed)s en échec", sent=sent, failed=failed)
    return i18n._("%(sent)s résumé(s) envoyé(s)", sent=sent)
