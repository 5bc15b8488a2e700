"""The demo organization loaded by ``make run`` (``oms demo``): products, stock, shops wired
to the add-ons' emulators, a few orders, and printed logins."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from .extensions import db
from .jobs import enqueue
from .models import (
    BinLocation,
    Order,
    OrderStatus,
    Organization,
    Product,
    Role,
    StockLevel,
    User,
    Variant,
    Warehouse,
    WarehouseKind,
    utcnow,
)
from .plans import ensure_plans
from .services import create_shop, save_settings, set_enabled
from .i18n import _

DEMO_ORG = "Maison Lumière (démo)"
DEMO_PASSWORD = "demo-oms-2026"
DEMO_USERS = (("demo@oms.example", Role.OWNER, "Camille Martin"),
              ("equipe@oms.example", Role.STAFF, "Léa Bernard"),
              ("picking@oms.example", Role.PICKER, "Hugo Petit"))

CATALOG = [
    ("T-shirt coton bio", "Coupe droite, 180 g/m².", "6109100010", "PT",
     [("S", "Blanc"), ("M", "Blanc"), ("L", "Blanc"), ("M", "Noir"), ("L", "Noir")], "19.90", "6.10", 180),
    ("Sweat à capuche", "Molleton gratté, coton recyclé.", "6110209100", "PT",
     [("M", "Gris chiné"), ("L", "Gris chiné"), ("XL", "Marine")], "49.00", "17.50", 520),
    ("Mug émaillé", "Émail sur acier, 35 cl.", "7323930000", "FR", [(None, "Crème"), (None, "Bleu nuit")],
     "14.50", "4.20", 260),
    ("Bougie parfumée Figuier", "Cire de soja, 40 h.", "3406000000", "FR", [(None, None)], "24.00", "7.80", 380),
    ("Tote bag lin", "Lin lavé, anses longues.", "4202921100", "FR", [(None, "Naturel"), (None, "Terracotta")],
     "22.00", "6.90", 150),
    ("Carnet A5 pointillé", "Papier 100 g, 192 pages.", "4820102000", "IT", [(None, None)], "12.90", "3.40", 300),
    ("Vase en grès", "Grès émaillé tourné main, 25 cm.", "6913900000", "FR", [(None, "Sable")], "39.00", "16.00",
     950),
]
#: products the merchant does not stock: a supplier ships them (no stock in the merchant's warehouse)
SUPPLIER_SHIPPED = frozenset({"Vase en grès"})
#: the demo's own orders, numbered #1001 to #1000 + SEEDED_ORDERS; a live demo shop whose
#: numbers look the same (Shopify's) continues after them
SEEDED_ORDERS = 12
#: the demo supplier's delivery: what is left below LOW is topped up to between the bounds
REPLENISH_LOW = 3
REPLENISH_TO = (15, 30)


def ean13(seed: int) -> str:
    """A valid EAN-13 in the 20-29 in-store range, check digit computed."""
    body = f"20{seed:010d}"[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def load_demo(reset: bool = False) -> str:
    ensure_plans()
    org = db.session.scalar(select(Organization).where(Organization.name == DEMO_ORG))
    if org is not None and not reset:
        return _summary(org, created=False)
    if org is not None:
        raise SystemExit("--reset on an existing database is not supported: remove instance/oms.db "
                         "(or drop the database) and run `make run` again")
    rng = random.Random(2026)
    org = Organization(name=DEMO_ORG, plan_code="free")
    db.session.add(org)
    db.session.flush()
    for email, role, name in DEMO_USERS:
        user = User(organization_id=org.id, email=email, name=name, role=role)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)

    paris = Warehouse(organization_id=org.id, code="PAR", name="Entrepôt Paris Nord", kind=WarehouseKind.OWN,
                      country="FR", priority=1)
    db.session.add(paris)
    db.session.flush()
    bins = [BinLocation(warehouse_id=paris.id, code=f"A-{aisle:02d}-{shelf:02d}",
                        sort_key=f"A{aisle:02d}{shelf:02d}") for aisle in range(1, 5) for shelf in range(1, 6)]
    db.session.add_all(bins)

    variants: list[Variant] = []
    seed = 1000
    for title, desc, hs, origin, opts, price, cost, grams in CATALOG:
        product = Product(organization_id=org.id, title=title, description=desc, tags=[])
        db.session.add(product)
        db.session.flush()
        base = "".join(w[0] for w in title.upper().split())[:4]
        for size, colour in opts:
            seed += 1
            options = {k: v for k, v in (("Taille", size), ("Couleur", colour)) if v}
            suffix = "-".join(x[:3].upper() for x in (colour, size) if x) or "STD"
            v = Variant(organization_id=org.id, product_id=product.id, sku=f"{base}-{suffix}", barcode=ean13(seed),
                        title=" / ".join(options.values()) or title, price=Decimal(price), currency="EUR",
                        options=options, weight_grams=grams, cost_price=Decimal(cost), hs_code=hs,
                        country_of_origin=origin)
            db.session.add(v)
            variants.append(v)
    db.session.flush()
    for i, v in enumerate(variants):
        if v.product.title in SUPPLIER_SHIPPED:
            continue
        db.session.add(StockLevel(variant_id=v.id, warehouse_id=paris.id, on_hand=rng.randint(3, 40),
                                  reserved=0, bin_location_id=bins[i % len(bins)].id))

    shops = _demo_shops(org)
    _addons_demo(org, shops)
    stocked = [v for v in variants if v.product.title not in SUPPLIER_SHIPPED]
    _demo_orders(org, shops, stocked, paris, rng)
    db.session.commit()
    return _summary(org, created=True)


def _demo_shops(org: Organization) -> list:
    """One shop per channel add-on, pointed at its emulator when the emulators are mounted."""
    from .sandboxes import base_url, sandboxes

    reg = current_app.extensions["oms_addons"]
    boxes = sandboxes(current_app)
    shops = []
    for addon in reg.loaded():
        if addon.kind != "channel":
            continue
        shop = create_shop(org, addon.name, f"{addon.title} — démo", sync_mode="every_15_min")
        db.session.flush()
        if addon.name in boxes:
            _configure_from_sandbox(shop, addon.name, boxes[addon.name], base_url(current_app, addon.name))
        shops.append(shop)
    for addon in reg.loaded():
        if addon.kind == "carrier" and shops:  # suppliers (dropship) need real SMTP details first
            for shop in shops:
                set_enabled(shop, addon.name, True)
                if addon.name in boxes:
                    _configure_from_sandbox(shop, addon.name, boxes[addon.name], base_url(current_app, addon.name))
    if not shops:  # no channel add-on installed: a manual shop still shows the order flow
        shops.append(None)
    return shops


def _addons_demo(org: Organization, shops: list) -> None:
    """Each add-on's own part of the demo (``Sandbox.demo``), e.g. a dropshipping supplier."""
    from .sandboxes import base_url, sandboxes

    real_shops = [s for s in shops if s is not None]
    for name, box in sorted(sandboxes(current_app).items()):
        if box.demo is not None:
            box.demo(org, real_shops, base_url(current_app, name))
            db.session.flush()


