"""A channel add-on whose one connector serves two remotes: two catalog cards."""
from core import hookimpl
from core.types import CatalogEntry


@hookimpl
def register_catalog_entries():
    return [CatalogEntry("north", "Gamma Nord", "Place de marché du nord", sector="home", sector_label="Maison",
                         initials="GN", color="#123456", details=(("Instance", "https://north.example"),)),
            CatalogEntry("south", "Gamma Sud", "Place de marché du sud", sector="sport", sector_label="Sport",
                         keywords=("vélo",))]


@hookimpl
def channel_sync_job(shop):
    return "tests.fake_addons.beta.jobs.sync"
