"""Chronopost pages: the shipments whose creation answer was lost, to confirm by hand (core's
page for carriers with no look-up by reference)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.views import lost_labels

from .labels import ADDON, confirm_lost
from .models import ChronopostSkybill

bp = lost_labels.blueprint(
    ADDON, "Chronopost", ChronopostSkybill,
    _l("Chronopost n'a pas répondu à ces demandes : vérifiez dans votre espace Chronopost si l'expédition existe "
       "(sa référence commence par OMS), puis dites-le ici. Aucune étiquette n'est achetée deux fois."),
    confirm_lost)
