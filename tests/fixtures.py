"""Fixtures of core's own tests: core's pytest plugin plus the fake add-ons under
tests/fake_addons (loaded through ``ADDON_MODULES``, never through entry points)."""
from core.testing import *  # noqa: F401,F403  (re-exported so pytest registers the fixtures)
from core.testing import csrf_token  # noqa: F401


FAKE_ADDONS = {name: f"tests.fake_addons.{name}.hooks" for name in (
    "alpha", "beta", "raiser", "badmanifest", "syntaxmanifest", "missingdep", "cycle_a", "cycle_b",
    "importerror", "futurecore", "halfwriter")}
