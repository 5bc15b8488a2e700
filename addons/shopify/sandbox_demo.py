"""The demo's Shopify shop: the demo merchant's catalogue on sale, and customers ordering at a
believable pace (a few at start-up, then a couple an hour)."""
from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .sandbox_emulator import ShopifyEmulator


# ----------------------------------------------------------------------------- demo catalogue
def demo_sku(title: str, size: str | None, colour: str | None) -> str:
    """The demo merchant's SKU for a catalogue entry (same rule as the demo data)."""
    base = "".join(w[0] for w in title.upper().split())[:4]
    suffix = "-".join(x[:3].upper() for x in (colour, size) if x) or "STD"
    return f"{base}-{suffix}"


def demo_catalog() -> list[tuple[str, str, list[dict[str, Any]]]]:
    """The OMS demo's catalogue as Shopify products: (title, description, variants), the
    variants with the demo's SKUs and barcodes (no stock)."""
    from core.demo import CATALOG, ean13

    products = []
    seed = 1000
    for title, desc, hs, origin, opts, price, _cost, grams in CATALOG:
        variants = []
        for size, colour in opts:
            seed += 1
            options = {k: v for k, v in (("Taille", size), ("Couleur", colour)) if v}
            variants.append({"sku": demo_sku(title, size, colour), "price": price, "options": options,
                             "barcode": ean13(seed), "hs_code": hs, "origin": origin, "grams": grams})
        products.append((title, f"<p>{desc}</p>", variants))
    return products


def seed_demo_catalog(emu: ShopifyEmulator) -> None:
    """The demo merchant's shop: a warehouse fulfilling online orders, a store selling with
    POS, and the same catalogue as the OMS demo (so SKUs match)."""
    online = emu.add_location("Entrepôt Paris Nord", online=True)
    emu.add_location("Boutique Le Marais", online=False, city="Paris")
    for title, description, variants in demo_catalog():
        emu.add_product(title, [{**v, "stock": {online: 12}} for v in variants], description=description)


# ----------------------------------------------------------------------------- live customers (demo)
FIRST_NAMES = ("Julie", "Thomas", "Emma", "Lucas", "Chloé", "Nathan", "Manon", "Hugo", "Inès", "Louis")
LAST_NAMES = ("Moreau", "Laurent", "Girard", "Roux", "Fournier", "Faure", "Mercier", "Blanc", "Garnier")
MARKETS = (  # (country, city, zip, presentment currency, rate)
    ("FR", "Lyon", "69003", "EUR", "1"), ("FR", "Bordeaux", "33000", "EUR", "1"), ("FR", "Lille", "59000", "EUR", "1"),
    ("BE", "Bruxelles", "1000", "EUR", "1"), ("CH", "Genève", "1201", "CHF", "0.94"),
    ("GB", "London", "SW1A 1AA", "GBP", "0.85"), ("US", "New York", "10001", "USD", "1.08"),
)


class Customers:
    """A background thread placing customer orders on in-stock variants (the demo's live
    shop) at a believable pace: ``burst`` orders ``burst_interval`` seconds apart at start-up,
    then one every ``interval`` seconds on average (between half and one and a half times it)."""

    def __init__(self, emu: ShopifyEmulator, interval: float = 1800.0, seed: int | None = None,
                 opening: list[str] | None = None, burst: int = 3, burst_interval: float = 8.0) -> None:
        self.emu = emu
        self.interval = interval
        self.burst = burst
        self.burst_interval = burst_interval
        self.rng = random.Random(seed)
        #: the SKUs the first customer buys (one each), when given
        self.opening = list(opening or [])
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="shopify-emulator-customers", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def next_delay(self, placed: int) -> float:
        """Seconds until the next order, ``placed`` orders after start-up."""
        if placed < self.burst:
            return self.burst_interval
        return self.interval * self.rng.uniform(0.5, 1.5)

    def _loop(self) -> None:
        placed = 0
        next_order = time.monotonic() + self.next_delay(placed)
        while not self.stop_event.wait(1.0):
            self.emu.flush()
            if time.monotonic() >= next_order:
                self.place_one()
                placed += 1
                next_order = time.monotonic() + self.next_delay(placed)

    def place_one(self) -> dict[str, Any] | None:
        emu = self.emu
        location = emu.online_location()
        with emu.lock:
            in_stock = [v["sku"] for v in emu.variants.values() if v["sku"] and emu.available(v["sku"], location) > 0]
        if not in_stock:
            return None
        opening = [sku for sku in self.opening if sku in in_stock]
        self.opening = []
        if opening:
            lines = [(sku, 1) for sku in opening]
        else:
            picks = self.rng.sample(in_stock, min(len(in_stock), self.rng.choice((1, 1, 2))))
            lines = [(sku, 1 if emu.available(sku, location) < 2 else self.rng.choice((1, 1, 2))) for sku in picks]
        country, city, zip_code, currency, rate = self.rng.choice(MARKETS)
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        local = f"{first.lower().replace('é', 'e').replace('è', 'e')}.{last.lower()}{self.rng.randint(1, 99)}"
        email = f"{local}@exemple.fr"
        return emu.place_order(lines, email=email, customer=(first, last), presentment_currency=currency, rate=rate,
                               address={"city": city, "zip": zip_code, "country_code": country,
                                        "country": country, "address1": f"{self.rng.randint(1, 90)} rue de la Paix"})