def _configure_from_sandbox(shop, addon_name: str, box, url: str) -> None:
    from wtforms import PasswordField

    settings = box.settings(url)
    form_cls = current_app.extensions["oms_addons"].call_one(addon_name, "register_settings_form")
    secret_fields: set[str] = set()
    if form_cls is not None:
        with current_app.test_request_context():
            secret_fields = {f.name for f in form_cls(meta={"csrf": False}) if isinstance(f, PasswordField)}
    save_settings(shop, addon_name, settings, secret_fields, by="démo")
    db.session.flush()
    # the check runs a few seconds after start-up, once the emulators answer
    enqueue("core.services.connection_test_job", shop.id, addon_name, shop_id=shop.id, delay=3,
            retries=5, intervals=(5, 10, 30, 60, 120))


def _demo_orders(org, shops, variants, warehouse, rng: random.Random) -> None:
    """A dozen orders through the real pipeline: routed, reserved, one held for an unknown SKU,
    a few picked and shipped (with their preparation times), one returned, one cancelled by
    the channel."""
    from . import returns
    from .intake import ingest
    from .models import ReturnReason, Shipment
    from .orders import ship, transition
    from .types import NormalizedAddress, NormalizedLine, NormalizedOrder

    real_shops = [s for s in shops if s is not None]
    if not real_shops:
        return
    names = ["Julie Moreau", "Thomas Laurent", "Emma Girard", "Lucas Roux", "Chloé Fournier", "Nathan Faure"]
    cities = [("75011", "Paris"), ("69003", "Lyon"), ("33000", "Bordeaux"), ("59000", "Lille"), ("13006", "Marseille")]
    now = utcnow()
    for n in range(1, SEEDED_ORDERS + 1):
        shop = real_shops[n % len(real_shops)]
        name = names[n % len(names)]
        postal, city = cities[n % len(cities)]
        picked = rng.sample(variants, rng.randint(1, 3))
        lines = [NormalizedLine(sku=v.sku, quantity=rng.randint(1, 2), unit_price=v.price, title=v.product.title)
                 for v in picked]
        if n == 7:  # a SKU the catalog does not know yet: held, with its reason
            lines.append(NormalizedLine(sku="MUG-OLD-01", quantity=1, unit_price=Decimal("9.90"), title="Ancien mug"))
        total = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
        placed = now - timedelta(hours=n * 5)
        data = NormalizedOrder(
            external_id=f"DEMO-{n:04d}", number=f"#{1000 + n}", placed_at=placed, updated_at=placed,
            currency="EUR", total=total, subtotal=total, lines=lines,
            customer_email=f"{name.split()[0].lower()}.{n}@exemple.fr", customer_name=name,
            shipping_address=NormalizedAddress(name=name, line1=f"{n * 7} rue de la République",
                                               postal_code=postal, city=city, country="FR"),
            service_level="express" if n % 5 == 0 else "standard",
            status="cancelled" if n == 11 else "open")
        order = db.session.get(Order, ingest(shop, data, source="import").order_id)
        if n in (2, 3, 4) and order.status == OrderStatus.ALLOCATED:
            shipment = Shipment(carrier="manual", service="Colissimo", tracking_number=f"6A{n:011d}",
                                tracking_url=f"https://www.laposte.fr/outils/suivre-vos-envois?code=6A{n:011d}",
                                cost=Decimal("5.90"), currency="EUR", weight_grams=500)
            ship(order, shipment)
            # the history of an order picked and packed in the past: first pick, packing, departure
            started = placed + timedelta(minutes=50 + 15 * n)
            order.picking_started_at = started
            order.packed_at = started + timedelta(minutes=8 + 3 * n)
            shipment.shipped_at = order.shipped_at = started + timedelta(minutes=12 + 4 * n)
            if n == 4:
                transition(order, OrderStatus.DELIVERED, reason=_("livrée"))
                first = order.lines[0]
                ret = returns.open_return(order, ReturnReason.SIZE, {first.id: 1},
                                          note="Le client préfère une autre taille.")
                returns.receive(ret)
                returns.inspect(ret, note="Article intact, étiquettes présentes.")
                returns.restock(ret, warehouse)
                returns.record_refund(ret, returns.refund_due(order, {first.id: 1}))
        elif n == 5 and order.status == OrderStatus.ALLOCATED:
            transition(order, OrderStatus.PICKING)


