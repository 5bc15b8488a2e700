"""The help centre: ``/help`` (the index, the start checklist and search), core's pages, and a
page per add-on from its readme."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import helpcentre
from ..addons import registry

bp = Blueprint("help", __name__, url_prefix="/help")

STEPS = {
    "shop": (_l("Connecter votre boutique"), _l("Intégrations › Marketplace, votre canal, puis « Ajouter une boutique ».")),
    "products": (_l("Avoir vos produits dans OMS"), _l("Importés du canal, créés un par un ou par un fichier CSV.")),
    "order": (_l("Recevoir une première commande"), _l("Passez une commande test sur votre boutique : elle arrive ici.")),
    "carrier": (_l("Connecter un transporteur"), _l("SendCloud ou un autre transporteur du catalogue, connexion testée.")),
    "label": (_l("Expédier un premier colis"), _l("Préparez la commande test : l'étiquette et le suivi partent à l'emballage.")),
    "team": (_l("Inviter votre équipe"), _l("Un rôle par personne : équipe, préparateur ou propriétaire.")),
    "second_channel": (_l("Ajouter un deuxième canal"), _l("Amazon, eBay, une marketplace : un seul stock pour tous.")),
}


def _lang() -> str:
    return str(get_locale() or "fr")


def _addon_pages() -> list[helpcentre.Page]:
    pages = [helpcentre.addon_page(a, _lang()) for a in sorted(registry().loaded(), key=lambda a: a.title.lower())]
    return [p for p in pages if p is not None]


@bp.route("/")
@login_required
def index():
    query = (request.args.get("q") or "").strip()[:200]
    pages = list(helpcentre.core_pages(_lang()))
    addons = _addon_pages()
    results = helpcentre.search(query, pages + addons) if query else None
    steps = helpcentre.checklist(current_user.organization)
    return render_template("help/index.html", pages=pages, addons=addons, query=query, results=results,
                           steps=steps, labels=STEPS)


@bp.route("/<slug>")
@login_required
def page(slug: str):
    found = helpcentre.core_page(slug, _lang())
    if found is None:
        abort(404)
    steps = helpcentre.checklist(current_user.organization) if slug == "demarrer" else None
    return render_template("help/page.html", page=found, pages=helpcentre.core_pages(_lang()), steps=steps,
                           labels=STEPS)


@bp.route("/addons/<name>")
@login_required
def addon(name: str):
    a = registry().get(name)
    found = helpcentre.addon_page(a, _lang()) if a is not None and a.ok else None
    if found is None:
        abort(404)
    return render_template("help/page.html", page=found, pages=helpcentre.core_pages(_lang()), steps=None,
                           labels=STEPS, addon=a)
