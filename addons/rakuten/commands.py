"""``oms rakuten-versions``: the version each Rakuten action is called with (configuration)."""
from __future__ import annotations

import click

from core.extensions import db

from .versions import ACTIONS, current_versions, set_version


def register(cli: click.Group) -> None:
    @cli.command("rakuten-versions")
    @click.option("--set", "assignments", multiple=True, metavar="ACTION=VERSION",
                  help="Use VERSION (yyyy-mm-dd) for ACTION, e.g. --set getnewsales=2017-08-07.")
    @click.option("--reset", "resets", multiple=True, metavar="ACTION", help="Back to the documented default.")
    def rakuten_versions(assignments: tuple[str, ...], resets: tuple[str, ...]) -> None:
        """List (or change) the version sent with each Rakuten web-service action."""
        import re

        from .models import RakutenActionVersion

        for assignment in assignments:
            action, _, version = assignment.partition("=")
            if action not in ACTIONS or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
                raise click.BadParameter(f"{assignment!r}: ACTION=yyyy-mm-dd with ACTION among {', '.join(ACTIONS)}")
            set_version(action, version)
        for action in resets:
            row = db.session.get(RakutenActionVersion, action)
            if row is not None:
                row.version = None
        db.session.commit()
        latest = {r.action: r.latest_seen for r in db.session.scalars(db.select(RakutenActionVersion))}
        for action, version in sorted(current_versions().items()):
            default = ACTIONS[action].version
            note = "" if version == default else f" (défaut {default})"
            if latest.get(action) and latest[action] != version:
                note += f" — Rakuten annonce {latest[action]}"
            click.echo(f"{action:26} {version}{note}")