def replenish(now=None) -> str:
    """The demo supplier's delivery (every few hours while the emulators run): the demo
    warehouse's articles that are nearly sold out are received again, through traced stock
    receipts, so that the live shops always have something to sell."""
    from . import stock
    from .models import StockLevel

    org = db.session.scalar(select(Organization).where(Organization.name == DEMO_ORG))
    if org is None:
        return _("pas de démo")
    rng = random.Random()
    low = db.session.execute(
        select(StockLevel.variant_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(Warehouse.organization_id == org.id, Warehouse.kind == WarehouseKind.OWN,
               StockLevel.on_hand - StockLevel.reserved < REPLENISH_LOW)).all()
    for variant_id, warehouse_id, on_hand, reserved in low:
        target = rng.randint(*REPLENISH_TO)
        stock.adjust(org.id, variant_id, warehouse_id, target - (on_hand - reserved),
                     reason=_("Livraison fournisseur (démo)"), user_id=None)
    db.session.commit()
    return _("%(low)s article(s) réapprovisionné(s)", low=len(low))


def _summary(org: Organization, created: bool) -> str:
    lines = [("Démo chargée" if created else "Démo déjà présente") + f" : {org.name}",
             "Connexion (mot de passe pour les trois comptes : " + DEMO_PASSWORD + ")"]
    lines += [f"  {role.value:<7} {email}" for email, role, _n in DEMO_USERS]
    return "\n".join(lines)
