""""Tester la connexion" and the add-on's part of the demo."""
from __future__ import annotations

from typing import Any

from core.connectors import RetryPolicy
from core.types import ConnectionResult

from . import mapping
from .client import FnacError
from .runtime import client_from_settings
from core.i18n import _

#: the merchant waits on the settings page: one quick retry at most
QUICK = RetryPolicy(attempts=2, base=0.25, cap=1.0, max_wait=2.0)


def check_connection(shop, settings: dict[str, Any]) -> ConnectionResult:
    """One token, the carrier list and the number of offers: harmless reads."""
    brand = "Darty" if settings.get("brand") == "darty" else "Fnac"
    try:
        client = client_from_settings(settings, shop.id if shop is not None else None, timeout=8.0, retry=QUICK)
        client.token(fresh=True)
        carriers = mapping.read_carriers(client.carriers_query().root)
        offers = mapping.read_page(client.offers_query(page=1, results_count=1).root, "offer")
    except FnacError as exc:
        return ConnectionResult(False, str(exc))
    # stored on the shop and shown later: the French sentence, like the other channels' tests
    return ConnectionResult(True, _("Connecté à la boutique %(brand)s : %(total)s offre(s) en ligne, %(carriers)s "
                                    "transporteur(s) proposés par Fnac Darty.",
                                    brand=brand, total=offers.total, carriers=len(carriers)),
                            [c.name for c in carriers])


def demo(organization, shops, base_url: str) -> None:
    """A Darty shop next to the demo's Fnac one: the same partner id, its own shop id and key."""
    from core.extensions import db
    from core.jobs import enqueue
    from core.services import create_shop, save_settings

    from . import sandbox

    shop = create_shop(organization, "fnac", "Darty — démo", sync_mode="every_15_min")
    db.session.flush()
    save_settings(shop, "fnac", sandbox.darty_settings_for(base_url), {"key"})
    db.session.flush()
    # checked a few seconds after start-up, once the emulators answer
    enqueue("core.services.connection_test_job", shop.id, "fnac", shop_id=shop.id, delay=3,
            retries=5, intervals=(5, 10, 30, 60, 120))
